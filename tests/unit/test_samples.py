"""The sample generator: reproducible, the right faulty share, valid identifiers, sane dates.

The generator's expectations are what end-to-end tests compare the robot against, so
these tests check them against hand-computed values and python-stdnum, never against
the robot's own code.
"""

from __future__ import annotations

import hashlib
import json
import mailbox
import random
from collections import Counter
from datetime import date, datetime
from decimal import Decimal

import pytest
from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

from sandbox.samples import generate, iter_samples
from sandbox.samples.__main__ import main
from sandbox.samples.assessment import assess, per_month
from sandbox.samples.faults import FAULTS
from sandbox.samples.formats import NBSP, canonical_amount, type_amount
from sandbox.samples.identifiers import (
    REFERENCE_ALPHABET,
    mail_reference,
    make_bsn,
    make_iban,
    make_invalid_bsn,
)
from sandbox.samples.people import ascii_fold


@pytest.fixture(scope="module")
def samples():
    """40 applications (8 faulty), 2 PDF forms, 1 scan, 4 non-applications."""
    return generate(40, 2021, pdf_forms=2, scans=1, others=4)


def applications(samples):
    return [s for s in samples if s.kind == "application"]


# --- reproducibility ---------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_messages_and_expectations():
    first = generate(8, 77, pdf_forms=1, scans=1, others=2)
    second = generate(8, 77, pdf_forms=1, scans=1, others=2)
    assert [s.message for s in first] == [s.message for s in second]
    assert [s.expectation for s in first] == [s.expectation for s in second]


def test_another_seed_gives_other_references():
    assert {s.reference for s in generate(5, 1, others=0)}.isdisjoint({s.reference for s in generate(5, 2, others=0)})


def test_a_larger_count_keeps_the_first_messages():
    # each sample has its own random stream (seed, kind, index); only the choice of faulty ones moves
    small = generate(4, 9, faulty_share=0, others=0)
    large = generate(6, 9, faulty_share=0, others=0)
    assert [s.message for s in small] == [s.message for s in large[:4]]


def test_cli_twice_writes_identical_eml_files_and_expectations(tmp_path):
    for run in ("a", "b"):
        code = main(["generate", "--count", "5", "--seed", "2021", "--pdf-forms", "1", "--eml-dir",
                     str(tmp_path / run), "--expect", str(tmp_path / f"{run}.json")])
        assert code == 0
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(names) == 7  # 5 applications + 1 PDF form + 1 non-application (default --others 1)
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_cli_maildir_delivers_unread_messages_once(tmp_path):
    box_path = tmp_path / "data" / "mailbox" / "tonk"  # parents created too
    args = ["generate", "--count", "4", "--seed", "5", "--maildir", str(box_path), "--expect",
            str(tmp_path / "expect.json")]
    assert main(args) == 0
    assert main(args) == 0  # the same seed again: same Message-IDs, nothing added twice
    box = mailbox.Maildir(box_path, create=False)
    assert len(box) == 5  # 4 applications + 1 non-application
    assert len(list((box_path / "new").iterdir())) == 5  # unread: still in new/
    expected = json.loads((tmp_path / "expect.json").read_text(encoding="utf-8"))
    ids = {box.get_message(k)["Message-ID"] for k in box.keys()}
    assert ids == {s["message_id"] for s in expected["samples"]}


def test_cli_maildir_file_time_is_the_received_time(tmp_path):
    assert main(["generate", "--count", "1", "--seed", "3", "--others", "0", "--maildir", str(tmp_path / "M"),
                 "--expect", str(tmp_path / "e.json")]) == 0
    sample = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))["samples"][0]
    (delivered,) = list((tmp_path / "M" / "new").iterdir())
    assert delivered.stat().st_mtime == datetime.fromisoformat(sample["received"]).timestamp()


def test_cli_without_a_destination_is_a_usage_error(capsys):
    assert main(["generate", "--count", "1"]) == 2
    assert "--maildir" in capsys.readouterr().err


# --- the faulty share --------------------------------------------------------------------------

def test_faulty_share_is_exact(samples):
    outcomes = Counter(s.expectation["expected"] for s in applications(samples))
    assert outcomes == {"registered": 32, "business": 8}  # round(40 * 0.2) = 8 faulty


def test_every_fault_kind_appears_and_each_faulty_sample_has_one_code(samples):
    faulty = [s for s in applications(samples) if s.expectation["expected"] == "business"]
    assert all(len(s.expectation["codes"]) == 1 for s in faulty)
    kinds = Counter(s.expectation["codes"][0]["code"] for s in faulty)
    assert kinds == {fault: 2 for fault in FAULTS}  # 8 faults, 4 kinds taking turns


def test_faulty_share_zero_and_default():
    assert all(s.expectation["expected"] == "registered" for s in generate(6, 4, faulty_share=0, others=0))
    outcomes = Counter(s.expectation["expected"] for s in generate(25, 2021, others=1))
    assert outcomes == {"registered": 20, "business": 5, "human": 1}  # round(25 * 0.2) = 5


def test_valid_samples_carry_no_codes_and_an_advice(samples):
    for sample in samples:
        if sample.expectation["expected"] == "registered":
            assert sample.expectation["codes"] == []
            assert sample.expectation["assessment"]["advice"] in ("voldoet", "voldoet niet")


def test_most_valid_samples_pass_the_dronten_policy_and_some_do_not(samples):
    advice = Counter(s.expectation["assessment"]["advice"] for s in samples
                     if s.expectation["expected"] == "registered")
    assert advice["voldoet"] > advice["voldoet niet"] > 0


def test_human_samples(samples):
    humans = {s.kind: s.expectation["codes"] for s in samples if s.expectation["expected"] == "human"}
    assert humans == {"other": [{"code": "not_an_application", "field": None}],
                      "scan": [{"code": "unreadable", "field": None}]}
    others = [s for s in samples if s.kind == "other"]
    assert len(others) == 4
    assert all(s.reference == mail_reference(s.message_id) for s in others)
    assert "portal_reference" in others[1].expectation  # the second is another form's portal mail


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="faulty_share"):
        generate(3, 1, faulty_share=1.5)
    with pytest.raises(ValueError, match="duplicates"):
        generate(3, 1, portal_share=0.0, duplicates=1)


# --- identifiers ---------------------------------------------------------------------------------

def test_valid_samples_have_valid_bsns_and_ibans(samples):
    for sample in samples:
        if sample.expectation["expected"] != "registered":
            continue
        fields = sample.expectation["fields"]
        assert stdnum_bsn.is_valid(fields["bsn"]), fields["bsn"]
        assert stdnum_iban.is_valid(fields["iban"]), fields["iban"]
        if "partner_bsn" in fields:
            assert stdnum_bsn.is_valid(fields["partner_bsn"])


def test_invalid_bsn_samples_fail_the_11_proof(samples):
    invalid = [s.expectation["fields"]["bsn"] for s in samples
               if s.expectation["codes"] == [{"code": "bsn_invalid", "field": "bsn"}]]
    assert len(invalid) == 2
    assert all(len(b) == 9 and b.isdigit() and not stdnum_bsn.is_valid(b) for b in invalid)


def test_bsns_and_applicants_are_distinct(samples):
    bsns = []
    applicants = set()
    for sample in samples:
        fields = sample.expectation["fields"]
        bsns += [fields[k] for k in ("bsn", "partner_bsn") if k in fields]
        if "achternaam" in fields and "voornamen" in fields:
            applicants.add((fields["voornamen"], fields["achternaam"], fields["geboortedatum"]))
    assert len(bsns) == len(set(bsns))
    registered = [s for s in samples if s.expectation["expected"] == "registered"]
    assert len(applicants) >= len(registered)


def test_references_are_unique_and_use_the_portal_alphabet(samples):
    references = [s.reference for s in samples]
    assert len(references) == len(set(references))
    for ref in references:
        if ref.startswith("OF-"):
            assert len(ref) == 9 and set(ref[3:]) <= set(REFERENCE_ALPHABET)
        else:
            assert ref.startswith("MAIL-") and len(ref) == 17


def test_bsn_generator_against_stdnum():
    rng = random.Random(11)
    for _ in range(500):
        value = make_bsn(rng)
        assert len(value) == 9 and value != "000000000" and stdnum_bsn.is_valid(value)
        assert not stdnum_bsn.is_valid(make_invalid_bsn(rng))


def test_iban_generator_against_stdnum():
    rng = random.Random(12)
    for _ in range(200):
        value = make_iban(rng)
        assert value.startswith("NL") and len(value) == 18 and stdnum_iban.is_valid(value)


def test_mail_reference_hashes_the_message_id_without_brackets():
    # sha256("20210812140327.0123456789ab@formulieren.gemeente.example")[:12] = 018bce3a2b39
    assert mail_reference("<20210812140327.0123456789ab@formulieren.gemeente.example>") == "MAIL-018bce3a2b39"
    assert mail_reference("20210812140327.0123456789ab@formulieren.gemeente.example") == "MAIL-018bce3a2b39"
    assert (hashlib.sha256(b"20210812140327.0123456789ab@formulieren.gemeente.example").hexdigest()[:12]
            == "018bce3a2b39")


def test_ascii_fold_for_mail_addresses():
    assert ascii_fold("Ayşe Çelik") == "Ayse Celik"
    assert ascii_fold("Paweł Yılmaz") == "Pawel Yilmaz"
    assert ascii_fold("Ægidius Nguyễn") == "Aegidius Nguyen"


# --- amounts and the assessment ---------------------------------------------------------------

@pytest.mark.parametrize(("value", "allowed"), [
    ("1234.56", {"€ 1.234,56", "€1.234,56", f"€{NBSP}1.234,56", "1234,56", "1.234,56", "€ 1234,56", "1,234.56"}),
    ("950.00", {"€ 950,00", "€950,00", f"€{NBSP}950,00", "950,00", "950", "EUR 950", "€ 950,-",
                f"€{NBSP}950,-"}),
    ("1234.00", {"€ 1.234,00", "€1.234,00", f"€{NBSP}1.234,00", "1234,00", "1.234,00", "€ 1234,00", "1234",
                 "1.234", "EUR 1234", "€ 1.234,-", f"€{NBSP}1234,-"}),
])
def test_amount_spellings_are_those_of_the_spec(value, allowed):
    rng = random.Random(1)
    seen = {type_amount(Decimal(value), rng) for _ in range(400)}
    assert seen <= allowed
    assert len(seen) >= 6


def test_amounts_without_euro_sign_for_pdf_forms():
    rng = random.Random(2)
    assert all("€" not in type_amount(Decimal("1234.56"), rng, euro_sign=False) for _ in range(100))


def test_canonical_amount():
    assert canonical_amount(Decimal("1234.5")) == "1234.50"
    assert canonical_amount(Decimal("0")) == "0.00"


@pytest.mark.parametrize(("old", "new", "costs", "expected_month"), [
    ("2000", "1400", "650", "90.00"),   # 650 - 0.40 * 1400 = 650 - 560 = 90
    ("1800", "0", "845", "800.00"),     # 845 - 0 = 845, capped at 800
    ("3000", "1000", "400.005", "0.01"),  # 400.005 - 400 = 0.005, rounded half up = 0.01
])
def test_per_month(old, new, costs, expected_month):
    assert per_month(Decimal(costs), Decimal(new)) == Decimal(expected_month)


def test_assess_subtracts_huurtoeslag_and_counts_months():
    # woonkosten = 800 - 150 + 120 + 30 = 800; drop (2500 - 1500) / 2500 = 40 % >= 30 %;
    # share 800 / 1500 = 53 % >= 40 %; per month 800 - 0.40 * 1500 = 200; three months = 600
    result = assess({"inkomen_peilmaand_oud": Decimal("2500"), "inkomen_peilmaand_nieuw": Decimal("1500"),
                     "huur": Decimal("800"), "huurtoeslag": Decimal("150"), "energie": Decimal("120"),
                     "water": Decimal("30")}, 3)
    assert result["advice"] == "voldoet"
    assert (result["woonkosten"], result["per_month"], result["total"]) == ("800.00", "200.00", "600.00")


def test_assess_income_drop_below_30_percent_does_not_qualify():
    # drop (2000 - 1500) / 2000 = 25 % < 30 %
    result = assess({"inkomen_peilmaand_oud": Decimal("2000"), "inkomen_peilmaand_nieuw": Decimal("1500"),
                     "huur": Decimal("900")}, 2)
    assert (result["advice"], result["income_drop"], result["per_month"]) == ("voldoet niet", False, None)


# --- dates -------------------------------------------------------------------------------------

def test_received_inside_the_scheme_in_amsterdam_time(samples):
    for sample in samples:
        received = datetime.fromisoformat(sample.expectation["received"])
        assert received.utcoffset().total_seconds() == 7200  # CEST all of August-October 30
        assert date(2021, 8, 1) <= received.date() <= date(2021, 10, 30)


def test_applicants_are_adults_and_months_inside_the_period(samples):
    for sample in samples:
        if sample.expectation["expected"] != "registered":
            continue
        fields = sample.expectation["fields"]
        born = date.fromisoformat(fields["geboortedatum"])
        received = date.fromisoformat(sample.expectation["received_date"])
        assert (received.year - born.year - ((received.month, received.day) < (born.month, born.day))) >= 18
        assert set(fields["maanden"]) <= {"juli", "augustus", "september"} and fields["maanden"]


def test_iter_samples_yields_what_generate_returns():
    listed = generate(3, 12, pdf_forms=1, others=1)
    streamed = list(iter_samples(3, 12, pdf_forms=1, others=1))
    assert [s.message for s in streamed] == [s.message for s in listed]
    with pytest.raises(ValueError, match="must be >= 0"):
        iter_samples(-1, 12)  # raised at the call, before the first sample
