"""The TONK application as a pydantic model, read from the raw form in one place.

Two steps, both here:

1. `read_form(fields)`: every field of the form table (tonk_bot.form) is read from its raw
   text by a parser of common.citizen_text, inside one pydantic model (`FormValues`, all
   fields optional). Each field that cannot be read becomes a finding (its parser's code,
   the field, the value as seen); the other fields keep their values. Never raises on
   citizens' input.
2. `build_application(values, documents)`: when every field is readable and complete, the
   nested `Application` (applicant, partner, address, household, income per peilmaand,
   housing costs, assets, requested months, IBAN, documents, declaration).

`figures(values)` gives what the pre-assessment needs (incomes, housing costs, assets,
months, household) whenever those fields could be read, even when others could not.

A caseworker's corrections arrive the same way as the form: a dict of raw strings
(`WorkItem.fields` already lays them over the original).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationError
from pydantic_core import PydanticCustomError

from common.citizen_text import (
    TextProblem,
    clean_text,
    is_blank,
    parse_amount,
    parse_bsn,
    parse_date,
    parse_email,
    parse_iban,
    parse_months,
    parse_phone,
    parse_postcode,
    parse_yes_no,
)
from tonk_bot import findings as f
from tonk_bot.findings import Code, Finding
from tonk_bot.form import FIELDS, HOUSING_COST_KEYS, Household, normalise_document_type

#: money: a Decimal with two places, written to JSON as "800.00"
Money = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]

#: blank-like answers for optional amounts: "not applicable" (tonk-form.md leaves these out)
_NOT_APPLICABLE = frozenset({"-", "--", "nvt", "n.v.t.", "n.v.t", "nvt.", "geen", "n/a"})
_OPTIONAL_AMOUNTS = frozenset({"huur", "huurtoeslag", "hypotheekrente", "hypotheekaflossing", "energie",
                               "water", "vermogen"})

_HOUSEHOLD_WORDS: dict[str, Household] = {
    "alleenstaand": Household.ALLEENSTAAND,
    "alleenstaande": Household.ALLEENSTAAND,
    "alleenstaande ouder": Household.ALLEENSTAANDE_OUDER,
    "alleenstaand ouder": Household.ALLEENSTAANDE_OUDER,
    "gehuwd of samenwonend": Household.GEHUWD_OF_SAMENWONEND,
    "gehuwd/samenwonend": Household.GEHUWD_OF_SAMENWONEND,
    "gehuwd / samenwonend": Household.GEHUWD_OF_SAMENWONEND,
    "gehuwd": Household.GEHUWD_OF_SAMENWONEND,
    "samenwonend": Household.GEHUWD_OF_SAMENWONEND,
}


def _problem(code: str, raw: object, message: str) -> TextProblem:
    return TextProblem(code, raw if isinstance(raw, str) else repr(raw), message)


def _parse_house_number(raw: object) -> int | TextProblem:
    s = raw.strip() if isinstance(raw, str) else ""
    if re.fullmatch(r"[0-9]{1,5}", s, re.ASCII) and int(s) > 0:
        return int(s)
    return _problem(Code.HOUSENUMBER_INVALID, raw, "verwacht alleen cijfers.")


def _parse_household(raw: object) -> Household | TextProblem:
    s = " ".join(raw.lower().split()) if isinstance(raw, str) else ""
    found = _HOUSEHOLD_WORDS.get(s)
    return found if found is not None else _problem(Code.HOUSEHOLD_INVALID, raw, "onbekende woonsituatie.")


def _parse_declaration(raw: object) -> bool | TextProblem:
    answer = parse_yes_no(raw)
    if isinstance(answer, TextProblem):
        return _problem(Code.DECLARATION_NOT_CONFIRMED, raw, "niet met 'ja' bevestigd.")
    return answer


def _parse_text(raw: object) -> str | TextProblem:
    return clean_text(raw) if isinstance(raw, str) else _problem(Code.REQUIRED_MISSING, raw, "geen tekst.")


def _reader(parse: Callable[[Any], Any], *, optional_amount: bool = False) -> BeforeValidator:
    """A pydantic before-validator: blank -> None, else the parser's value, or a custom error whose
    type is the parser's problem code (turned into a finding by `read_form`)."""

    def validate(raw: Any) -> Any:
        if is_blank(raw):
            return None
        if optional_amount and isinstance(raw, str) and raw.strip().lower() in _NOT_APPLICABLE:
            return None
        result = parse(raw)
        if isinstance(result, TextProblem):
            raise PydanticCustomError(result.code, result.message.replace("{", "(").replace("}", ")"))
        return result

    return BeforeValidator(validate)


_Text = Annotated[str | None, _reader(_parse_text)]
_Bsn = Annotated[str | None, _reader(parse_bsn)]
_Date = Annotated[date | None, _reader(parse_date)]
_Amount = Annotated[Money | None, _reader(parse_amount)]
_OptAmount = Annotated[Money | None, _reader(parse_amount, optional_amount=True)]


class FormValues(BaseModel):
    """Every field of the form, read; None means not filled in. Keys as in tonk-form.md.

    Amounts are `Decimal` euros with two places; dates `date`; BSN 9 digits; IBAN compact;
    postcode ``1234 AB``; phone normalised (common.citizen_text); `maanden` month numbers.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    bsn: _Bsn = None
    voornamen: _Text = None
    tussenvoegsel: _Text = None
    achternaam: _Text = None
    geboortedatum: _Date = None
    straat: _Text = None
    huisnummer: Annotated[int | None, _reader(_parse_house_number)] = None
    huisnummertoevoeging: _Text = None
    postcode: Annotated[str | None, _reader(parse_postcode)] = None
    woonplaats: _Text = None
    email: Annotated[str | None, _reader(parse_email)] = None
    telefoon: Annotated[str | None, _reader(parse_phone)] = None
    woonsituatie: Annotated[Household | None, _reader(_parse_household)] = None
    partner_bsn: _Bsn = None
    partner_voornamen: _Text = None
    partner_achternaam: _Text = None
    partner_geboortedatum: _Date = None
    inkomen_peilmaand_oud: _Amount = None
    inkomen_peilmaand_nieuw: _Amount = None
    huur: _OptAmount = None
    huurtoeslag: _OptAmount = None
    hypotheekrente: _OptAmount = None
    hypotheekaflossing: _OptAmount = None
    energie: _OptAmount = None
    water: _OptAmount = None
    vermogen: _OptAmount = None
    iban: Annotated[str | None, _reader(parse_iban)] = None
    rekeninghouder: _Text = None
    maanden: Annotated[list[int] | None, _reader(parse_months)] = None
    toelichting: _Text = None
    verklaring: Annotated[bool | None, _reader(_parse_declaration)] = None


assert set(FormValues.model_fields) == {fld.key for fld in FIELDS}, "FormValues must follow the form table"


def normalise_raw(fields: Mapping[str, object]) -> dict[str, str]:
    """The form's raw values as strings: None dropped, numbers as their text, booleans as ja/nee.

    Keys not in the form table are kept (and ignored by `FormValues`). Never raises.
    """
    out: dict[str, str] = {}
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[str(key)] = "ja" if value else "nee"
        else:
            out[str(key)] = value if isinstance(value, str) else str(value)
    return out


@dataclass(frozen=True)
class FormReading:
    """The outcome of `read_form`: the raw strings, the values read, and a finding per unreadable field."""

    raw: dict[str, str]
    values: FormValues
    findings: list[Finding]

    @property
    def unreadable(self) -> frozenset[str]:
        """Keys whose value was filled in but could not be read."""
        return frozenset(x.field for x in self.findings)


def read_form(fields: Mapping[str, object]) -> FormReading:
    """Read every field of the raw form (key -> raw text) at once.

    Returns:
        `FormReading` with the values that could be read and one finding per field that
        could not (codes from tonk_bot.findings; in form order). Never raises on any input.
    """
    raw = normalise_raw(fields)
    try:
        return FormReading(raw, FormValues.model_validate(raw), [])
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    bad = {str(e["loc"][0]) for e in errors}
    by_key = {str(e["loc"][0]): e for e in errors}
    found = []
    for fld in FIELDS:
        err = by_key.get(fld.key)
        if err is not None:
            found.append(f.from_problem(fld.key, TextProblem(err["type"], raw.get(fld.key, ""), err["msg"])))
    values = FormValues.model_validate({k: v for k, v in raw.items() if k not in bad})
    return FormReading(raw, values, found)


# ------------------------------------------------------------------------------- the application


class DocumentRef(BaseModel):
    """A document that came with the application: its `type` (a `Bijlage` type, normalised to lower
    case) and the citizen's own `filename`."""

    model_config = ConfigDict(frozen=True)

    type: Annotated[str, BeforeValidator(lambda v: normalise_document_type(v) if isinstance(v, str) else v)]
    filename: str


class Person(BaseModel):
    """Applicant or partner."""

    model_config = ConfigDict(frozen=True)

    bsn: str
    voornamen: str
    tussenvoegsel: str | None = None
    achternaam: str
    geboortedatum: date

    @property
    def full_name(self) -> str:
        """``"Anna de Vries"``: voornamen, tussenvoegsel, achternaam."""
        return " ".join(p for p in (self.voornamen, self.tussenvoegsel, self.achternaam) if p)


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    straat: str
    huisnummer: int
    toevoeging: str | None = None
    postcode: str
    woonplaats: str


class HousingCosts(BaseModel):
    """Woonkosten per month as given (None = not filled in); huurtoeslag is income, not a cost."""

    model_config = ConfigDict(frozen=True)

    huur: Money | None = None
    huurtoeslag: Money | None = None
    hypotheekrente: Money | None = None
    hypotheekaflossing: Money | None = None
    energie: Money | None = None
    water: Money | None = None

    def gross(self) -> Decimal:
        """Sum of the five costs (huurtoeslag not subtracted), in euros."""
        return sum((getattr(self, k) or Decimal(0) for k in HOUSING_COST_KEYS), Decimal("0.00"))


class Figures(BaseModel):
    """What the pre-assessment needs, all read from the form.

    `months` are the requested month numbers (no year: the policy's period gives it).
    `household` may be None (unreadable); policies that need it then give no assessment.
    """

    model_config = ConfigDict(frozen=True)

    household: Household | None
    income_old: Money
    income_new: Money
    housing_costs: HousingCosts
    vermogen: Money | None
    months: list[int]


class Application(BaseModel):
    """A complete TONK application: every required field readable and present."""

    model_config = ConfigDict(frozen=True)

    applicant: Person
    partner: Person | None
    address: Address
    email: str
    telefoon: str | None
    household: Household
    income_old: Money
    income_new: Money
    housing_costs: HousingCosts
    vermogen: Money | None
    months: list[int]
    iban: str
    rekeninghouder: str
    toelichting: str | None
    documents: list[DocumentRef]
    declaration: Literal[True]


def housing_costs(values: FormValues) -> HousingCosts:
    return HousingCosts(huur=values.huur, huurtoeslag=values.huurtoeslag, hypotheekrente=values.hypotheekrente,
                        hypotheekaflossing=values.hypotheekaflossing, energie=values.energie, water=values.water)


def figures(reading: FormReading) -> Figures | None:
    """The assessment's figures, or None when an income, a housing cost or the months could not be read
    (or no housing cost is above 0)."""
    v = reading.values
    needed_unreadable = reading.unreadable & {"inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "maanden",
                                              "huurtoeslag", *HOUSING_COST_KEYS}
    if needed_unreadable or v.inkomen_peilmaand_oud is None or v.inkomen_peilmaand_nieuw is None or not v.maanden:
        return None
    costs = housing_costs(v)
    if costs.gross() <= 0:
        return None
    return Figures(household=v.woonsituatie, income_old=v.inkomen_peilmaand_oud,
                   income_new=v.inkomen_peilmaand_nieuw, housing_costs=costs,
                   vermogen=v.vermogen, months=v.maanden)


def build_application(values: FormValues, documents: Sequence[DocumentRef]) -> Application:
    """The nested application from complete values.

    Raises:
        ValueError: a required value is None (call only when the completeness checks found nothing).
    """
    def need(value: Any, key: str) -> Any:
        if value is None:
            raise ValueError(f"build_application: {key} is missing; check completeness first")
        return value

    household = need(values.woonsituatie, "woonsituatie")
    applicant = Person(bsn=need(values.bsn, "bsn"), voornamen=need(values.voornamen, "voornamen"),
                       tussenvoegsel=values.tussenvoegsel, achternaam=need(values.achternaam, "achternaam"),
                       geboortedatum=need(values.geboortedatum, "geboortedatum"))
    partner = None
    if household.has_partner:
        partner = Person(bsn=need(values.partner_bsn, "partner_bsn"),
                         voornamen=need(values.partner_voornamen, "partner_voornamen"),
                         achternaam=need(values.partner_achternaam, "partner_achternaam"),
                         geboortedatum=need(values.partner_geboortedatum, "partner_geboortedatum"))
    address = Address(straat=need(values.straat, "straat"), huisnummer=need(values.huisnummer, "huisnummer"),
                      toevoeging=values.huisnummertoevoeging, postcode=need(values.postcode, "postcode"),
                      woonplaats=need(values.woonplaats, "woonplaats"))
    return Application(
        applicant=applicant, partner=partner, address=address, email=need(values.email, "email"),
        telefoon=values.telefoon, household=household,
        income_old=need(values.inkomen_peilmaand_oud, "inkomen_peilmaand_oud"),
        income_new=need(values.inkomen_peilmaand_nieuw, "inkomen_peilmaand_nieuw"),
        housing_costs=housing_costs(values), vermogen=values.vermogen, months=need(values.maanden, "maanden"),
        iban=need(values.iban, "iban"), rekeninghouder=need(values.rekeninghouder, "rekeninghouder"),
        toelichting=values.toelichting, documents=list(documents),
        declaration=need(values.verklaring, "verklaring"))
