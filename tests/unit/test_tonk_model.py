"""The application model: read from the raw form in one place, every problem a finding, never a traceback."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tonk_support import RECEIVED, application, documents, policy, run

from tonk_bot.form import BY_KEY, FIELDS, KEY_BY_LABEL, Household, Required
from tonk_bot.intake import evaluate
from tonk_bot.model import DocumentRef, FormValues, figures, normalise_raw, read_form

DRONTEN = "dronten-2021-q3.yaml"


def test_the_form_table_follows_the_spec() -> None:
    assert len(FIELDS) == 31
    assert KEY_BY_LABEL["Netto inkomen huishouden januari 2020"] == "inkomen_peilmaand_oud"
    assert BY_KEY["partner_bsn"].required is Required.IF_PARTNER
    assert [f.key for f in FIELDS if f.required is Required.YES] == [
        "bsn", "voornamen", "achternaam", "geboortedatum", "straat", "huisnummer", "postcode", "woonplaats",
        "email", "woonsituatie", "inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "iban", "rekeninghouder",
        "maanden", "verklaring"]
    assert set(FormValues.model_fields) == set(BY_KEY)


def test_read_form_gives_typed_values() -> None:
    reading = read_form(application({"postcode": "8251ab", "bsn": "111 222 333", "telefoon": "+31 6 12345678"}))
    v = reading.values
    assert reading.findings == []
    assert (v.bsn, v.postcode, v.telefoon, v.iban) == ("111222333", "8251 AB", "0612345678", "NL91ABNA0417164300")
    assert (v.geboortedatum, v.huisnummer, v.woonsituatie) == (date(1980, 2, 1), 12, Household.ALLEENSTAAND)
    assert (v.inkomen_peilmaand_oud, v.inkomen_peilmaand_nieuw, v.huur) == (
        Decimal("2000.00"), Decimal("1400.00"), Decimal("650.00"))
    assert (v.maanden, v.verklaring, v.huisnummertoevoeging) == ([7, 8, 9], True, None)


def test_the_complete_application_is_nested() -> None:
    result = evaluate(application(partner=True), documents(partner=True), RECEIVED, policy(DRONTEN))
    app = result.application
    assert app is not None
    assert app.applicant.full_name == "Anna Maria de Vries"
    assert app.partner is not None and app.partner.full_name == "Mehmet Öztürk-de Vries"
    assert app.partner.geboortedatum == date(1979, 12, 31)
    assert (app.address.straat, app.address.huisnummer, app.address.postcode) == ("De Rede", 12, "8251 AB")
    assert app.household is Household.GEHUWD_OF_SAMENWONEND
    assert app.housing_costs.huur == Decimal("650.00") and app.housing_costs.energie is None
    assert [d.type for d in app.documents][-1] == "identiteitsbewijs partner"
    assert app.declaration is True


def test_a_single_has_no_partner_even_when_partner_fields_are_filled() -> None:
    fields = application(partner=True) | {"woonsituatie": "alleenstaand"}
    app = evaluate(fields, documents(), RECEIVED, policy(DRONTEN)).application
    assert app is not None and app.partner is None


def test_no_application_model_while_a_field_is_wrong_but_the_assessment_still_comes() -> None:
    result = run(DRONTEN, {"bsn": "111222334"})
    assert result.application is None
    assert result.assessment is not None and result.assessment.outcome == "voldoet"


def test_no_assessment_when_an_income_is_unreadable() -> None:
    result = run(DRONTEN, {"inkomen_peilmaand_nieuw": "weet ik niet"})
    assert result.assessment is None
    assert figures(read_form(application({"inkomen_peilmaand_nieuw": "weet ik niet"}))) is None


def test_not_applicable_in_an_optional_amount_is_not_filled_in() -> None:
    reading = read_form(application({"huurtoeslag": "n.v.t.", "water": "-", "energie": "geen"}))
    assert reading.findings == []
    assert (reading.values.huurtoeslag, reading.values.water, reading.values.energie) == (None, None, None)


def test_corrections_arrive_as_raw_strings_like_the_form() -> None:
    # the caseworker corrects the BSN and the rent: WorkItem.fields lays them over the original
    original = application({"bsn": "111222334", "huur": "1,234"})
    corrections = {"bsn": "111222333", "huur": "1.234"}
    result = evaluate({**original, **corrections}, documents(), RECEIVED, policy(DRONTEN))
    assert result.findings == []
    assert result.application is not None and result.application.housing_costs.huur == Decimal("1234.00")


def test_non_string_values_are_read_as_their_text() -> None:
    assert normalise_raw({"huur": 650, "verklaring": True, "water": None, "x": 1.5}) == {
        "huur": "650", "verklaring": "ja", "x": "1.5"}
    assert run(DRONTEN, {}).findings == []
    fields = application() | {"huur": 650, "verklaring": True}  # type: ignore[dict-item]
    assert evaluate(fields, documents(), RECEIVED, policy(DRONTEN)).findings == []


def test_names_keep_accents_and_apostrophes() -> None:
    result = run(DRONTEN, {"voornamen": "Çelik", "achternaam": "d'Hondt", "tussenvoegsel": None})
    assert result.application is not None
    assert result.application.applicant.full_name == "Çelik d'Hondt"


KEYS = st.sampled_from([f.key for f in FIELDS] + ["onbekend_veld"])
VALUES = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "ja", "nee", "1,234", "€ 1.234,56", "juli",
                                                           "gehuwd of samenwonend", "111222333", "01-02-2021"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=st.dictionaries(KEYS, st.one_of(st.none(), VALUES), max_size=12),
       doc_types=st.lists(st.text(max_size=25), max_size=4))
def test_any_form_gives_findings_or_a_result_never_an_exception(overrides: dict[str, str | None],
                                                                 doc_types: list[str]) -> None:
    docs = [DocumentRef(type=t, filename="f.pdf") for t in doc_types]
    result = evaluate(application(overrides), docs, RECEIVED, policy(DRONTEN))
    # no application model only when a form field has a finding
    assert result.application is not None or any(f.field in BY_KEY or f.field == "woonkosten"
                                                 for f in result.findings)
    for finding in result.findings:
        assert finding.message and finding.field
    if result.assessment is not None:
        assert result.assessment.amount_per_month >= 0
        assert result.assessment.amount_total >= 0
