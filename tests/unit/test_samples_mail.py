"""The generated e-mails as a reader sees them: stdlib `email` (policy=default) parses each into body
lines and attachments, and an independent mini-checker written from tonk-form.md / tonk-policy.md
finds in each application exactly the fault the generator recorded (none for a valid one).

The mini-checker lives here on purpose: it is a second reading of the spec, not the robot's code.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from pypdf import PdfReader
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from sandbox.samples import generate
from sandbox.samples.__main__ import main
from sandbox.samples.form import LABELS

KEY_BY_LABEL = {label: key for key, label in LABELS.items()}
AMOUNT_KEYS = ("inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "huur", "huurtoeslag", "hypotheekrente",
               "hypotheekaflossing", "energie", "water", "vermogen")
HOUSING = ("huur", "hypotheekrente", "hypotheekaflossing", "energie", "water")
REQUIRED = ("bsn", "voornamen", "achternaam", "geboortedatum", "straat", "huisnummer", "postcode", "woonplaats",
            "email", "woonsituatie", "inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "iban", "rekeninghouder",
            "maanden", "verklaring")
PARTNER = ("partner_bsn", "partner_voornamen", "partner_achternaam", "partner_geboortedatum")
MONTHS = {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december"}


@pytest.fixture(scope="module")
def samples():
    return generate(60, 4242, pdf_forms=3, scans=2, others=4)


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def read_portal_mail(msg: EmailMessage) -> tuple[dict[str, str], list[tuple[str, str]], str]:
    """(fields by key, [(document type, filename)], reference) from the text/plain body."""
    body = msg.get_body(("plain",)).get_content()
    fields: dict[str, str] = {}
    documents = []
    reference = ""
    for line in body.splitlines():
        label, sep, value = line.partition(":")
        if not sep:
            continue
        value = value.strip()
        if label.startswith("Bijlage "):
            documents.append((label.removeprefix("Bijlage "), value))
        elif label == "Our reference":
            reference = value
        elif label in KEY_BY_LABEL:
            fields[KEY_BY_LABEL[label]] = value
    return fields, documents, reference


def amount(text: str) -> str | None:
    """The spec's separator rule, written out again: "1234.56" or None when unreadable."""
    t = text.replace("\u00a0", " ").strip()
    t = re.sub(r"^(€|EUR)\s*", "", t)
    t = re.sub(r",-$", ",00", t)
    patterns = [
        (r"\d+", lambda s: s + ".00"),
        (r"\d{1,3}(\.\d{3})+", lambda s: s.replace(".", "") + ".00"),
        (r"\d{1,3}(\.\d{3})*,\d{1,2}", lambda s: s.replace(".", "").replace(",", ".")),
        (r"\d+,\d{1,2}", lambda s: s.replace(",", ".")),
        (r"\d{1,3}(,\d{3})+\.\d{1,2}", lambda s: s.replace(",", "")),
        (r"\d+\.\d{1,2}", lambda s: s),
    ]
    for pattern, convert in patterns:
        if re.fullmatch(pattern, t):
            units, _, cents = convert(t).partition(".")
            return f"{int(units)}.{cents.ljust(2, '0')}"
    return None


def day_first(text: str) -> date | None:
    if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})", text):
        return date(int(m[3]), int(m[2]), int(m[1]))
    return None


def bsn(text: str) -> str:
    digits = re.sub(r"[ .]", "", text)
    return digits.zfill(9) if len(digits) == 8 else digits


def check(fields: dict[str, str], documents: list[tuple[str, str]], received: date) -> list[dict[str, str]]:
    """Every intake finding of tonk-policy.md this mini-checker can see, as {"code", "field"}."""
    found = []
    filled = {k: v for k, v in fields.items() if v}
    for key in REQUIRED:
        if key not in filled:
            found.append({"code": "required_missing", "field": key})
    partner = filled.get("woonsituatie") == "gehuwd of samenwonend"
    for key in PARTNER if partner else ():
        if key not in filled:
            found.append({"code": "partner_missing", "field": key})
    for key in ("bsn", "partner_bsn"):
        if key in filled and not stdnum_bsn.is_valid(bsn(filled[key])):
            found.append({"code": "bsn_invalid", "field": key})
    if "iban" in filled and not stdnum_iban.is_valid(filled["iban"]):
        found.append({"code": "iban_invalid", "field": "iban"})
    if "postcode" in filled and not re.fullmatch(r"[1-9]\d{3} ?(?![sS][aAdDsS])[a-zA-Z]{2}", filled["postcode"]):
        found.append({"code": "postcode_invalid", "field": "postcode"})
    if "huisnummer" in filled and not re.fullmatch(r"\d{1,5}", filled["huisnummer"]):
        found.append({"code": "housenumber_invalid", "field": "huisnummer"})
    if "email" in filled and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", filled["email"]):
        found.append({"code": "email_invalid", "field": "email"})
    for key in ("geboortedatum", "partner_geboortedatum"):
        if key in filled and day_first(filled[key]) is None:
            found.append({"code": "date_unreadable", "field": key})
    born = day_first(filled.get("geboortedatum", ""))
    if born and (received.year - born.year - ((received.month, received.day) < (born.month, born.day))) < 18:
        found.append({"code": "applicant_under_18", "field": "geboortedatum"})
    readable = {}
    for key in AMOUNT_KEYS:
        if key in filled:
            value = amount(filled[key])
            if value is None:
                found.append({"code": "amount_unreadable", "field": key})
            else:
                readable[key] = value
    if not any(float(readable.get(k, "0")) > 0 for k in HOUSING):
        found.append({"code": "no_housing_costs", "field": "woonkosten"})
    if "maanden" in filled:
        months = [m.strip().lower() for m in filled["maanden"].split(",")]
        if not set(months) <= MONTHS or not set(months) & {"juli", "augustus", "september"}:
            found.append({"code": "months_outside_period", "field": "maanden"})
    if "verklaring" in filled and filled["verklaring"] != "ja":
        found.append({"code": "declaration_not_confirmed", "field": "verklaring"})
    if received > date(2021, 10, 31):
        found.append({"code": "received_after_deadline", "field": "received"})
    types = {t for t, _ in documents}
    required_docs = ["identiteitsbewijs", "bankpas", "inkomen oud", "inkomen nieuw"]
    if partner:
        required_docs.append("identiteitsbewijs partner")
    for doc_type in required_docs:
        if doc_type not in types:
            found.append({"code": "document_missing", "field": doc_type})
    return found


def portal_mails(samples):
    return [s for s in samples if s.kind == "application"]


def test_each_application_has_exactly_its_recorded_fault(samples):
    for sample in portal_mails(samples):
        msg = parse(sample.message)
        fields, documents, _ = read_portal_mail(msg)
        received = date.fromisoformat(sample.expectation["received_date"])
        assert check(fields, documents, received) == sample.expectation["codes"], sample.reference


def test_body_has_the_header_line_reference_and_labels_in_form_order(samples):
    for sample in portal_mails(samples):
        msg = parse(sample.message)
        assert msg["Subject"] == f"[Open Forms] TONK aanvraag - submission {sample.reference}"
        assert msg["To"] == "tonk@gemeente.example"
        assert msg["Message-ID"] == sample.message_id
        body = msg.get_body(("plain",)).get_content()
        first = body.splitlines()[0]
        submitted = sample.received
        assert first == f"Submission details for TONK aanvraag (submitted on {submitted:%d-%m-%Y %H:%M})"
        fields, _, reference = read_portal_mail(msg)
        assert reference == sample.reference
        assert fields == sample.expectation["raw"]  # every typed value, in form order
        assert list(fields) == [k for k in LABELS if k in fields]


def test_parsed_values_match_the_typed_ones(samples):
    for sample in portal_mails(samples):
        raw, expected = sample.expectation["raw"], sample.expectation["fields"]
        for key in AMOUNT_KEYS:
            if key in expected:
                assert amount(raw[key]) == expected[key], (key, raw[key])
        if "geboortedatum" in expected:
            assert day_first(raw["geboortedatum"]).isoformat() == expected["geboortedatum"]
        if "bsn" in expected:
            assert bsn(raw["bsn"]) == expected["bsn"]
        assert re.sub(r"\s", "", raw["iban"]).upper() == expected["iban"]
        assert [m.strip().lower() for m in raw["maanden"].split(",")] == expected["maanden"]


def test_attachments_match_the_recorded_documents(samples):
    for sample in portal_mails(samples):
        msg = parse(sample.message)
        got = []
        for part in msg.iter_attachments():
            data = part.get_content()
            got.append({"filename": part.get_filename(), "sha256": hashlib.sha256(data).hexdigest(),
                        "size": len(data)})
        recorded = [{k: d[k] for k in ("filename", "sha256", "size")} for d in sample.expectation["documents"]]
        assert got == recorded
        _, documents, _ = read_portal_mail(msg)
        assert documents == [(d["type"], d["filename"]) for d in sample.expectation["documents"]]


def test_documents_are_small_pdfs_and_images(samples):
    for sample in portal_mails(samples):
        for doc in sample.documents:
            assert 500 < doc.size < 40_000
            magic = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG"}
            assert doc.data.startswith(magic[doc.content_type])
    kinds = {d.content_type for s in portal_mails(samples) for d in s.documents}
    assert kinds == {"application/pdf", "image/jpeg", "image/png"}


def test_pdf_documents_are_readable():
    sample = generate(1, 8, others=0)[0]
    pdf = next(d for d in sample.documents if d.content_type == "application/pdf")
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    assert reader.metadata.title


def test_names_with_accents_survive(samples):
    accented = 0
    for sample in portal_mails(samples):
        msg = parse(sample.message)
        fields, _, _ = read_portal_mail(msg)
        for key in ("voornamen", "achternaam", "partner_voornamen", "partner_achternaam", "rekeninghouder"):
            if key in sample.expectation["fields"]:
                assert fields[key] == sample.expectation["fields"][key]
                accented += not fields[key].isascii()
        for part in msg.iter_attachments():
            accented += not part.get_filename().isascii()
    assert accented > 10
    everything = json.dumps([s.expectation["fields"] for s in samples], ensure_ascii=False)
    assert any(name in everything for name in ("Çelik", "d'Hondt", "Öztürk-de Vries", "Yılmaz", "Şahin"))


def test_non_ascii_filenames_are_rfc2231_encoded_or_raw_utf8(samples):
    styles = set()
    for sample in portal_mails(samples):
        names = [p.get_filename() for p in parse(sample.message).iter_attachments()]
        if all(name.isascii() for name in names):
            continue
        styles.add("rfc2231" if b"filename*=utf-8''" in sample.message else "utf-8")
    assert "rfc2231" in styles


def test_some_messages_have_an_html_alternative(samples):
    with_html = [s for s in portal_mails(samples) if parse(s.message).get_body(("html",)) is not None]
    assert 0 < len(with_html) < len(portal_mails(samples))
    html = parse(with_html[0].message).get_body(("html",)).get_content()
    assert with_html[0].reference in html


def test_pdf_form_mails_carry_fillable_fields_named_by_key(samples):
    forms = [s for s in samples if s.kind == "pdf_form"]
    assert len(forms) == 3
    for sample in forms:
        msg = parse(sample.message)
        attachments = list(msg.iter_attachments())
        form_part = attachments[0]
        assert form_part.get_filename() == sample.expectation["form"]["filename"]
        reader = PdfReader(io.BytesIO(form_part.get_content()))
        values = {k: v.get("/V") for k, v in reader.get_fields().items() if v.get("/V")}
        assert values == {k: v for k, v in sample.expectation["raw"].items() if v}
        assert set(reader.get_fields()) == set(LABELS)  # one field per form key
        rest = [(p.get_filename(), hashlib.sha256(p.get_content()).hexdigest()) for p in attachments[1:]]
        assert rest == [(d["filename"], d["sha256"]) for d in sample.expectation["documents"]]


def test_scans_have_no_form_fields(samples):
    scans = [s for s in samples if s.kind == "scan"]
    assert len(scans) == 2
    for sample in scans:
        form_part = next(iter(parse(sample.message).iter_attachments()))
        data = form_part.get_content()
        if form_part.get_content_type() == "application/pdf":
            assert not PdfReader(io.BytesIO(data)).get_fields()
        else:
            assert form_part.get_content_type() == "image/jpeg"


def test_portal_submission_json_matches_the_mail_content(tmp_path):
    code = main(["generate", "--count", "6", "--seed", "31", "--portal-dir", str(tmp_path / "portal"),
                 "--maildir", str(tmp_path / "M"), "--duplicates", "1", "--expect", str(tmp_path / "e.json")])
    assert code == 0
    expected = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["samples"]
    by_channel = {tuple(s["channels"]) for s in expected}
    assert by_channel == {("email",), ("portal",), ("portal", "email")}
    portal = [s for s in expected if "portal" in s["channels"]]
    assert len(portal) == 3  # round(6 * 0.5) = 3 through the portal, one of them also by e-mail
    for sample in portal:
        submission = json.loads((tmp_path / "portal" / "submissions" / f"{sample['reference']}.json")
                                .read_text(encoding="utf-8"))
        assert submission["form"] == "tonk"
        assert submission["data"] == sample["raw"]
        assert submission["submitted_at"] == sample["received"]
        for attachment, doc in zip(submission["attachments"], sample["documents"], strict=True):
            data = (tmp_path / "portal" / attachment["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == doc["sha256"] == attachment["sha256"]
            assert (attachment["filename"], attachment["document_type"], attachment["size"]) == (
                doc["filename"], doc["type"], doc["size"])
            assert attachment["url"] == f"/api/v1/submissions/{sample['reference']}/attachments/{attachment['id']}"
