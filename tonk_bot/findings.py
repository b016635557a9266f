"""Findings: what the intake checks found wrong with an application, one per problem.

A finding sends the work item to the exception queue (a business exception); the
caseworker sees every finding at once, each with the field, the value as seen and a
Dutch message. The codes are stable: the sample generator records the code and field
it expects for each fault it injects, and reports count by code.

| code | field | value | when |
|---|---|---|---|
| `required_missing` | the form key | as seen (blank) or null | a required field is empty or absent |
| `partner_missing` | the partner key (`partner_bsn`, ...) | as seen or null | partner household, field empty |
| `bsn_invalid` | `bsn` / `partner_bsn` | as seen | not 9 digits (8 padded), fails the 11-proof, or `000000000` |
| `iban_invalid` | `iban` | as seen | shape or mod-97 check fails |
| `postcode_invalid` | `postcode` | as seen | not `1234 AB`, or letters SA/SD/SS |
| `email_invalid` | `email` | as seen | not an e-mail address |
| `phone_invalid` | `telefoon` | as seen | not a Dutch (or international `+`) number |
| `housenumber_invalid` | `huisnummer` | as seen | not 1-5 digits (toevoeging belongs in its own field) |
| `date_unreadable` | `geboortedatum` / `partner_geboortedatum` | as seen | not a day-first date that exists |
| `amount_unreadable` | the amount key | as seen | not an amount (see common.citizen_text) |
| `amount_ambiguous` | the amount key | as seen | `1,234`: thousands or decimals cannot be decided |
| `amount_negative` | the amount key | as seen | a minus sign |
| `no_housing_costs` | `woonkosten` | null | none of huur, hypotheekrente, hypotheekaflossing, energie, water above 0 |
| `household_invalid` | `woonsituatie` | as seen | not one of the three values |
| `months_unreadable` | `maanden` | as seen | not Dutch month names |
| `declaration_not_confirmed` | `verklaring` | as seen | filled, but not `ja` |
| `document_missing` | the document type, e.g. `identiteitsbewijs` | null | a required `Bijlage` is absent |
| `received_after_deadline` | `received` | date received, ISO | after the policy's deadline |
| `months_outside_period` | `maanden` | as seen | none of the requested months is in the scheme period |
| `applicant_under_18` | `geboortedatum` | as seen | younger than 18 on the date received |
| `possible_duplicate` | `bsn` / `partner_bsn` | the BSN | same BSN in another work item with an overlapping month |
| `no_policy` | `received` | date received, ISO | no policy in force on the date received |

An empty `verklaring` is `required_missing`; a filled one that is not yes (``nee``,
``misschien``) is `declaration_not_confirmed`. Requested months outside the period
while others are inside are no finding: the assessment leaves them out and names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from common.citizen_text import TextProblem
from common.masking import mask_bsn, mask_iban, mask_text
from tonk_bot.form import BY_KEY, DOCUMENT_TYPE_BY_NAME


class Code(StrEnum):
    """The stable finding codes (see the module docstring for field and value of each)."""

    REQUIRED_MISSING = "required_missing"
    PARTNER_MISSING = "partner_missing"
    BSN_INVALID = "bsn_invalid"
    IBAN_INVALID = "iban_invalid"
    POSTCODE_INVALID = "postcode_invalid"
    EMAIL_INVALID = "email_invalid"
    PHONE_INVALID = "phone_invalid"
    HOUSENUMBER_INVALID = "housenumber_invalid"
    DATE_UNREADABLE = "date_unreadable"
    AMOUNT_UNREADABLE = "amount_unreadable"
    AMOUNT_AMBIGUOUS = "amount_ambiguous"
    AMOUNT_NEGATIVE = "amount_negative"
    NO_HOUSING_COSTS = "no_housing_costs"
    HOUSEHOLD_INVALID = "household_invalid"
    MONTHS_UNREADABLE = "months_unreadable"
    DECLARATION_NOT_CONFIRMED = "declaration_not_confirmed"
    DOCUMENT_MISSING = "document_missing"
    RECEIVED_AFTER_DEADLINE = "received_after_deadline"
    MONTHS_OUTSIDE_PERIOD = "months_outside_period"
    APPLICANT_UNDER_18 = "applicant_under_18"
    POSSIBLE_DUPLICATE = "possible_duplicate"
    NO_POLICY = "no_policy"


#: field names of findings that are not form keys
FIELD_HOUSING_COSTS = "woonkosten"
FIELD_RECEIVED = "received"


class Finding(BaseModel):
    """One problem found in an application.

    Attributes:
        code: stable code (`Code`), e.g. ``"bsn_invalid"``.
        field: the form key (``"bsn"``), a document type (``"identiteitsbewijs"``), or
            ``"woonkosten"`` / ``"received"`` (see the module docstring).
        value: the value as seen (whole: mask it with `masked()` for logs, lists and reports), or None.
        message: Dutch, for a caseworker; contains no BSN or IBAN.
    """

    model_config = ConfigDict(frozen=True)

    code: Code
    field: str
    value: str | None = None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (`code` as a string) for a work item's `findings`."""
        return {"code": self.code.value, "field": self.field, "value": self.value, "message": self.message}

    def masked(self) -> dict[str, Any]:
        """As `as_dict`, with a BSN or IBAN value masked (``*****2333``, ``NL91 **** **** **43 00``) and
        BSN/IBAN-shaped parts of other values masked too."""
        out = self.as_dict()
        value = self.value
        if value is not None:
            if self.field.endswith("bsn"):
                out["value"] = mask_bsn(value)
            elif self.field.endswith("iban"):
                out["value"] = mask_iban(value)
            else:
                out["value"] = mask_text(value)
        return out


def label(key: str) -> str:
    """The form label of `key` (``"huur"`` -> ``"Huur per maand"``), else the key itself."""
    field = BY_KEY.get(key)
    return field.label if field else key


def from_problem(key: str, problem: TextProblem) -> Finding:
    """A finding for a field whose text could not be read (the problem's code is the finding's)."""
    text = problem.message
    if len(text) > 1 and text[1].islower():
        text = text[0].lower() + text[1:]
    return Finding(code=Code(problem.code), field=key, value=problem.value, message=f"{label(key)}: {text}")


def required_missing(key: str, seen: str | None) -> Finding:
    return Finding(code=Code.REQUIRED_MISSING, field=key, value=seen,
                   message=f"{label(key)} ontbreekt (verplicht veld).")


def partner_missing(key: str, seen: str | None) -> Finding:
    return Finding(code=Code.PARTNER_MISSING, field=key, value=seen,
                   message=f"{label(key)} ontbreekt, terwijl de woonsituatie 'gehuwd of samenwonend' is.")


def housenumber_invalid(seen: str) -> Finding:
    return Finding(code=Code.HOUSENUMBER_INVALID, field="huisnummer", value=seen,
                   message="Huisnummer klopt niet: verwacht alleen cijfers (een toevoeging hoort in het "
                           "veld Toevoeging).")


def household_invalid(seen: str) -> Finding:
    return Finding(code=Code.HOUSEHOLD_INVALID, field="woonsituatie", value=seen,
                   message="Woonsituatie onbekend: verwacht 'alleenstaand', 'alleenstaande ouder' of "
                           "'gehuwd of samenwonend'.")


def no_housing_costs() -> Finding:
    return Finding(code=Code.NO_HOUSING_COSTS, field=FIELD_HOUSING_COSTS, value=None,
                   message="Geen woonkosten ingevuld: minstens een van huur, hypotheekrente, "
                           "hypotheekaflossing, gas en elektriciteit of water is nodig.")


def declaration_not_confirmed(seen: str) -> Finding:
    return Finding(code=Code.DECLARATION_NOT_CONFIRMED, field="verklaring", value=seen,
                   message="De verklaring naar waarheid is niet met 'ja' bevestigd.")


def document_missing(document_type: str) -> Finding:
    known = DOCUMENT_TYPE_BY_NAME.get(document_type)
    what = f": {known.description}" if known else ""
    return Finding(code=Code.DOCUMENT_MISSING, field=document_type, value=None,
                   message=f"Bijlage ontbreekt: {document_type}{what}.")


def received_after_deadline(received: date, deadline: date, policy_id: str) -> Finding:
    return Finding(code=Code.RECEIVED_AFTER_DEADLINE, field=FIELD_RECEIVED, value=received.isoformat(),
                   message=f"Ontvangen op {received:%d-%m-%Y}, na de uiterste aanvraagdatum "
                           f"{deadline:%d-%m-%Y} (beleid {policy_id}).")


def months_outside_period(seen: str, start: date, end: date) -> Finding:
    return Finding(code=Code.MONTHS_OUTSIDE_PERIOD, field="maanden", value=seen,
                   message=f"Geen van de aangevraagde maanden valt in de periode van de regeling "
                           f"({start:%d-%m-%Y} t/m {end:%d-%m-%Y}).")


def applicant_under_18(seen: str, age: int) -> Finding:
    return Finding(code=Code.APPLICANT_UNDER_18, field="geboortedatum", value=seen,
                   message=f"De aanvrager is op de ontvangstdatum {age} jaar, jonger dan 18.")


def possible_duplicate(key: str, bsn: str, references: Sequence[str], months: Iterable[str]) -> Finding:
    who = "de aanvrager" if key == "bsn" else "de partner"
    return Finding(code=Code.POSSIBLE_DUPLICATE, field=key, value=bsn,
                   message=f"Mogelijk dubbele aanvraag: het BSN van {who} staat ook in "
                           f"{', '.join(references)}, voor dezelfde maand(en) {', '.join(sorted(months))}.")


def no_policy(received: date) -> Finding:
    return Finding(code=Code.NO_POLICY, field=FIELD_RECEIVED, value=received.isoformat(),
                   message=f"Geen beleid van kracht op de ontvangstdatum {received:%d-%m-%Y}; een "
                           f"functioneel beheerder moet het beleid aanvullen.")
