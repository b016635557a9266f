"""Every finding code of tonk_bot.findings, each from an application with exactly that fault."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import pytest
from test_tonk_support import RECEIVED, application, codes, documents, policy, run

from tonk_bot.duplicates import DuplicateHit
from tonk_bot.findings import Code, Finding
from tonk_bot.intake import evaluate
from tonk_bot.model import DocumentRef

DRONTEN = "dronten-2021-q3.yaml"

#: (id, overrides, expected (code, field) list): one fault each, nothing else found
FIELD_CASES: list[tuple[str, dict[str, str | None], list[tuple[str, str]]]] = [
    ("achternaam left out", {"achternaam": None}, [("required_missing", "achternaam")]),
    ("achternaam blank", {"achternaam": "   "}, [("required_missing", "achternaam")]),
    ("iban left out", {"iban": None}, [("required_missing", "iban")]),
    ("verklaring blank", {"verklaring": ""}, [("required_missing", "verklaring")]),
    ("bsn 11-proof", {"bsn": "111222334"}, [("bsn_invalid", "bsn")]),
    ("bsn zeros", {"bsn": "000000000"}, [("bsn_invalid", "bsn")]),
    ("iban mod-97", {"iban": "NL45ABNA0123456789"}, [("iban_invalid", "iban")]),
    ("postcode SA", {"postcode": "8251 SA"}, [("postcode_invalid", "postcode")]),
    ("email", {"email": "anna.devries@"}, [("email_invalid", "email")]),
    ("phone", {"telefoon": "06-1234"}, [("phone_invalid", "telefoon")]),
    ("house number with letter", {"huisnummer": "12A"}, [("housenumber_invalid", "huisnummer")]),
    ("birth date", {"geboortedatum": "31-02-1980"}, [("date_unreadable", "geboortedatum")]),
    ("amount words", {"huur": "zeshonderdvijftig"}, [("amount_unreadable", "huur")]),
    ("amount ambiguous", {"inkomen_peilmaand_oud": "2,000"}, [("amount_ambiguous", "inkomen_peilmaand_oud")]),
    ("amount negative", {"huurtoeslag": "-50"}, [("amount_negative", "huurtoeslag")]),
    ("no housing costs", {"huur": None}, [("no_housing_costs", "woonkosten")]),
    ("housing costs all zero", {"huur": "0", "energie": "0,00"}, [("no_housing_costs", "woonkosten")]),
    ("household", {"woonsituatie": "met mijn kat"}, [("household_invalid", "woonsituatie")]),
    ("months", {"maanden": "juli, agustus"}, [("months_unreadable", "maanden")]),
    ("declaration nee", {"verklaring": "nee"}, [("declaration_not_confirmed", "verklaring")]),
    ("declaration other", {"verklaring": "misschien"}, [("declaration_not_confirmed", "verklaring")]),
    ("months outside period", {"maanden": "april, mei"}, [("months_outside_period", "maanden")]),
    # born 13-08-2003: on 12-08-2021 one day short of 18
    ("applicant 17", {"geboortedatum": "13-08-2003"}, [("applicant_under_18", "geboortedatum")]),
]


@pytest.mark.parametrize(("overrides", "expected"), [c[1:] for c in FIELD_CASES], ids=[c[0] for c in FIELD_CASES])
def test_one_fault_one_finding(overrides: dict[str, str | None], expected: list[tuple[str, str]]) -> None:
    assert codes(run(DRONTEN, overrides)) == expected


def test_the_base_application_is_complete() -> None:
    result = run(DRONTEN)
    assert result.findings == []
    assert result.complete and result.application is not None


def test_turning_18_on_the_date_received_is_adult() -> None:
    # born 12-08-2003, received 12-08-2021: 18 that day
    assert run(DRONTEN, {"geboortedatum": "12-08-2003"}).findings == []


def test_partner_missing_names_each_missing_partner_field() -> None:
    result = run(DRONTEN, {"partner_bsn": None, "partner_geboortedatum": " "}, partner=True)
    assert codes(result) == [("partner_missing", "partner_bsn"), ("partner_missing", "partner_geboortedatum")]


def test_partner_bsn_is_checked_like_the_applicants() -> None:
    assert codes(run(DRONTEN, {"partner_bsn": "123456789"}, partner=True)) == [("bsn_invalid", "partner_bsn")]


@pytest.mark.parametrize("doc_type", ["identiteitsbewijs", "bankpas", "inkomen oud", "inkomen nieuw"])
def test_document_missing_names_the_type(doc_type: str) -> None:
    result = evaluate(application(), documents(without=(doc_type,)), RECEIVED, policy(DRONTEN))
    assert codes(result) == [("document_missing", doc_type)]


def test_partner_id_is_required_only_with_a_partner() -> None:
    fields = application(partner=True)
    result = evaluate(fields, documents(partner=True, without=("identiteitsbewijs partner",)), RECEIVED,
                      policy(DRONTEN))
    assert codes(result) == [("document_missing", "identiteitsbewijs partner")]
    assert evaluate(application(), documents(), RECEIVED, policy(DRONTEN)).findings == []


def test_document_types_are_matched_regardless_of_case_and_spacing() -> None:
    docs = [DocumentRef(type=f"  {d.type.upper()} ", filename=d.filename) for d in documents()]
    assert evaluate(application(), docs, RECEIVED, policy(DRONTEN)).findings == []


def test_received_after_deadline() -> None:
    # Dronten: deadline 2021-10-31; the policy stays in force until 2021-12-31 to say so
    result = run(DRONTEN, received=date(2021, 11, 1))
    assert codes(result) == [("received_after_deadline", "received")]
    assert result.findings[0].value == "2021-11-01"


def test_received_on_the_deadline_is_in_time() -> None:
    assert run(DRONTEN, received=date(2021, 10, 31)).findings == []


def test_no_policy_on_the_date_received() -> None:
    result = evaluate(application(), documents(), date(2021, 7, 31), None)
    assert codes(result) == [("no_policy", "received")]
    assert result.assessment is None


def test_some_months_outside_the_period_are_no_finding_but_left_out() -> None:
    result = run(DRONTEN, {"maanden": "juni, juli"})
    assert result.findings == []
    assert result.assessment is not None
    assert result.assessment.months_left_out == ["juni"]


class FakeLookup:
    """An in-memory DuplicateLookup: the other applications as (reference, bsns, months)."""

    def __init__(self, others: Sequence[tuple[str, set[str], set[str]]]) -> None:
        self.others = others
        self.asked: list[tuple[dict[str, str], list[str]]] = []

    def find(self, bsns: Mapping[str, str], months: Sequence[str]) -> list[DuplicateHit]:
        self.asked.append((dict(bsns), list(months)))
        hits = []
        for reference, their_bsns, their_months in self.others:
            overlap = frozenset(their_months & set(months))
            for field, bsn in bsns.items():
                if bsn in their_bsns and overlap:
                    hits.append(DuplicateHit(field=field, bsn=bsn, other=reference, months=overlap))
        return hits


def test_possible_duplicate_same_bsn_overlapping_month() -> None:
    lookup = FakeLookup([("werkitem 7 (OF-7QK2MZ)", {"111222333"}, {"2021-09"})])
    result = evaluate(application(), documents(), RECEIVED, policy(DRONTEN), lookup)
    assert codes(result) == [("possible_duplicate", "bsn")]
    assert lookup.asked == [({"bsn": "111222333"}, ["2021-07", "2021-08", "2021-09"])]
    assert "werkitem 7 (OF-7QK2MZ)" in result.findings[0].message


def test_possible_duplicate_via_the_partner() -> None:
    lookup = FakeLookup([("werkitem 3 (OF-AAAAAA)", {"123456782"}, {"2021-07"})])
    result = evaluate(application(partner=True), documents(partner=True), RECEIVED, policy(DRONTEN), lookup)
    assert codes(result) == [("possible_duplicate", "partner_bsn")]


def test_same_bsn_other_months_is_no_duplicate() -> None:
    lookup = FakeLookup([("werkitem 7 (OF-7QK2MZ)", {"111222333"}, {"2021-06"})])
    assert evaluate(application(), documents(), RECEIVED, policy(DRONTEN), lookup).findings == []


def test_all_findings_at_once_not_the_first_only() -> None:
    fields = application({"bsn": "123", "iban": "NL00", "achternaam": None, "huur": "1,234", "verklaring": "nee"})
    result = evaluate(fields, documents(without=("bankpas",)), date(2021, 11, 2), policy(DRONTEN))
    assert codes(result) == [
        ("bsn_invalid", "bsn"), ("required_missing", "achternaam"), ("amount_ambiguous", "huur"),
        ("iban_invalid", "iban"), ("declaration_not_confirmed", "verklaring"), ("document_missing", "bankpas"),
        ("received_after_deadline", "received"),
    ]


def test_findings_keep_the_value_as_seen_and_mask_bsn_and_iban() -> None:
    result = run(DRONTEN, {"bsn": "111 222 334", "iban": "NL45 ABNA 0123 4567 89", "huur": "1,234"})
    by_field = {f.field: f for f in result.findings}
    assert by_field["bsn"].value == "111 222 334"
    assert by_field["bsn"].masked()["value"] == "*****2334"
    assert by_field["iban"].masked()["value"] == "NL45 **** **** **67 89"
    assert by_field["huur"].masked()["value"] == "1,234"
    assert all("111" not in f.message and "NL45" not in f.message for f in result.findings)


def test_finding_messages_are_dutch_and_name_the_label() -> None:
    finding = run(DRONTEN, {"huur": "1,234"}).findings[0]
    assert finding.message.startswith("Huur per maand: ")
    assert finding.as_dict() == {"code": "amount_ambiguous", "field": "huur", "value": "1,234",
                                 "message": finding.message}


def test_every_code_has_a_test() -> None:
    tested = {code for case in FIELD_CASES for code, _ in case[2]} | {
        "partner_missing", "document_missing", "received_after_deadline", "no_policy", "possible_duplicate"}
    assert tested == {c.value for c in Code}


def test_finding_is_a_frozen_model() -> None:
    finding = Finding(code=Code.NO_POLICY, field="received", value="2021-07-31", message="x")
    with pytest.raises(ValueError):
        finding.code = Code.BSN_INVALID  # type: ignore[misc]
