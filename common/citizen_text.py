"""Reading what citizens type: euro amounts, dates, postcodes, phone numbers, BSN, IBAN, months.

Shared by every bot that reads Dutch forms. Each parser takes the raw text and returns
either the value or a `TextProblem` (a stable `code` plus a Dutch explanation); it never
raises on citizens' input, whatever the string. Money is `Decimal` with two places, never
float. The domain package turns a `TextProblem` into a finding that names its field.

Rules come from `specs/tonk-form.md` ("Formats as citizens write them") and
`specs/tonk-policy.md` ("Identifiers"). BSN and IBAN checks use python-stdnum.

The amount rule, in full (tonk-form.md, extended where it was silent):

1. Surrounding space (also no-break U+00A0 and narrow no-break U+202F) is ignored; a euro
   sign, ``EUR`` or ``euro`` may stand before or after the number; a leading ``+`` is ignored.
2. A trailing ``,-`` or ``.-`` (``950,-``) means "whole euros": what precedes it may not
   have a decimal part.
3. A minus sign (``-`` or U+2212) before the number gives ``amount_negative``.
4. Separators are ``.``, ``,`` and a single space. The last separator is the decimal mark
   when exactly 1 or 2 digits follow it and it is a dot or a comma (``950,5``, ``950.50``).
5. When exactly 3 digits follow the last separator it is a thousands separator, except a
   lone comma (the only separator): ``1,234`` gives ``amount_ambiguous`` (1234 or 1.234?).
   ``1.234`` is 1234; ``1,234,567`` is 1234567 (a decimal comma cannot occur twice).
6. All thousands separators are one kind, different from the decimal mark; the first group
   has 1-3 digits and every later group exactly 3. Anything else (``1.23.4``,
   ``12,345,67``, ``1.234,567``, ``1234.567``) gives ``amount_unreadable``.
7. At most 12 digits before the decimal mark.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias, TypeVar

from stdnum import iban as stdnum_iban
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.nl import bsn as stdnum_bsn

T = TypeVar("T")

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why a citizen's text could not be read.

    Attributes:
        code: stable identifier, e.g. ``"amount_ambiguous"`` (same codes as the TONK findings).
        value: the text as seen (may be personal data: mask before logging).
        message: Dutch explanation for a caseworker; never contains the value itself.
    """

    code: str
    value: str
    message: str


#: a parser's answer: the value, or why it could not be read
Parsed: TypeAlias = T | TextProblem


def _text(value: object) -> str | None:
    """The input as a string, or None when it is not text at all."""
    return value if isinstance(value, str) else None


def _not_text(code: str, value: object, what: str) -> TextProblem:
    return TextProblem(code, repr(value), f"{what}: geen tekst ontvangen maar {type(value).__name__}.")


# --------------------------------------------------------------------------------------- amounts

_MINUS = ("-", "\u2212")
_CURRENCY_WORDS = ("euro", "eur", "\u20ac")
_WHOLE_EUROS = re.compile(r"[.,](?:-{1,2}|\u2212)$")
_NUMBER = re.compile(r"[0-9]+(?:[., ][0-9]+)*", re.ASCII)
_SPLIT = re.compile(r"([., ])")
_MAX_INTEGER_DIGITS = 12


def _strip_currency(s: str) -> str:
    """Remove one currency mark at the start and one at the end (with the space next to it)."""
    lowered = s.lower()
    for word in _CURRENCY_WORDS:
        if lowered.startswith(word):
            s = s[len(word):].lstrip()
            break
    lowered = s.lower()
    for word in _CURRENCY_WORDS:
        if lowered.endswith(word):
            s = s[: -len(word)].rstrip()
            break
    return s


def parse_amount(text: object) -> Parsed[Decimal]:
    """Read a euro amount as citizens write it; see the module docstring for the full rule.

    Args:
        text: the raw text, e.g. ``"€ 1.234,56"``, ``"EUR 950"``, ``"950,-"``, ``"1,234.56"``.

    Returns:
        A non-negative `Decimal` with exactly two places (``Decimal("1234.56")``), or a
        `TextProblem` with code ``amount_unreadable``, ``amount_ambiguous`` or ``amount_negative``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("amount_unreadable", text, "Bedrag")
    s = re.sub(r"[\s\u00a0\u202f\u2009]+", " ", raw).strip()
    negative = False
    for _ in range(2):  # "-€ 5", "€ -5", "+ € 5"
        if s.startswith(_MINUS):
            negative = True
            s = s[1:].lstrip()
        elif s.startswith("+"):
            s = s[1:].lstrip()
        s = _strip_currency(s)
    whole_euros = bool(_WHOLE_EUROS.search(s))
    if whole_euros:
        s = _WHOLE_EUROS.sub("", s).rstrip()
    if not s:
        return TextProblem("amount_unreadable", raw, "Bedrag: er staat geen getal.")
    if not _NUMBER.fullmatch(s):
        return TextProblem("amount_unreadable", raw,
                           "Bedrag niet te lezen: alleen cijfers, punt of komma verwacht "
                           "(bijvoorbeeld € 1.234,56).")
    parts = _SPLIT.split(s)
    groups, seps = parts[0::2], parts[1::2]
    decimal_mark: str | None = None
    fraction = ""
    if seps:
        last_sep, last = seps[-1], groups[-1]
        if last_sep in ".," and len(last) in (1, 2):
            decimal_mark, fraction = last_sep, last
            groups, seps = groups[:-1], seps[:-1]
        elif len(last) == 3:
            if seps == [","]:
                return TextProblem("amount_ambiguous", raw,
                                   "Bedrag dubbelzinnig: een komma gevolgd door drie cijfers kan een "
                                   "duizendtal of een decimaal zijn; controleer het bewijsstuk.")
        else:
            return TextProblem("amount_unreadable", raw,
                               "Bedrag niet te lezen: na het laatste scheidingsteken staan geen 1, 2 of 3 "
                               "cijfers.")
    if seps and (len(set(seps)) != 1 or seps[0] == decimal_mark or not 1 <= len(groups[0]) <= 3
                 or any(len(g) != 3 for g in groups[1:])):
        return TextProblem("amount_unreadable", raw,
                           "Bedrag niet te lezen: de groepering van duizendtallen klopt niet.")
    if whole_euros and decimal_mark is not None:
        return TextProblem("amount_unreadable", raw, "Bedrag niet te lezen: ',-' na een bedrag met centen.")
    integer = "".join(groups)
    if len(integer.lstrip("0")) > _MAX_INTEGER_DIGITS:
        return TextProblem("amount_unreadable", raw, "Bedrag niet te lezen: te veel cijfers.")
    value = Decimal(f"{integer}.{fraction.ljust(2, '0')}")
    if negative and value:
        return TextProblem("amount_negative", raw, "Bedrag is negatief; hier is alleen een positief bedrag "
                                                   "mogelijk.")
    return value.quantize(CENT)


def format_euro(amount: Decimal) -> str:
    """Dutch display of an amount: ``Decimal("1234.5")`` -> ``"€ 1.234,50"`` (rounded half up to cents)."""
    q = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, cents = f"{abs(q):.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"€ {sign}{grouped},{cents}"


# ----------------------------------------------------------------------------------------- dates

#: Dutch month names and the abbreviations citizens use, lower case
MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "febr": 2, "maart": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4, "mei": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augustus": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "oktober": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
#: month number -> Dutch name
MONTH_NAMES: dict[int, str] = {
    1: "januari", 2: "februari", 3: "maart", 4: "april", 5: "mei", 6: "juni", 7: "juli", 8: "augustus",
    9: "september", 10: "oktober", 11: "november", 12: "december",
}

_DAY_FIRST = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_WRITTEN = re.compile(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{4})", re.ASCII)
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def parse_date(text: object) -> Parsed[date]:
    """Read a date, day first (tonk-form.md): ``dd-mm-jjjj``, ``d-m-jjjj``, ``dd/mm/jjjj``, ``dd.mm.jjjj``,
    ISO ``jjjj-mm-dd`` and written ``1 februari 2021``. ``01-02-2021`` is 1 February.

    Returns:
        The `date`, or a `TextProblem` ``date_unreadable`` (other forms, two-digit years, days that do
        not exist such as 31-02, years outside 1900-2100).
    """
    raw = _text(text)
    if raw is None:
        return _not_text("date_unreadable", text, "Datum")
    s = re.sub(r"[\s\u00a0]+", " ", raw).strip().lower()
    if m := _DAY_FIRST.fullmatch(s):
        day, month, year = int(m[1]), int(m[3]), int(m[4])
    elif m := _ISO.fullmatch(s):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif (m := _WRITTEN.fullmatch(s)) and m[2] in MONTHS:
        day, month, year = int(m[1]), MONTHS[m[2]], int(m[3])
    else:
        return TextProblem("date_unreadable", raw,
                           "Datum niet te lezen: verwacht dag-maand-jaar, bijvoorbeeld 01-02-2021.")
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        return TextProblem("date_unreadable", raw, f"Datum niet te lezen: jaar buiten {_MIN_YEAR}-{_MAX_YEAR}.")
    try:
        return date(year, month, day)
    except ValueError:
        return TextProblem("date_unreadable", raw, "Datum bestaat niet (dag of maand buiten het bereik).")


# ---------------------------------------------------------------------------------------- months

_RANGE_WORDS = re.compile(r"\s*(?:\btot\s+en\s+met\b|\bt/m\b|\bt\.m\.|\btm\b|-|\u2013|\u2014)\s*")
_MONTH_SEPARATORS = re.compile(r"(?:\s*[,;/&+]\s*|\s+en\s+|\s+)")


def parse_months(text: object) -> Parsed[list[int]]:
    """Read the requested months: Dutch names or abbreviations, e.g. ``"juli, augustus en september"``.

    Separators: comma, semicolon, slash, ``&``, ``+``, ``en``, spaces. A range ``juli t/m september``
    (also ``tot en met`` or a dash) gives every month in it. Names carry no year (the policy's
    scheme period gives it). Repeated months count once.

    Returns:
        Month numbers 1-12 in the order first named, or a `TextProblem` ``months_unreadable`` when
        any part is not a month name, a range runs backwards, or nothing is there.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("months_unreadable", text, "Maanden")
    s = re.sub(r"[\s\u00a0]+", " ", raw).strip().lower()
    s = _RANGE_WORDS.sub(" ~ ", s)
    tokens = [t.rstrip(".") for t in _MONTH_SEPARATORS.split(s) if t and t != "en"]
    months: list[int] = []
    pending_range = False
    unknown = [t for t in tokens if t != "~" and t not in MONTHS]
    if unknown or not tokens or tokens[0] == "~" or tokens[-1] == "~":
        return TextProblem("months_unreadable", raw,
                           "Maanden niet te lezen: verwacht Nederlandse maandnamen, bijvoorbeeld "
                           "'juli, augustus, september'.")
    for token in tokens:
        if token == "~":
            if pending_range:
                return TextProblem("months_unreadable", raw, "Maanden niet te lezen: dubbele 't/m'.")
            pending_range = True
            continue
        month = MONTHS[token]
        if pending_range:
            start = months[-1]
            if month < start:
                return TextProblem("months_unreadable", raw,
                                   "Maanden niet te lezen: de reeks loopt terug in de tijd.")
            months.extend(range(start + 1, month + 1))
            pending_range = False
        else:
            months.append(month)
    return list(dict.fromkeys(months))


# ----------------------------------------------------------------------------------- identifiers

_ID_NOISE = re.compile(r"[\s\u00a0.\-]+")


def parse_bsn(text: object) -> Parsed[str]:
    """Check a BSN (tonk-policy.md "Identifiers") with python-stdnum's 11-proof.

    Spaces, dots and dashes are ignored; 8 digits get a leading zero. ``000000000`` is rejected.

    Returns:
        The 9 digits (``"111222333"``), or a `TextProblem` ``bsn_invalid``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("bsn_invalid", text, "BSN")
    digits = _ID_NOISE.sub("", raw)
    if not re.fullmatch(r"[0-9]{8,9}", digits, re.ASCII):
        return TextProblem("bsn_invalid", raw, "BSN moet uit 9 cijfers bestaan.")
    digits = digits.zfill(9)
    if digits == "000000000" or not stdnum_bsn.is_valid(digits):
        return TextProblem("bsn_invalid", raw, "BSN klopt niet (voldoet niet aan de elfproef).")
    return digits


def parse_iban(text: object) -> Parsed[str]:
    """Check an IBAN (ISO 13616 mod-97 and the country's format) with python-stdnum.

    Spaces, dots and dashes are ignored, case does not matter. Foreign IBANs are accepted
    when valid (the form does not forbid them; a caseworker sees the country).

    Returns:
        The compact upper-case IBAN (``"NL91ABNA0417164300"``), or a `TextProblem` ``iban_invalid``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("iban_invalid", text, "IBAN")
    compact = _ID_NOISE.sub("", raw).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{8,30}", compact, re.ASCII):
        return TextProblem("iban_invalid", raw,
                           "IBAN niet te lezen: verwacht bijvoorbeeld NL91 ABNA 0417 1643 00.")
    try:
        return str(stdnum_iban.validate(compact))
    except StdnumValidationError:
        return TextProblem("iban_invalid", raw, "IBAN klopt niet (controlegetal of opbouw onjuist).")


def format_iban(compact: str) -> str:
    """``"NL91ABNA0417164300"`` -> ``"NL91 ABNA 0417 1643 00"`` (groups of four, for display)."""
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


_POSTCODE = re.compile(r"([1-9][0-9]{3})([A-Z]{2})", re.ASCII)


def parse_postcode(text: object) -> Parsed[str]:
    """Check a Dutch postcode: ``^[1-9][0-9]{3} ?[A-Za-z]{2}$``, letters never SA, SD or SS.

    Spaces anywhere and case do not matter.

    Returns:
        ``"1234 AB"`` (one space, upper case), or a `TextProblem` ``postcode_invalid``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("postcode_invalid", text, "Postcode")
    m = _POSTCODE.fullmatch(re.sub(r"[\s\u00a0]+", "", raw).upper())
    if not m or m[2] in {"SA", "SD", "SS"}:
        return TextProblem("postcode_invalid", raw, "Postcode klopt niet: verwacht 4 cijfers en 2 letters, "
                                                    "bijvoorbeeld 8251 AB.")
    return f"{m[1]} {m[2]}"


_PHONE_NOISE = re.compile(r"[\s\u00a0\-./()]+")


def parse_phone(text: object) -> Parsed[str]:
    """Normalise a phone number (tonk-policy.md: trunk 0 or +31/0031, 10 digits nationally).

    ``"+31 6 12345678"``, ``"06-12345678"``, ``"0031 (0)6 1234 5678"`` -> ``"0612345678"``.
    A foreign number in international form (``+32 ...``, ``0032 ...``) is kept as ``"+32..."``
    (8-15 digits), since the field does not forbid it.

    Returns:
        The national 10-digit form for Dutch numbers, ``+<digits>`` for foreign ones, or a
        `TextProblem` ``phone_invalid``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("phone_invalid", text, "Telefoonnummer")
    s = raw.strip().replace("(0)", "")
    s = _PHONE_NOISE.sub("", s)
    if s.startswith("00"):
        s = "+" + s[2:]
    if s.startswith("+31"):
        s = "0" + s[3:]
    if re.fullmatch(r"0[1-9][0-9]{8}", s, re.ASCII):
        return s
    if re.fullmatch(r"\+[1-9][0-9]{7,14}", s, re.ASCII):
        return s
    return TextProblem("phone_invalid", raw, "Telefoonnummer klopt niet: verwacht 10 cijfers, bijvoorbeeld "
                                             "0612345678 of +31 6 12345678.")


_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}", re.ASCII)


def parse_email(text: object) -> Parsed[str]:
    """Check the shape of an e-mail address (local part, ``@``, a domain with a top-level part).

    Deliverability is not checked (no network). Surrounding space is ignored.

    Returns:
        The address as written (trimmed), or a `TextProblem` ``email_invalid``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("email_invalid", text, "E-mailadres")
    s = raw.strip()
    if len(s) > 254 or not _EMAIL.fullmatch(s):
        return TextProblem("email_invalid", raw, "E-mailadres klopt niet, verwacht bijvoorbeeld naam@voorbeeld.nl.")
    return s


_YES = frozenset({"ja", "j", "yes", "y", "on", "true", "waar", "1", "x"})
_NO = frozenset({"nee", "n", "no", "off", "false", "onwaar", "0"})


def parse_yes_no(text: object) -> Parsed[bool]:
    """Read a yes/no answer: ``ja``/``nee`` (any case), also a PDF checkbox's ``/Yes``, ``On``, ``Off``.

    Returns:
        True or False, or a `TextProblem` ``yes_no_unreadable``.
    """
    raw = _text(text)
    if raw is None:
        return _not_text("yes_no_unreadable", text, "Ja/nee")
    s = raw.strip().lower().lstrip("/")
    if s in _YES:
        return True
    if s in _NO:
        return False
    return TextProblem("yes_no_unreadable", raw, "Antwoord niet te lezen: verwacht 'ja' of 'nee'.")


def clean_text(text: str) -> str:
    """Free text as the citizen meant it: Unicode NFC (so ``Ç`` is one character), runs of space
    collapsed, trimmed. Accents and apostrophes are kept (``d'Hondt``, ``Öztürk-de Vries``)."""
    return re.sub(r"[ \t\u00a0]+", " ", unicodedata.normalize("NFC", text)).strip()


def is_blank(text: object) -> bool:
    """True for None and for strings with nothing but white space."""
    return text is None or (isinstance(text, str) and not text.strip())
