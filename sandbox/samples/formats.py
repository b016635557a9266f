"""How citizens type values into the TONK form (tonk-form.md, "Fields" and "Formats as citizens write them").

Each `type_*` function takes the true value and a random generator and returns one of
the spellings the spec lists, never an ambiguous one (a lone comma before three digits,
`1,234`, is a finding by the spec's separator rule, so it is never produced for a valid
sample). Money is `Decimal` in euros with two decimals.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

NBSP = "\u00a0"

#: Dutch month names of the scheme period (tonk-policy.md, Dronten: July-September 2021)
SCHEME_MONTHS = ("juli", "augustus", "september")

UNREADABLE_AMOUNTS = ("twaalfhonderd", "zie bijlage", "weet ik niet precies", "vierhonderdvijftig euro",
                      "ong. duizend", "n.v.t. (zie toelichting)")


def _dutch_grouped(units: int) -> str:
    """1234567 -> `"1.234.567"`."""
    return f"{units:,}".replace(",", ".")


def canonical_amount(value: Decimal) -> str:
    """The parsed form the robot should arrive at: `Decimal("1234.5")` -> `"1234.50"`."""
    return f"{value.quantize(Decimal('0.01')):.2f}"


def type_amount(value: Decimal, rng: random.Random, euro_sign: bool = True) -> str:
    """A citizen's spelling of `value` (>= 0, cents precision).

    Examples for 1234.56: `€ 1.234,56`, `€1.234,56`, `€\u00a01.234,56`, `1234,56`,
    `1.234,56`, `1,234.56`; for 950.00 also `EUR 950`, `€ 950,-`, `950,00`, `950`; for
    1234.00 also `1.234`. `euro_sign=False` leaves out `€`/`EUR` (an AcroForm field
    with the euro sign printed beside it).
    """
    value = value.quantize(Decimal("0.01"))
    if value < 0:
        raise ValueError(f"amount must not be negative: {value}")
    units = int(value)
    cents = int((value - units) * 100)
    nl = f"{_dutch_grouped(units)},{cents:02d}"  # 1.234,56
    plain = f"{units},{cents:02d}"  # 1234,56
    options = [nl, plain, plain]
    if euro_sign:
        options += [f"€ {nl}", f"€ {nl}", f"€{nl}", f"€{NBSP}{nl}", f"€ {plain}"]
    if cents == 0:
        options += [str(units), f"{units},00"]
        if units >= 1000:
            options.append(_dutch_grouped(units))  # 1.234 = 1234.00 (a dot before 3 digits groups)
        if euro_sign:
            options += [f"EUR {units}", f"€ {_dutch_grouped(units)},-", f"€{NBSP}{units},-"]
    elif units >= 1000 and rng.random() < 0.3:
        options.append(f"{units:,}.{cents:02d}")  # English 1,234.56: unambiguous with both separators
    return rng.choice(options)


def type_date(value: date, rng: random.Random) -> str:
    """`dd-mm-jjjj` mostly; also `d-m-jjjj`, `dd/mm/jjjj` and ISO `jjjj-mm-dd`."""
    style = rng.choices(("dd-mm", "d-m", "slash", "iso"), weights=(70, 10, 12, 8))[0]
    if style == "dd-mm":
        return value.strftime("%d-%m-%Y")
    if style == "d-m":
        return f"{value.day}-{value.month}-{value.year}"
    if style == "slash":
        return value.strftime("%d/%m/%Y")
    return value.isoformat()


def type_bsn(value: str, rng: random.Random) -> str:
    """`123456782`, `123 456 782`, `123.456.782`; a BSN with a leading 0 sometimes as 8 digits."""
    if value.startswith("0") and rng.random() < 0.4:
        return value[1:]
    style = rng.choices(("compact", "spaces", "dots"), weights=(75, 15, 10))[0]
    if style == "spaces":
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    if style == "dots":
        return f"{value[:3]}.{value[3:6]}.{value[6:]}"
    return value


def type_iban(value: str, rng: random.Random) -> str:
    """`NL91ABNA0417164300`, `NL91 ABNA 0417 1643 00` or lower case."""
    style = rng.choices(("compact", "grouped", "lower"), weights=(60, 30, 10))[0]
    if style == "grouped":
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    if style == "lower":
        return value.lower()
    return value


def type_postcode(value: str, rng: random.Random) -> str:
    """From canonical `8251 AB`: `8251 AB`, `8251AB` or `8251 ab`."""
    style = rng.choices(("canonical", "compact", "lower"), weights=(70, 20, 10))[0]
    if style == "compact":
        return value.replace(" ", "")
    if style == "lower":
        return value.lower()
    return value


def make_phone(rng: random.Random) -> str:
    """A Dutch number as typed: `0612345678`, `06-12345678`, `+31 6 12345678` or Dronten's `0321 123456`."""
    subscriber = f"{rng.randrange(10**8):08d}"
    style = rng.choice(("plain", "dash", "intl", "landline"))
    if style == "dash":
        return f"06-{subscriber}"
    if style == "intl":
        return f"+31 6 {subscriber}"
    if style == "landline":
        return f"0321 {subscriber[:6]}"
    return f"06{subscriber}"


def type_months(months: list[str], rng: random.Random) -> str:
    """`juli, augustus, september`; sometimes capitalised or without spaces."""
    style = rng.choices(("plain", "capital", "tight"), weights=(75, 15, 10))[0]
    if style == "capital":
        return ", ".join(m.capitalize() for m in months)
    if style == "tight":
        return ",".join(months)
    return ", ".join(months)
