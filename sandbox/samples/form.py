"""The TONK form as the portal shows it: field keys, labels and order (tonk-form.md, "Fields").

The sandbox keeps its own copy of the table: it is the outside world and imports
nothing of the robot.
"""

from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    """One form field: `key` (JSON key, AcroForm field name), `label` (e-mail line), `required`
    (`"yes"`, `"no"` or `"partner"` = required when the household has a partner)."""

    key: str
    label: str
    required: str


FIELDS: tuple[Field, ...] = (
    Field("bsn", "BSN", "yes"),
    Field("voornamen", "Voornamen", "yes"),
    Field("tussenvoegsel", "Tussenvoegsel", "no"),
    Field("achternaam", "Achternaam", "yes"),
    Field("geboortedatum", "Geboortedatum", "yes"),
    Field("straat", "Straat", "yes"),
    Field("huisnummer", "Huisnummer", "yes"),
    Field("huisnummertoevoeging", "Toevoeging", "no"),
    Field("postcode", "Postcode", "yes"),
    Field("woonplaats", "Woonplaats", "yes"),
    Field("email", "E-mailadres", "yes"),
    Field("telefoon", "Telefoonnummer", "no"),
    Field("woonsituatie", "Woonsituatie", "yes"),
    Field("partner_bsn", "BSN partner", "partner"),
    Field("partner_voornamen", "Voornamen partner", "partner"),
    Field("partner_achternaam", "Achternaam partner", "partner"),
    Field("partner_geboortedatum", "Geboortedatum partner", "partner"),
    Field("inkomen_peilmaand_oud", "Netto inkomen huishouden januari 2020", "yes"),
    Field("inkomen_peilmaand_nieuw", "Netto inkomen huishouden juli 2021", "yes"),
    Field("huur", "Huur per maand", "no"),
    Field("huurtoeslag", "Huurtoeslag per maand", "no"),
    Field("hypotheekrente", "Hypotheekrente per maand", "no"),
    Field("hypotheekaflossing", "Hypotheekaflossing per maand", "no"),
    Field("energie", "Gas en elektriciteit per maand", "no"),
    Field("water", "Water per maand", "no"),
    Field("vermogen", "Totaal vermogen (spaargeld, banksaldi)", "no"),
    Field("iban", "IBAN", "yes"),
    Field("rekeninghouder", "Tenaamstelling rekening", "yes"),
    Field("maanden", "Aangevraagde maanden", "yes"),
    Field("toelichting", "Toelichting", "no"),
    Field("verklaring", "Verklaring naar waarheid ingevuld", "yes"),
)

KEYS = tuple(f.key for f in FIELDS)
LABELS = {f.key: f.label for f in FIELDS}

AMOUNT_KEYS = ("inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "huur", "huurtoeslag", "hypotheekrente",
               "hypotheekaflossing", "energie", "water", "vermogen")
HOUSING_COST_KEYS = ("huur", "hypotheekrente", "hypotheekaflossing", "energie", "water")
DATE_KEYS = ("geboortedatum", "partner_geboortedatum")
PARTNER_KEYS = ("partner_bsn", "partner_voornamen", "partner_achternaam", "partner_geboortedatum")

FORM_NAME = "TONK aanvraag"
PORTAL_FORM_SLUG = "tonk"
