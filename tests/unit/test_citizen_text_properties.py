"""Properties of the citizen-text parsers (hypothesis): never an exception, and every citizen format
of tonk-form.md parses back to the amount it was written from."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.citizen_text import (
    TextProblem,
    parse_amount,
    parse_bsn,
    parse_date,
    parse_email,
    parse_iban,
    parse_months,
    parse_phone,
    parse_postcode,
    parse_yes_no,
)

PARSERS = [parse_amount, parse_bsn, parse_date, parse_email, parse_iban, parse_months, parse_phone,
           parse_postcode, parse_yes_no]

#: characters citizens' numbers, dates and identifiers are made of, to reach deep into the parsers
NUMBERISH = st.text(alphabet=st.sampled_from(list("0123456789.,-/ €EURNLeurojt\u00a0\u2212+()")), max_size=30)


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), NUMBERISH))
def test_any_string_gives_a_value_or_a_problem(parse: Callable[[object], object], text: str) -> None:
    result = parse(text)
    assert result is not None
    if isinstance(result, TextProblem):
        assert result.code and result.message and result.value == text


def _nl_grouped(units: int) -> str:
    return f"{units:,}".replace(",", ".")


def _split(value: Decimal) -> tuple[int, int]:
    units = int(value)
    return units, int((value - units) * 100)


#: the formats of tonk-form.md for any amount with cents
FORMATS: dict[str, Callable[[int, int], str]] = {
    "€ 1.234,56": lambda u, c: f"€ {_nl_grouped(u)},{c:02d}",
    "€1.234,56": lambda u, c: f"€{_nl_grouped(u)},{c:02d}",
    "€\u00a01.234,56": lambda u, c: f"€\u00a0{_nl_grouped(u)},{c:02d}",
    "1.234,56": lambda u, c: f"{_nl_grouped(u)},{c:02d}",
    "1234,56": lambda u, c: f"{u},{c:02d}",
    "950,00": lambda u, c: f"{u},{c:02d}",
    "EUR 1.234,56": lambda u, c: f"EUR {_nl_grouped(u)},{c:02d}",
    "1,234.56": lambda u, c: f"{u:,}.{c:02d}",
    "EUR 1,234.56": lambda u, c: f"EUR {u:,}.{c:02d}",
    "1234.56": lambda u, c: f"{u}.{c:02d}",
}
#: the formats of tonk-form.md for whole euros
WHOLE_FORMATS: dict[str, Callable[[int], str]] = {
    "1.234": _nl_grouped,
    "EUR 950": lambda u: f"EUR {u}",
    "€ 950,-": lambda u: f"€ {_nl_grouped(u)},-",
    "950,-": lambda u: f"{u},-",
    "950": str,
}

AMOUNTS = st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2,
                      allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=200, deadline=None)
@given(value=AMOUNTS)
def test_any_amount_in_each_citizen_format_parses_back(fmt: str, value: Decimal) -> None:
    text = FORMATS[fmt](*_split(value))
    assert parse_amount(text) == value, text


@pytest.mark.parametrize("fmt", list(WHOLE_FORMATS))
@settings(max_examples=200, deadline=None)
@given(units=st.integers(min_value=0, max_value=999_999_999_999))
def test_any_whole_amount_in_each_citizen_format_parses_back(fmt: str, units: int) -> None:
    text = WHOLE_FORMATS[fmt](units)
    assert parse_amount(text) == Decimal(units), text
