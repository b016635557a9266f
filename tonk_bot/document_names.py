"""The document type of a file a citizen attached to a mail, from its filename (channel 3).

A PDF form by e-mail has no `Bijlage <type>: <filename>` lines (specs/tonk-form.md), so the
type comes from what citizens call their files: `paspoort Anna.pdf`, `loonstrook januari 2020.pdf`,
`bankafschrift juli 2021.jpg`. The rules, in this order (the first that matches wins):

1. woonkosten: huur, hypotheek, energie, jaarnota, woonlasten, gas, stroom;
2. bankpas: bankpas, pinpas, betaalpas, bankafschrift, rekeningafschrift;
3. identiteitsbewijs: paspoort, ID-kaart, identiteitskaart, identiteitsbewijs, verblijfsdocument,
   verblijfsvergunning, the word `ID`; it is the partner's when the name says `partner`, or names
   the partner's first name and not the applicant's;
4. inkomen: loonstrook, salaris(strook), uitkering, inkomen, inkomsten, loon, jaaropgaaf: `inkomen oud`
   when it names only 2020 (`2020`, `'20`), `inkomen nieuw` when only 2021 (`2021`, `'21`).

Anything else (or income proof naming both or neither year) gets no type: the intake checks then
report the missing document and a caseworker decides, since a guess must never pass for a fact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

_HOUSING = re.compile(r"huur|hypothe|energie|jaarnota|woonlasten|\bgas\b|stroom")
_BANK = re.compile(r"bankpas|pinpas|betaalpas|bankafschrift|rekeningafschrift")
_IDENTITY = re.compile(r"paspoort|id-?kaart|identiteitskaart|identiteitsbewijs|verblijfsdoc|verblijfsverg|\bid\b")
_INCOME = re.compile(r"loonstrook|salaris|uitkering|inkomen|inkomsten|\bloon|jaaropgaaf|jaaropgave")
_OLD_YEAR = re.compile(r"2020|'20\b|\u201920\b")
_NEW_YEAR = re.compile(r"2021|'21\b|\u201921\b")


def _fold(text: str) -> str:
    """Lower case without accents: `Özlem` -> `ozlem`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _first_name(value: object) -> str | None:
    words = _fold(str(value or "")).split()
    return words[0] if words else None


def guess_document_type(filename: str, fields: Mapping[str, str]) -> str | None:
    """The document type of `filename` by the rules of the module docstring, or None when they do not tell.

    `fields` are the form's raw fields (for `voornamen` and `partner_voornamen`).
    """
    name = _fold(filename.rsplit(".", 1)[0] if "." in filename else filename)
    name = name.replace("_", " ")
    if _HOUSING.search(name):
        return "woonkosten"
    if _BANK.search(name):
        return "bankpas"
    if _IDENTITY.search(name):
        words = set(re.findall(r"\w+", name))
        partner = _first_name(fields.get("partner_voornamen"))
        applicant = _first_name(fields.get("voornamen"))
        if "partner" in words or (partner and partner in words and applicant not in words):
            return "identiteitsbewijs partner"
        return "identiteitsbewijs"
    if _INCOME.search(name):
        old, new = bool(_OLD_YEAR.search(name)), bool(_NEW_YEAR.search(name))
        if old != new:
            return "inkomen oud" if old else "inkomen nieuw"
    return None
