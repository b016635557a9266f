"""Inject exactly one intake fault into a valid application, and say which.

Finding codes (shared with the robot's tests through the expectation file):

| code | field | what the sample has |
|---|---|---|
| `bsn_invalid` | `bsn` | a 9-digit BSN failing the 11-proof |
| `document_missing` | the document type, e.g. `identiteitsbewijs` | no `Bijlage` line, no file of that type |
| `required_missing` | the form key, e.g. `achternaam` | the field left out, or present with an empty value |
| `amount_unreadable` | the form key, e.g. `huur` | words instead of an amount (`twaalfhonderd`) |

Each fault is chosen so it triggers no second intake check (tonk-policy.md "Intake
checks"): a missing field is never one another check reads (maanden, verklaring,
woonsituatie, birth date, BSN, IBAN, incomes), and an unreadable housing cost always
leaves another readable one, so "at least one housing cost" still holds (and the rent
stays readable when huurtoeslag is subtracted from it).
"""

from __future__ import annotations

import random

from sandbox.samples import documents as docs
from sandbox.samples.application import Application
from sandbox.samples.form import AMOUNT_KEYS, HOUSING_COST_KEYS
from sandbox.samples.formats import UNREADABLE_AMOUNTS, type_bsn
from sandbox.samples.identifiers import make_invalid_bsn

BSN_INVALID = "bsn_invalid"
DOCUMENT_MISSING = "document_missing"
REQUIRED_MISSING = "required_missing"
AMOUNT_UNREADABLE = "amount_unreadable"
FAULTS = (BSN_INVALID, DOCUMENT_MISSING, REQUIRED_MISSING, AMOUNT_UNREADABLE)

#: required fields whose absence is only `required_missing`, nothing else
SAFE_REQUIRED_KEYS = ("achternaam", "voornamen", "straat", "huisnummer", "postcode", "woonplaats", "email",
                      "rekeninghouder")
REQUIRED_DOCUMENTS = (docs.IDENTITY, docs.IDENTITY_PARTNER, docs.BANK_CARD, docs.INCOME_OLD, docs.INCOME_NEW)


def inject(app: Application, fault: str, rng: random.Random) -> list[dict[str, str]]:
    """Change `app` in place so that it has exactly `fault`; return its finding codes
    (`[{"code": ..., "field": ...}]`). The expected assessment is dropped (no advice is
    expected for an application that cannot be registered). Raises ValueError for an
    unknown fault."""
    app.assessment = None
    if fault == BSN_INVALID:
        invalid = make_invalid_bsn(rng)
        app.raw["bsn"] = type_bsn(invalid, rng)
        app.parsed["bsn"] = invalid
        return [{"code": BSN_INVALID, "field": "bsn"}]
    if fault == DOCUMENT_MISSING:
        present = [d.type for d in app.documents if d.type in REQUIRED_DOCUMENTS]
        doc_type = rng.choice(present)
        app.documents = [d for d in app.documents if d.type != doc_type]
        return [{"code": DOCUMENT_MISSING, "field": doc_type}]
    if fault == REQUIRED_MISSING:
        key = rng.choice(SAFE_REQUIRED_KEYS)
        if rng.random() < 0.5:
            del app.raw[key]
        else:
            app.raw[key] = ""
        app.parsed.pop(key, None)
        return [{"code": REQUIRED_MISSING, "field": key}]
    if fault == AMOUNT_UNREADABLE:
        filled = [k for k in AMOUNT_KEYS if app.raw.get(k)]
        housing = [k for k in HOUSING_COST_KEYS if app.raw.get(k)]
        # a housing cost may be spoiled only when another one stays readable
        candidates = [k for k in filled if k not in HOUSING_COST_KEYS or len(housing) > 1]
        if app.raw.get("huurtoeslag"):  # huurtoeslag is subtracted from rent: keep the rent readable
            candidates = [k for k in candidates if k != "huur"]
        key = rng.choice(candidates)
        app.raw[key] = rng.choice(UNREADABLE_AMOUNTS)
        app.parsed.pop(key, None)
        return [{"code": AMOUNT_UNREADABLE, "field": key}]
    raise ValueError(f"unknown fault: {fault!r} (known: {', '.join(FAULTS)})")
