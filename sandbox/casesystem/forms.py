"""The case system's forms: which fields, their Dutch labels, and server-side validation.

One description serves the templates (both layouts draw the same fields) and the
validation, so a label shown is always the label an error names. Validation returns
cleaned values and a dict `field name -> Dutch message`; nothing is stored when it is
not empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

Kind = Literal["text", "bsn", "date", "email", "tel", "select", "textarea", "amount", "months"]

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")
ZAAKTYPES = ("TONK", "Bijzondere bijstand", "Melding openbare ruimte")
KANALEN = ("e-formulier", "e-mail", "balie", "post")
DOCUMENT_TYPES = ("identiteitsbewijs", "identiteitsbewijs partner", "bankpas", "inkomen oud", "inkomen nieuw",
                  "woonkosten", "overig")
AMOUNT_FIELDS = ("inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "huur", "huurtoeslag", "hypotheekrente",
                 "hypotheekaflossing", "energie", "water", "vermogen")


@dataclass(frozen=True)
class FormField:
    """One input: `name` (what the browser posts), `label` (what a person reads), `kind`, limits."""

    name: str
    label: str
    kind: Kind = "text"
    required: bool = False
    max_length: int = 200
    options: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class FieldGroup:
    """A fieldset: `key` (stable, for ordering per layout), `legend`, `fields`."""

    key: str
    legend: str
    fields: tuple[FormField, ...]


PERSON_GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup("persoon", "Persoonsgegevens", (
        FormField("bsn", "BSN", "bsn", required=True, max_length=9, hint="9 cijfers"),
        FormField("voornamen", "Voornamen", required=True, max_length=200),
        FormField("tussenvoegsel", "Tussenvoegsel", max_length=20),
        FormField("achternaam", "Achternaam", required=True, max_length=200),
        FormField("geboortedatum", "Geboortedatum", "date", required=True),
    )),
    FieldGroup("adres", "Adres", (
        FormField("straat", "Straat", required=True, max_length=200),
        FormField("huisnummer", "Huisnummer", required=True, max_length=5),
        FormField("toevoeging", "Toevoeging", max_length=10),
        FormField("postcode", "Postcode", required=True, max_length=7, hint="bijvoorbeeld 8251 AB"),
        FormField("woonplaats", "Woonplaats", required=True, max_length=100),
    )),
    FieldGroup("contact", "Contactgegevens", (
        FormField("email", "E-mailadres", "email", max_length=254),
        FormField("telefoon", "Telefoonnummer", "tel", max_length=20),
    )),
)

CASE_GROUPS: tuple[FieldGroup, ...] = (
    FieldGroup("zaak", "Zaakgegevens", (
        FormField("zaaktype", "Zaaktype", "select", required=True, options=ZAAKTYPES),
        FormField("omschrijving", "Omschrijving", required=True, max_length=80, hint="maximaal 80 tekens"),
        FormField("startdatum", "Startdatum", "date", required=True),
        FormField("kanaal", "Kanaal", "select", required=True, options=KANALEN),
        FormField("extern_kenmerk", "Extern kenmerk", max_length=40),
    )),
    FieldGroup("betrokkenen", "Betrokkenen", (
        FormField("initiator_bsn", "Initiator (BSN)", "bsn", required=True, max_length=9),
        FormField("partner_bsn", "Partner (BSN)", "bsn", max_length=9),
    )),
    FieldGroup("inkomen", "Inkomen en vermogen", (
        FormField("inkomen_peilmaand_oud", "Inkomen peilmaand oud", "amount"),
        FormField("inkomen_peilmaand_nieuw", "Inkomen peilmaand nieuw", "amount"),
        FormField("vermogen", "Vermogen", "amount"),
    )),
    FieldGroup("woonkosten", "Woonkosten per maand", (
        FormField("huur", "Huur", "amount"),
        FormField("huurtoeslag", "Huurtoeslag", "amount"),
        FormField("hypotheekrente", "Hypotheekrente", "amount"),
        FormField("hypotheekaflossing", "Hypotheekaflossing", "amount"),
        FormField("energie", "Energie", "amount"),
        FormField("water", "Water", "amount"),
    )),
    FieldGroup("aanvraag", "Aanvraag", (
        FormField("maanden", "Aangevraagde maanden", "months", options=MONTHS),
        FormField("iban", "IBAN", max_length=34),
        FormField("tenaamstelling", "Tenaamstelling", max_length=70),
        FormField("toelichting", "Toelichting", "textarea", max_length=4000),
    )),
    FieldGroup("beoordeling", "Beoordeling", (
        FormField("beoordeling", "Beoordeling robot (advies)", "textarea", max_length=10_000),
    )),
)

#: the order of the groups in the alternate (reskinned) layout
ALTERNATE_ORDER = {"persoon": 1, "adres": 2, "contact": 0,
                   "zaak": 1, "betrokkenen": 0, "inkomen": 3, "woonkosten": 2, "aanvraag": 5, "beoordeling": 4}

_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{8,18}$")
_AMOUNT = re.compile(r"^([0-9]{1,9})(?:[.,]([0-9]{1,2}))?$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATE_NL = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")


def all_fields(groups: tuple[FieldGroup, ...]) -> tuple[FormField, ...]:
    """The fields of `groups`, in their default order."""
    return tuple(f for g in groups for f in g.fields)


def ordered(groups: tuple[FieldGroup, ...], layout: str) -> list[FieldGroup]:
    """`groups` in the order of `layout` ('default' keeps them; 'alternate' reorders groups and fields)."""
    if layout != "alternate":
        return list(groups)
    out = sorted(groups, key=lambda g: ALTERNATE_ORDER.get(g.key, 99))
    return [FieldGroup(g.key, g.legend, tuple(reversed(g.fields)) if len(g.fields) > 2 else g.fields)
            for g in out]


def label_of(groups: tuple[FieldGroup, ...], name: str) -> str:
    """The label of field `name` (the name itself when unknown)."""
    return next((f.label for f in all_fields(groups) if f.name == name), name)


def parse_date(text: str) -> date | None:
    """`2021-08-12` or `12-08-2021` -> date; None when not a real date in either form."""
    if m := _DATE_ISO.match(text):
        y, mo, d = (int(x) for x in m.groups())
    elif m := _DATE_NL.match(text):
        d, mo, y = (int(x) for x in m.groups())
    else:
        return None
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal | None:
    """`1234.56` or `1234,56` (no thousands separators, not negative) -> Decimal with 2 places; else None."""
    m = _AMOUNT.match(text)
    if not m:
        return None
    whole, cents = m.groups()
    return Decimal(f"{whole}.{(cents or '0').ljust(2, '0')}")


def _clean_one(f: FormField, raw: str) -> tuple[object, str | None]:
    """(cleaned value, error message or None) for one non-empty value."""
    if len(raw) > f.max_length and f.kind != "months":
        return raw, f"Maximaal {f.max_length} tekens"
    if f.kind == "bsn":
        if not re.fullmatch(r"\d{9}", raw):
            return raw, "Een BSN bestaat uit 9 cijfers"
        if not stdnum_bsn.is_valid(raw):
            return raw, "Dit BSN voldoet niet aan de elfproef"
        return raw, None
    if f.kind == "date":
        parsed = parse_date(raw)
        if parsed is None:
            return raw, "Geen geldige datum (dd-mm-jjjj)"
        if not date(1900, 1, 1) <= parsed <= date(2100, 12, 31):
            return raw, "Datum buiten het toegestane bereik"
        return parsed, None
    if f.kind == "amount":
        amount = parse_amount(raw)
        return (amount, None) if amount is not None else (raw, "Vul een bedrag in zoals 1234,56")
    if f.kind == "email":
        return (raw, None) if _EMAIL.match(raw) else (raw, "Geen geldig e-mailadres")
    if f.kind == "tel":
        return (raw, None) if _PHONE.match(raw) else (raw, "Geen geldig telefoonnummer")
    if f.kind == "select":
        return (raw, None) if raw in f.options else (raw, "Kies een waarde uit de lijst")
    if f.name == "postcode":
        m = _POSTCODE.match(raw)
        if not m or m.group(2).upper() in {"SA", "SD", "SS"}:
            return raw, "Geen geldige postcode (1234 AB)"
        return f"{m.group(1)} {m.group(2).upper()}", None
    if f.name == "huisnummer":
        return (int(raw), None) if raw.isdigit() and int(raw) > 0 else (raw, "Huisnummer bestaat uit cijfers")
    if f.name == "iban":
        compact = stdnum_iban.compact(raw)
        return (compact, None) if stdnum_iban.is_valid(compact) else (raw, "Geen geldig IBAN")
    return raw, None


def validate(groups: tuple[FieldGroup, ...], form: Mapping[str, object]) -> tuple[dict[str, object], dict[str, str]]:
    """Clean and check a posted form against `groups`.

    Args:
        form: field name -> str (one value) or list[str] (checkbox groups such as `maanden`).

    Returns:
        (values, errors): values by field name (dates as `date`, amounts as `Decimal`, empty as None,
        months as a list in calendar order); errors: field name -> Dutch message.
    """
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for f in all_fields(groups):
        raw = form.get(f.name)
        if f.kind == "months":
            chosen = raw if isinstance(raw, list) else ([raw] if isinstance(raw, str) and raw else [])
            unknown = [m for m in chosen if m not in MONTHS]
            values[f.name] = [m for m in MONTHS if m in chosen]
            if unknown:
                errors[f.name] = "Onbekende maand"
            continue
        text = raw.strip() if isinstance(raw, str) else ""
        if f.kind == "textarea":
            text = text.replace("\r\n", "\n")  # browsers post textarea line ends as CRLF (HTML spec)
        if not text:
            values[f.name] = None
            if f.required:
                errors[f.name] = "Dit veld is verplicht"
            continue
        values[f.name], problem = _clean_one(f, text)
        if problem:
            errors[f.name] = problem
    return values, errors


def validate_case_rules(values: Mapping[str, object]) -> dict[str, str]:
    """Rules across fields of the new case form (after `validate`).

    TONK cases need the requested months, IBAN and tenaamstelling; a partner is another person.
    """
    errors: dict[str, str] = {}
    if values.get("zaaktype") == "TONK":
        if not values.get("maanden"):
            errors["maanden"] = "Kies ten minste een maand"
        for name in ("iban", "tenaamstelling"):
            if not values.get(name):
                errors[name] = "Dit veld is verplicht voor TONK"
    partner = values.get("partner_bsn")
    if partner and partner == values.get("initiator_bsn"):
        errors["partner_bsn"] = "De partner is een andere persoon dan de initiator"
    return errors
