"""Identifiers for sample applications: BSN, IBAN, postcode, portal and mail references.

Rules from `specs/tonk-policy.md` ("Identifiers") and `specs/tonk-form.md` ("The date
received and the reference"). Numbers are drawn with arithmetic and then confirmed with
python-stdnum, so a generator bug cannot hand out an invalid "valid" value.
"""

from __future__ import annotations

import hashlib
import random

from stdnum import iban as stdnum_iban
from stdnum.nl import bsn as stdnum_bsn

#: the portal's reference alphabet (no I, O, 0, 1): tonk-form.md, channel 1
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: BSN 11-proof weights (tonk-policy.md): the last digit counts -1
_BSN_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2)

#: Dutch bank codes seen on bank cards in Flevoland
BANK_CODES = ("ABNA", "INGB", "RABO", "SNSB", "ASNB", "TRIO", "KNAB", "BUNQ", "RBRB")

#: postcode letter pairs that never occur (tonk-policy.md)
_FORBIDDEN_POSTCODE_LETTERS = frozenset({"SA", "SD", "SS"})


def _bsn_check_digit(first8: str) -> int:
    """The ninth digit that makes `first8` + digit pass the 11-proof; 10 means no such digit."""
    total = sum(w * int(d) for w, d in zip(_BSN_WEIGHTS, first8, strict=True))
    return total % 11


def make_bsn(rng: random.Random) -> str:
    """A random valid BSN: 9 digits (leading zero allowed), passing the 11-proof, never `000000000`.

    About one in twelve draws starts with 0 (an 8-digit number padded), as real BSNs do.
    """
    while True:
        first8 = "0" + f"{rng.randrange(10**7):07d}" if rng.random() < 0.08 else f"{rng.randrange(10**7, 10**8)}"
        check = _bsn_check_digit(first8)
        if check == 10:
            continue
        value = first8 + str(check)
        if value != "000000000" and stdnum_bsn.is_valid(value):
            return value


def make_invalid_bsn(rng: random.Random) -> str:
    """A 9-digit number that fails the 11-proof: a valid BSN with its last digit changed.

    The 11-proof fixes the last digit uniquely within 0-9, so any other digit fails.
    """
    valid = make_bsn(rng)
    other = rng.choice([d for d in "0123456789" if d != valid[-1]])
    value = valid[:-1] + other
    if stdnum_bsn.is_valid(value):  # cannot happen by the arithmetic above; guard the oracle anyway
        raise AssertionError(f"invalid BSN generator produced a valid BSN {value}")
    return value


def make_iban(rng: random.Random) -> str:
    """A random valid Dutch IBAN, compact (`NL` + 2 check digits + bank code + 10 digits), ISO 13616 mod-97."""
    bank = rng.choice(BANK_CODES)
    account = f"{rng.randrange(10**9):010d}"
    check = stdnum_iban.calc_check_digits(f"NL00{bank}{account}")
    value = f"NL{check}{bank}{account}"
    if not stdnum_iban.is_valid(value):
        raise AssertionError(f"IBAN generator produced an invalid IBAN {value}")
    return value


def make_postcode_letters(rng: random.Random) -> str:
    """Two upper-case postcode letters, never SA, SD or SS."""
    while True:
        letters = rng.choice("ABCDEFGHJKLMNPRTVWXZ") + rng.choice("ABCDEFGHJKLMNPRSTVWXZ")
        if letters not in _FORBIDDEN_POSTCODE_LETTERS:
            return letters


def make_portal_reference(rng: random.Random) -> str:
    """`OF-` plus 6 characters of the portal's alphabet, e.g. `OF-7QK2MZ`."""
    return "OF-" + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(6))


def mail_reference(message_id: str) -> str:
    """The reference of a mail without a portal reference: `MAIL-` + first 12 hex digits of sha256.

    Hashed: the Message-ID header value without surrounding whitespace and angle brackets,
    UTF-8 encoded (tonk-form.md, "The reference"; the same rule as `tonk_bot.producer`).
    """
    return "MAIL-" + hashlib.sha256(message_id.strip().strip("<>").encode("utf-8")).hexdigest()[:12]
