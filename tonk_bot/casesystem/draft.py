"""The case system's view of one TONK registration: what the robot types, selects and uploads.

The domain model (parsed, checked, assessed application) is turned into a `CaseDraft`
by the consumer; the page objects know only this. What a registration holds comes
from specs/tonk-form.md, "What the case system needs": zaaktype TONK, initiator
(and partner) by BSN, omschrijving `TONK aanvraag <reference>` (max 80 characters),
startdatum = the date received, kanaal `e-formulier` or `e-mail`, extern kenmerk =
the reference, the amounts and requested months, each document with its type, and
the pre-assessment as a note. Money is `Decimal` in euros, never float.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
          "november", "december")
DocumentType = Literal["identiteitsbewijs", "identiteitsbewijs partner", "bankpas", "inkomen oud",
                       "inkomen nieuw", "woonkosten", "overig"]
AMOUNT_FIELDS = ("inkomen_oud", "inkomen_nieuw", "huur", "huurtoeslag", "hypotheekrente", "hypotheekaflossing",
                 "energie", "water", "vermogen")
_FILENAME_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class PersonDraft(_Frozen):
    """A person as the case system records them (initiator or partner), found or created by BSN."""

    bsn: str = Field(pattern=r"^\d{9}$", description="9 digits, already 11-proof checked by intake")
    voornamen: str = Field(min_length=1)
    tussenvoegsel: str | None = None
    achternaam: str = Field(min_length=1)
    geboortedatum: date
    straat: str = Field(min_length=1)
    huisnummer: str = Field(pattern=r"^[1-9]\d{0,4}$")
    toevoeging: str | None = None
    postcode: str = Field(pattern=r"^[1-9]\d{3} ?[A-Za-z]{2}$")
    woonplaats: str = Field(min_length=1)
    email: str | None = None
    telefoon: str | None = None


class DocumentDraft(_Frozen):
    """One document to upload: the stored file at `path`, uploaded under the citizen's `filename`.

    `sha256` (hex) is checked against the file's bytes before upload.
    """

    path: Path
    filename: str = Field(min_length=1, max_length=255)
    document_type: DocumentType
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if _FILENAME_FORBIDDEN.search(value):
            raise ValueError("a file name without path separators or control characters")
        return value


class CaseDraft(_Frozen):
    """A TONK zaak to register (see the module docstring for where each rule comes from).

    Amounts are euros as `Decimal` (>= 0, at most 2 decimals) or None when not given.
    `omschrijving` defaults to `TONK aanvraag <reference>`.
    """

    reference: str = Field(min_length=1, max_length=40, description="extern kenmerk: OF-XXXXXX or MAIL-...")
    omschrijving: str = Field(max_length=80)
    startdatum: date
    kanaal: Literal["e-formulier", "e-mail"]
    initiator: PersonDraft
    partner: PersonDraft | None = None
    inkomen_oud: Decimal | None = Field(None, ge=0, decimal_places=2)
    inkomen_nieuw: Decimal | None = Field(None, ge=0, decimal_places=2)
    huur: Decimal | None = Field(None, ge=0, decimal_places=2)
    huurtoeslag: Decimal | None = Field(None, ge=0, decimal_places=2)
    hypotheekrente: Decimal | None = Field(None, ge=0, decimal_places=2)
    hypotheekaflossing: Decimal | None = Field(None, ge=0, decimal_places=2)
    energie: Decimal | None = Field(None, ge=0, decimal_places=2)
    water: Decimal | None = Field(None, ge=0, decimal_places=2)
    vermogen: Decimal | None = Field(None, ge=0, decimal_places=2)
    maanden: tuple[str, ...] = Field(min_length=1)
    iban: str = Field(pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$", description="compact, upper case")
    rekeninghouder: str = Field(min_length=1, max_length=70)
    toelichting: str | None = None
    note: str = Field(min_length=1, description="the robot's pre-assessment (advice, not a decision)")
    documents: tuple[DocumentDraft, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _default_omschrijving(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("omschrijving") and data.get("reference"):
            return {**data, "omschrijving": f"TONK aanvraag {str(data['reference']).strip()}"}
        return data

    @field_validator("maanden")
    @classmethod
    def _dutch_months(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in value if m not in MONTHS]
        if unknown:
            raise ValueError(f"unknown month name(s): {', '.join(unknown)} (expected lower-case Dutch names)")
        return value

    @model_validator(mode="after")
    def _partner_is_someone_else(self) -> CaseDraft:
        if self.partner is not None and self.partner.bsn == self.initiator.bsn:
            raise ValueError("partner: the partner's BSN equals the initiator's")
        return self

    def amounts(self) -> dict[str, Decimal | None]:
        """The amounts by field name, in form order (`AMOUNT_FIELDS`)."""
        return {name: getattr(self, name) for name in AMOUNT_FIELDS}
