"""Shared builders for the TONK tests (no tests here): a complete Dronten application and the policies.

The base application is complete and `voldoet` under Dronten: single, old income 2000, new
1400 (drop 600/2000 = 30 %), huur 650 (650/1400 = 46.4 % >= 40 %), July-September 2021.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from pathlib import Path

from tonk_bot.intake import IntakeResult, evaluate
from tonk_bot.model import DocumentRef
from tonk_bot.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "config" / "policies"
RECEIVED = date(2021, 8, 12)

BASE: dict[str, str] = {
    "bsn": "111222333",
    "voornamen": "Anna Maria",
    "tussenvoegsel": "de",
    "achternaam": "Vries",
    "geboortedatum": "01-02-1980",
    "straat": "De Rede",
    "huisnummer": "12",
    "huisnummertoevoeging": "",
    "postcode": "8251 AB",
    "woonplaats": "Dronten",
    "email": "anna.devries@example.nl",
    "telefoon": "06-12345678",
    "woonsituatie": "alleenstaand",
    "inkomen_peilmaand_oud": "€ 2.000,00",
    "inkomen_peilmaand_nieuw": "1400",
    "huur": "€ 650,-",
    "iban": "NL91 ABNA 0417 1643 00",
    "rekeninghouder": "A.M. de Vries",
    "maanden": "juli, augustus, september",
    "toelichting": "Door corona mijn baan in de horeca kwijt.",
    "verklaring": "ja",
}
PARTNER: dict[str, str] = {
    "woonsituatie": "gehuwd of samenwonend",
    "partner_bsn": "123456782",
    "partner_voornamen": "Mehmet",
    "partner_achternaam": "Öztürk-de Vries",
    "partner_geboortedatum": "1979-12-31",
}
REQUIRED_DOCS = ("identiteitsbewijs", "bankpas", "inkomen oud", "inkomen nieuw")


def application(overrides: Mapping[str, str | None] | None = None, *, partner: bool = False) -> dict[str, str]:
    """The base form with `overrides` applied (a None value removes the key)."""
    fields = {**BASE, **(PARTNER if partner else {})}
    for key, value in (overrides or {}).items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    return fields


def documents(*, partner: bool = False, without: tuple[str, ...] = ()) -> list[DocumentRef]:
    types = [*REQUIRED_DOCS, *(("identiteitsbewijs partner",) if partner else ())]
    return [DocumentRef(type=t, filename=f"{t}.pdf") for t in types if t not in without]


@cache
def policy(name: str) -> Policy:
    """A shipped policy by file name, e.g. ``"dronten-2021-q3.yaml"``."""
    return load_policy(POLICIES / name)


def run(name: str, overrides: Mapping[str, str | None] | None = None, *, received: date = RECEIVED,
        partner: bool = False) -> IntakeResult:
    """Evaluate the base application with `overrides` under the shipped policy `name`."""
    return evaluate(application(overrides, partner=partner), documents(partner=partner), received, policy(name))


def codes(result: IntakeResult) -> list[tuple[str, str]]:
    return [(f.code.value, f.field) for f in result.findings]
