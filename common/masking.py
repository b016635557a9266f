"""Masking personal data for logs, lists and reports.

Rule (specs/tonk-policy.md, "Intake checks"): a BSN shows only its last four
digits (`*****2333`), an IBAN its country, the last six characters in groups
(`NL91 **** **** **43 00`). Whole values appear only in a work item's detail
view. Free text is scanned for BSN- and IBAN-shaped substrings as well, since a
citizen may type a BSN anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"

# a 9-digit run (8 with a leading zero are still 9), optionally grouped by spaces or dots (123.456.782)
_BSN_IN_TEXT = re.compile(r"(?<![\dA-Za-z])(\d{3}[ .]?\d{3}[ .]?\d{3}|\d{8})(?![\dA-Za-z])")
# compact (NL91ABNA0417164300, any case) or grouped by four (NL91 ABNA 0417 1643 00); a last short group
# must hold a digit, so a following word ("NL91 ABNA 0417 1643 00 ook") is not taken for part of it
_IBAN_IN_TEXT = re.compile(
    r"\b((?i:[A-Z]{2}\d{2}[A-Z0-9]{11,30})|[A-Z]{2}\d{2}(?: [A-Z0-9]{4}){2,7}(?: (?=[A-Z0-9]{0,3}\d)[A-Z0-9]{1,4})?)\b")

#: keys whose values are secrets: replaced whole, wherever they appear
SECRET_KEYS = frozenset({"password", "passwd", "token", "secret", "authorization", "cookie", "client_secret",
                         "access_token", "refresh_token", "csrf_token", "api_key"})
#: keys whose values are personal data beyond BSN/IBAN (names, contact details, amounts)
PERSONAL_KEYS = frozenset({"voornamen", "tussenvoegsel", "achternaam", "naam", "name", "geboortedatum",
                           "straat", "huisnummer", "email", "telefoon", "rekeninghouder", "toelichting",
                           "partner_voornamen", "partner_achternaam", "partner_geboortedatum", "filename",
                           "inkomen_peilmaand_oud", "inkomen_peilmaand_nieuw", "huur", "huurtoeslag",
                           "hypotheekrente", "hypotheekaflossing", "energie", "water", "vermogen"})


def mask_bsn(value: str) -> str:
    """`"111222333"` -> `"*****2333"`; fewer than 5 digits -> all stars."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 5:
        return "*" * len(value)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_iban(value: str) -> str:
    """`"NL91ABNA0417164300"` -> `"NL91 **** **** **43 00"` (country + check digits, last 4 shown)."""
    compact = re.sub(r"\s", "", value).upper()
    if len(compact) < 8:
        return "*" * len(compact)
    hidden = compact[:4] + "*" * (len(compact) - 8) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))


def mask_text(text: str) -> str:
    """Mask every BSN- or IBAN-shaped substring of free text."""
    text = _IBAN_IN_TEXT.sub(lambda m: mask_iban(m.group(1)), text)
    return _BSN_IN_TEXT.sub(lambda m: mask_bsn(m.group(1)), text)


def mask_value(key: str, value: Any) -> Any:
    """Mask one value by what its key says it holds (secret, BSN, IBAN, personal) or by its shape."""
    lowered = key.lower()
    if lowered in SECRET_KEYS or lowered.endswith(("_password", "_token", "_secret")):
        return MASK
    if isinstance(value, Mapping):
        return mask_mapping(value)
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    if not isinstance(value, str):
        return value
    if lowered.endswith("bsn"):
        return mask_bsn(value)
    if lowered.endswith("iban"):
        return mask_iban(value)
    if lowered in PERSONAL_KEYS:
        return MASK if value else value
    return mask_text(value)


def mask_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `data` with every value masked by `mask_value`."""
    return {k: mask_value(str(k), v) for k, v in data.items()}


def mask_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    """A finding (`code`, `field`, `value`, `message`) with `value` masked by what `field` holds."""
    out = dict(finding)
    if isinstance(out.get("value"), str):
        out["value"] = mask_value(str(out.get("field") or ""), out["value"])
    return out
