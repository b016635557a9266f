"""The TONK application form as it reaches the municipality (specs/tonk-form.md, "Fields").

One table for every channel: the `key` is the PDF form's field name and the key in the
portal's JSON and in a work item's `payload["fields"]`; the `label` is what the portal
e-mail shows (`Label: value`). Document types are those of `Bijlage <type>: <filename>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Required(StrEnum):
    """When a field must be filled in."""

    YES = "yes"
    NO = "no"
    IF_PARTNER = "if partner"  # woonsituatie is "gehuwd of samenwonend"


class Kind(StrEnum):
    """How a field's raw text is read (common.citizen_text)."""

    TEXT = "text"
    BSN = "bsn"
    DATE = "date"
    HOUSE_NUMBER = "house_number"
    POSTCODE = "postcode"
    EMAIL = "email"
    PHONE = "phone"
    HOUSEHOLD = "household"
    AMOUNT = "amount"
    IBAN = "iban"
    MONTHS = "months"
    YES_NO = "yes_no"


@dataclass(frozen=True, slots=True)
class FormField:
    """One row of the form table: `key`, e-mail/portal `label`, `kind` of value, `required`."""

    key: str
    label: str
    kind: Kind
    required: Required


_F = FormField
_Y, _N, _P = Required.YES, Required.NO, Required.IF_PARTNER

#: the form's fields in form order (tonk-form.md)
FIELDS: tuple[FormField, ...] = (
    _F("bsn", "BSN", Kind.BSN, _Y),
    _F("voornamen", "Voornamen", Kind.TEXT, _Y),
    _F("tussenvoegsel", "Tussenvoegsel", Kind.TEXT, _N),
    _F("achternaam", "Achternaam", Kind.TEXT, _Y),
    _F("geboortedatum", "Geboortedatum", Kind.DATE, _Y),
    _F("straat", "Straat", Kind.TEXT, _Y),
    _F("huisnummer", "Huisnummer", Kind.HOUSE_NUMBER, _Y),
    _F("huisnummertoevoeging", "Toevoeging", Kind.TEXT, _N),
    _F("postcode", "Postcode", Kind.POSTCODE, _Y),
    _F("woonplaats", "Woonplaats", Kind.TEXT, _Y),
    _F("email", "E-mailadres", Kind.EMAIL, _Y),
    _F("telefoon", "Telefoonnummer", Kind.PHONE, _N),
    _F("woonsituatie", "Woonsituatie", Kind.HOUSEHOLD, _Y),
    _F("partner_bsn", "BSN partner", Kind.BSN, _P),
    _F("partner_voornamen", "Voornamen partner", Kind.TEXT, _P),
    _F("partner_achternaam", "Achternaam partner", Kind.TEXT, _P),
    _F("partner_geboortedatum", "Geboortedatum partner", Kind.DATE, _P),
    _F("inkomen_peilmaand_oud", "Netto inkomen huishouden januari 2020", Kind.AMOUNT, _Y),
    _F("inkomen_peilmaand_nieuw", "Netto inkomen huishouden juli 2021", Kind.AMOUNT, _Y),
    _F("huur", "Huur per maand", Kind.AMOUNT, _N),
    _F("huurtoeslag", "Huurtoeslag per maand", Kind.AMOUNT, _N),
    _F("hypotheekrente", "Hypotheekrente per maand", Kind.AMOUNT, _N),
    _F("hypotheekaflossing", "Hypotheekaflossing per maand", Kind.AMOUNT, _N),
    _F("energie", "Gas en elektriciteit per maand", Kind.AMOUNT, _N),
    _F("water", "Water per maand", Kind.AMOUNT, _N),
    _F("vermogen", "Totaal vermogen (spaargeld, banksaldi)", Kind.AMOUNT, _N),
    _F("iban", "IBAN", Kind.IBAN, _Y),
    _F("rekeninghouder", "Tenaamstelling rekening", Kind.TEXT, _Y),
    _F("maanden", "Aangevraagde maanden", Kind.MONTHS, _Y),
    _F("toelichting", "Toelichting", Kind.TEXT, _N),
    _F("verklaring", "Verklaring naar waarheid ingevuld", Kind.YES_NO, _Y),
)

#: key -> field
BY_KEY: dict[str, FormField] = {f.key: f for f in FIELDS}
#: e-mail/portal label -> key (for reading `Label: value` lines)
KEY_BY_LABEL: dict[str, str] = {f.label: f.key for f in FIELDS}
#: housing costs: at least one must be present (tonk-form.md); huurtoeslag is not a cost
HOUSING_COST_KEYS: tuple[str, ...] = ("huur", "hypotheekrente", "hypotheekaflossing", "energie", "water")
#: the partner's fields, required when woonsituatie says there is a partner
PARTNER_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required is Required.IF_PARTNER)


class Household(StrEnum):
    """Woonsituatie: the three values of the form."""

    ALLEENSTAAND = "alleenstaand"
    ALLEENSTAANDE_OUDER = "alleenstaande ouder"
    GEHUWD_OF_SAMENWONEND = "gehuwd of samenwonend"

    @property
    def has_partner(self) -> bool:
        return self is Household.GEHUWD_OF_SAMENWONEND


@dataclass(frozen=True, slots=True)
class DocumentType:
    """One document type of `Bijlage <type>: <filename>`: its `name`, what it is, `required`."""

    name: str
    description: str
    required: Required


#: the document types (tonk-form.md, "Document types")
DOCUMENT_TYPES: tuple[DocumentType, ...] = (
    DocumentType("identiteitsbewijs", "identiteitsbewijs van de aanvrager (geen rijbewijs)", _Y),
    DocumentType("identiteitsbewijs partner", "identiteitsbewijs van de partner (geen rijbewijs)", _P),
    DocumentType("bankpas", "kopie bankpas of bankafschrift met IBAN en tenaamstelling", _Y),
    DocumentType("inkomen oud", "bewijs netto inkomen huishouden in de oude peilmaand", _Y),
    DocumentType("inkomen nieuw", "bewijs netto inkomen huishouden in de nieuwe peilmaand", _Y),
    DocumentType("woonkosten", "huurspecificatie, hypotheekoverzicht of energierekening", _N),
)
DOCUMENT_TYPE_BY_NAME: dict[str, DocumentType] = {d.name: d for d in DOCUMENT_TYPES}


def normalise_document_type(text: str) -> str:
    """``" Identiteitsbewijs  Partner"`` -> ``"identiteitsbewijs partner"`` (case and spacing ignored)."""
    return " ".join(text.split()).lower()
