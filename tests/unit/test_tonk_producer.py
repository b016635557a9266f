"""The TONK producer mapping: portal e-mails to work items (specs/tonk-form.md, channel 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from types import SimpleNamespace

import pytest

from common.config import Settings
from common.sources.base import Incoming
from tonk_bot.producer import mail_reference, to_work_item

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def portal_mail(body_lines: list[str], attachments: list[tuple[str, bytes, str]],
                subject: str = "[Open Forms] TONK aanvraag - submission OF-7QK2MZ") -> bytes:
    msg = EmailMessage()
    msg["From"] = "noreply@formulieren.gemeente.example"
    msg["To"] = "tonk@gemeente.example"
    msg["Subject"] = subject
    msg["Date"] = "Thu, 12 Aug 2021 14:05:00 +0200"
    msg["Message-ID"] = "<sub-OF-7QK2MZ@formulieren.gemeente.example>"
    msg.set_content("\n".join(body_lines))
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


BODY = [
    "Submission details for TONK aanvraag (submitted on 12-08-2021 14:03)",
    "Our reference: OF-7QK2MZ",
    "",
    "BSN: 111222333",
    "Voornamen: Özlem",
    "Tussenvoegsel: ",
    "Achternaam: d'Hondt",
    "Netto inkomen huishouden januari 2020: € 2.000,00",
    "Huur per maand: 650",
    "Bijlage identiteitsbewijs: paspoort Özlem.pdf",
    "Bijlage bankpas: bankpas.pdf",
]


def ctx() -> SimpleNamespace:
    return SimpleNamespace(settings=Settings())


def test_a_portal_mail_becomes_an_application_with_fields_documents_and_date_received() -> None:
    raw = portal_mail(BODY, [("paspoort Özlem.pdf", PDF, "application/pdf"), ("bankpas.pdf", PDF, "application/pdf")])
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k1", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is None
    assert (item.reference, item.channel, item.source) == ("OF-7QK2MZ", "e-formulier", "postbus")
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Özlem", "achternaam": "d'Hondt",
                                      "inkomen_peilmaand_oud": "€ 2.000,00", "huur": "650"}
    # submitted on 12-08-2021 14:03 Amsterdam (CEST, +02:00) = 12:03 UTC
    assert item.received_at == datetime(2021, 8, 12, 12, 3, tzinfo=UTC)
    assert item.payload["received"] == "2021-08-12"
    assert [(d.role, d.document_type, d.filename, d.content_type) for d in item.documents] == [
        ("raw", None, "origineel.eml", "message/rfc822"),
        ("attachment", "identiteitsbewijs", "paspoort Özlem.pdf", "application/pdf"),
        ("attachment", "bankpas", "bankpas.pdf", "application/pdf")]
    assert item.documents[0].data == raw


def test_another_form_is_not_an_application_and_keeps_the_original() -> None:
    raw = portal_mail(["Submission details for Melding openbare ruimte (submitted on 12-08-2021 14:03)",
                       "Our reference: OF-ABCDEF"], [],
                      subject="[Open Forms] Melding openbare ruimte - submission OF-ABCDEF")
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["not_an_application"]
    assert "Melding openbare ruimte" in item.failure.message
    assert item.reference == mail_reference("sub-OF-7QK2MZ@formulieren.gemeente.example", raw)
    assert [d.role for d in item.documents] == ["raw"]


def test_a_citizens_question_is_for_a_human_and_its_reference_hashes_the_message_id() -> None:
    msg = EmailMessage()
    msg["Subject"] = "Vraag over mijn aanvraag"
    msg["Message-ID"] = "<vraag-1@example.org>"
    msg.set_content("Goedemiddag, wanneer hoor ik iets?")
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=msg.as_bytes()), ctx())  # type: ignore[arg-type]
    # sha256("vraag-1@example.org")[:12]
    import hashlib
    assert item.reference == "MAIL-" + hashlib.sha256(b"vraag-1@example.org").hexdigest()[:12]
    assert item.failure is not None and item.failure.codes == ["not_an_application"]


def test_a_refused_attachment_sends_the_application_to_a_human_with_the_reason() -> None:
    raw = portal_mail(BODY, [("paspoort Özlem.pdf", PDF, "application/pdf"),
                             ("bankpas.pdf", b"PK\x03\x04zip", "application/pdf"),  # claims PDF, is a zip
                             ("leeg.pdf", b"", "application/pdf")])
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["attachment_refused"]
    assert [(f["value"], f["code"]) for f in item.failure.findings] == [("bankpas.pdf", "attachment_refused"),
                                                                        ("leeg.pdf", "attachment_refused")]
    assert "application/zip" in item.failure.findings[0]["message"]
    # the refused files are still kept with the item, for the caseworker
    assert [d.filename for d in item.documents] == ["origineel.eml", "paspoort Özlem.pdf", "bankpas.pdf", "leeg.pdf"]


# -- channel 2: portal API submissions --------------------------------------------------------------

def submission(**overrides: object) -> dict[str, object]:
    sub: dict[str, object] = {
        "reference": "OF-7QK2MZ", "form": "tonk", "submitted_at": "2021-08-12T23:30:00+02:00",
        "data": {"bsn": "111222333", "voornamen": "Özlem", "tussenvoegsel": "", "huur": "650", "verklaring": True,
                 "extra_veld": "x"},
        "attachments": []}
    sub.update(overrides)
    return sub


def test_a_portal_submission_becomes_an_application_received_on_its_local_date() -> None:
    from common.sources.base import Attachment

    files = [Attachment("paspoort.pdf", PDF, "application/pdf", document_type="Identiteitsbewijs"),
             Attachment("bankpas.pdf", PDF, "application/pdf", document_type="bankpas")]
    raw = b'{"reference": "OF-7QK2MZ"}'
    item = to_work_item(Incoming(source="portaal", kind="submission", key="OF-7QK2MZ", raw=raw, data=submission(),
                                 attachments=files, delivered_at=datetime(2021, 8, 12, 21, 30, tzinfo=UTC)), ctx())  # type: ignore[arg-type]
    assert (item.reference, item.channel, item.failure) == ("OF-7QK2MZ", "e-formulier", None)
    # empty values are left out; a JSON true is the form's "ja"; unknown keys are kept aside, not guessed
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Özlem", "huur": "650", "verklaring": "ja"}
    assert item.payload["unknown_fields"] == ["extra_veld"]
    # 23:30 in Amsterdam on 12 August (CEST) is 21:30 UTC: still the 12th where it counts
    assert item.received_at == datetime(2021, 8, 12, 21, 30, tzinfo=UTC)
    assert item.payload["received"] == "2021-08-12"
    assert [(d.role, d.document_type, d.filename, d.content_type) for d in item.documents] == [
        ("raw", None, "origineel.json", "application/json"),
        ("attachment", "identiteitsbewijs", "paspoort.pdf", "application/pdf"),
        ("attachment", "bankpas", "bankpas.pdf", "application/pdf")]
    assert item.documents[0].data == raw


def test_a_submission_whose_attachment_did_not_arrive_whole_goes_to_a_human() -> None:
    from common.sources.base import Attachment

    files = [Attachment("paspoort.pdf", b"", "application/pdf", "identiteitsbewijs", problem="missing",
                        expected_size=1000),
             Attachment("bankpas.pdf", PDF[:10], "application/pdf", "bankpas", problem="size_mismatch",
                        expected_size=len(PDF))]
    item = to_work_item(Incoming(source="portaal", kind="submission", key="OF-7QK2MZ", raw=b"{}",
                                 data=submission(), attachments=files), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["attachment_missing"]
    assert [f["message"] for f in item.failure.findings] == [
        "Bijlage 'paspoort.pdf': het portaal gaf het bestand niet (niet gevonden).",
        f"Bijlage 'bankpas.pdf': het portaal leverde 10 bytes, {len(PDF)} aangekondigd (onvolledig)."]


def test_a_submission_without_a_valid_reference_is_unreadable_with_its_json() -> None:
    import hashlib

    raw = b'{"reference": "123"}'
    item = to_work_item(Incoming(source="portaal", kind="submission", key="123", raw=raw,
                                 data=submission(reference="123")), ctx())  # type: ignore[arg-type]
    assert item.reference == "RAW-" + hashlib.sha256(raw).hexdigest()[:12].upper()
    assert item.failure is not None and item.failure.codes == ["unreadable"]
    assert [d.filename for d in item.documents] == ["origineel.json"]


# -- channel 3: the PDF form by e-mail ----------------------------------------------------------------

def citizen_mail(attachments: list[tuple[str, bytes, str]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Anna Jansen <anna@example.nl>"
    msg["Subject"] = "aanvraagformulier tonk"
    msg["Date"] = "Thu, 12 Aug 2021 20:15:00 +0200"
    msg["Message-ID"] = "<form-1@example.nl>"
    msg.set_content("Hierbij mijn formulier en de bijlagen.")
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def test_a_filled_pdf_form_by_mail_is_an_application_with_its_documents_typed_by_name() -> None:
    import hashlib

    from sandbox.samples.pdfform import fillable_form

    form = fillable_form({"bsn": "111222333", "voornamen": "Anna", "achternaam": "Jansen", "huur": "650"})
    raw = citizen_mail([("Aanvraagformulier TONK.pdf", form, "application/pdf"),
                        ("paspoort Anna.pdf", PDF, "application/pdf"),
                        ("loonstrook januari 2020.pdf", PDF, "application/pdf")])
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is None
    assert (item.reference, item.channel) == ("MAIL-" + hashlib.sha256(b"form-1@example.nl").hexdigest()[:12],
                                              "e-mail")
    assert item.payload["fields"] == {"bsn": "111222333", "voornamen": "Anna", "achternaam": "Jansen", "huur": "650"}
    assert item.payload["form_filename"] == "Aanvraagformulier TONK.pdf"
    # the Date header: 20:15 +02:00 = 18:15 UTC
    assert item.received_at == datetime(2021, 8, 12, 18, 15, tzinfo=UTC)
    assert [(d.document_type, d.filename) for d in item.documents if d.role == "attachment"] == [
        (None, "Aanvraagformulier TONK.pdf"), ("identiteitsbewijs", "paspoort Anna.pdf"),
        ("inkomen oud", "loonstrook januari 2020.pdf")]


@pytest.mark.parametrize(("attachment", "reason"), [
    ("scan", "geen ingevuld aanvraagformulier"),
    ("empty", "is niet ingevuld"),
])
def test_a_scan_or_an_empty_form_goes_to_a_human_as_unreadable(attachment: str, reason: str) -> None:
    from sandbox.samples.pdfform import fillable_form, scanned_form

    data = scanned_form({"bsn": "111222333"}) if attachment == "scan" else fillable_form({})
    raw = citizen_mail([("aanvraag.pdf", data, "application/pdf"), ("paspoort.jpg", b"\xff\xd8\xff" + b"0" * 20,
                                                                   "image/jpeg")])
    item = to_work_item(Incoming(source="postbus", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.failure is not None and item.failure.codes == ["unreadable"]
    assert reason in item.failure.message
    assert [d.filename for d in item.documents] == ["origineel.eml", "aanvraag.pdf", "paspoort.jpg"]


def test_a_reply_quoting_the_portal_mail_is_not_that_submission() -> None:
    quoted = "\n".join(f"> {line}" for line in BODY)
    raw = portal_mail(["Ik heb nog een vraag over mijn aanvraag.", quoted], [],
                      subject="Re: [Open Forms] TONK aanvraag - submission OF-7QK2MZ")
    item = to_work_item(Incoming(source="p", kind="mail", key="k", raw=raw), ctx())  # type: ignore[arg-type]
    assert item.reference.startswith("MAIL-")   # never OF-7QK2MZ: that would make it a "duplicate" of the application
    assert item.failure is not None and item.failure.codes == ["not_an_application"]
