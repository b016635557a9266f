"""Parsing citizens' text (common.citizen_text): the spec's worked examples and the edges of each rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from common.citizen_text import (
    TextProblem,
    clean_text,
    format_euro,
    format_iban,
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


def code(result: object) -> str | None:
    return result.code if isinstance(result, TextProblem) else None


# --- amounts: tonk-form.md "Formats as citizens write them" ------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # the spec's worked examples
    ("€ 1.234,56", "1234.56"),
    ("1.234", "1234.00"),          # a dot before exactly 3 digits groups thousands
    ("1234,5", "1234.50"),         # 1 final digit: decimal mark
    ("950,-", "950.00"),
    ("EUR 1,234.56", "1234.56"),   # English: comma groups because a dot follows it
    # the other listed forms
    ("€1.234,56", "1234.56"),
    ("€\u00a01.234,56", "1234.56"),  # no-break space after the euro sign
    ("1234,56", "1234.56"),
    ("EUR 950", "950.00"),
    ("€ 950,-", "950.00"),
    ("950,00", "950.00"),
    ("1,234.56", "1234.56"),
    ("950,5", "950.50"),
    ("950.50", "950.50"),
    ("950.5", "950.50"),
    ("12.34", "12.34"),            # a dot before 2 final digits is the decimal mark
    # extensions written down in the module docstring
    ("  950  ", "950.00"),
    ("950 euro", "950.00"),
    ("950 EUR", "950.00"),
    ("€ 1.234.567,89", "1234567.89"),
    ("1,234,567", "1234567.00"),   # two commas cannot both be decimal marks
    ("1 234,56", "1234.56"),       # space as thousands separator
    ("0", "0.00"),
    ("0,05", "0.05"),
    ("+950", "950.00"),
    ("-0", "0.00"),                # minus zero is zero, not negative
])
def test_amounts_read(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


def test_amounts_have_two_places() -> None:
    assert str(parse_amount("950")) == "950.00"
    assert str(parse_amount("1234,5")) == "1234.50"


@pytest.mark.parametrize(("text", "expected_code"), [
    ("1,234", "amount_ambiguous"),      # spec: a lone comma before 3 digits is ambiguous
    ("1234,567", "amount_ambiguous"),   # also a lone comma before 3 digits
    ("12,345,67", "amount_unreadable"),  # spec: comma both groups and marks decimals
    ("1.23.4", "amount_unreadable"),    # spec: inconsistent grouping
    ("1.234,567", "amount_unreadable"),  # 3 digits after the last comma, nothing follows it
    ("1234.567", "amount_unreadable"),  # first group has 4 digits
    ("1,2345", "amount_unreadable"),
    ("950,", "amount_unreadable"),
    (",50", "amount_unreadable"),
    ("1..234", "amount_unreadable"),
    ("950,50,-", "amount_unreadable"),  # ",-" means whole euros: no cents before it
    ("twaalfhonderd", "amount_unreadable"),
    ("ong. 1000", "amount_unreadable"),
    ("", "amount_unreadable"),
    ("€", "amount_unreadable"),
    ("1234567890123", "amount_unreadable"),  # 13 digits
    ("-950", "amount_negative"),
    ("€ -950,00", "amount_negative"),
    ("- € 950", "amount_negative"),
    ("\u2212950", "amount_negative"),  # the minus sign U+2212
    ("١٢٣", "amount_unreadable"),      # Arabic-Indic digits are not read as 123
])
def test_amount_findings(text: str, expected_code: str) -> None:
    assert code(parse_amount(text)) == expected_code


def test_amount_problem_keeps_the_value_as_seen_and_explains_in_dutch() -> None:
    problem = parse_amount("1,234")
    assert isinstance(problem, TextProblem)
    assert problem.value == "1,234"
    assert "duizendtal" in problem.message


def test_non_text_is_a_problem_not_an_exception() -> None:
    assert code(parse_amount(None)) == "amount_unreadable"
    assert code(parse_amount(950)) == "amount_unreadable"
    assert code(parse_date(["01-02-2021"])) == "date_unreadable"


@pytest.mark.parametrize(("amount", "text"), [
    ("1234.5", "€ 1.234,50"),
    ("0", "€ 0,00"),
    ("1234567.891", "€ 1.234.567,89"),
    ("0.005", "€ 0,01"),   # half up
])
def test_format_euro(amount: str, text: str) -> None:
    assert format_euro(Decimal(amount)) == text


# --- dates: day first ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("01-02-2021", date(2021, 2, 1)),   # spec: 1 February
    ("1-2-2021", date(2021, 2, 1)),
    ("01/02/2021", date(2021, 2, 1)),
    ("2021-02-01", date(2021, 2, 1)),
    ("01.02.2021", date(2021, 2, 1)),
    (" 1 februari 2021 ", date(2021, 2, 1)),
    ("1 feb. 2021", date(2021, 2, 1)),
    ("29-02-2020", date(2020, 2, 29)),
])
def test_dates_read(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31-02-2021", "29-02-2021", "01-13-2021", "01-02-21", "2021/02/01",
                                  "01-02/2021", "gisteren", "", "01-02-1850", "1 brumaire 2021"])
def test_dates_unreadable(text: str) -> None:
    assert code(parse_date(text)) == "date_unreadable"


# --- months -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("juli, augustus, september", [7, 8, 9]),
    ("Juli,Augustus", [7, 8]),
    ("juli en augustus", [7, 8]),
    ("juli, augustus en september", [7, 8, 9]),
    ("juli t/m september", [7, 8, 9]),
    ("jul - sep", [7, 8, 9]),
    ("sept.", [9]),
    ("augustus, juli, augustus", [8, 7]),   # order as named, repeats once
    ("juni; juli", [6, 7]),
])
def test_months_read(text: str, expected: list[int]) -> None:
    assert parse_months(text) == expected


@pytest.mark.parametrize("text", ["", "july", "juli, agustus", "september t/m juli", "t/m juli", "7, 8", "juli t/m"])
def test_months_unreadable(text: str) -> None:
    assert code(parse_months(text)) == "months_unreadable"


# --- identifiers --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("111222333", "111222333"),
    ("123456782", "123456782"),
    ("123 456 782", "123456782"),
    ("123.456.782", "123456782"),
    # 0*9+1*8+2*7+3*6+4*5+5*4+6*3+7*2 = 112; 112 - 2 = 110 = 10*11: check digit 2
    ("12345672", "012345672"),
])
def test_bsn_valid(text: str, expected: str) -> None:
    assert parse_bsn(text) == expected


@pytest.mark.parametrize("text", [
    "000000000",   # sum 0 is divisible by 11 but is no BSN
    "111222334",   # 11-proof: the check digit is off by one
    "12345678",    # padded 012345678: 112 - 8 = 104, not a multiple of 11
    "1234567",     # too short
    "1234567890",  # too long
    "abc",
])
def test_bsn_invalid(text: str) -> None:
    assert code(parse_bsn(text)) == "bsn_invalid"


@pytest.mark.parametrize(("text", "expected"), [
    ("NL91ABNA0417164300", "NL91ABNA0417164300"),
    ("nl91 abna 0417 1643 00", "NL91ABNA0417164300"),
    ("NL20INGB0001234567", "NL20INGB0001234567"),
])
def test_iban_valid(text: str, expected: str) -> None:
    assert parse_iban(text) == expected


@pytest.mark.parametrize("text", ["NL45ABNA0123456789", "NL91ABNA041716430", "NL91 ABNA 0417 1643 01", "", "1234"])
def test_iban_invalid(text: str) -> None:
    assert code(parse_iban(text)) == "iban_invalid"


def test_format_iban_groups_of_four() -> None:
    assert format_iban("NL91ABNA0417164300") == "NL91 ABNA 0417 1643 00"


@pytest.mark.parametrize(("text", "expected"), [
    ("8251 AB", "8251 AB"), ("8251ab", "8251 AB"), (" 8256  xy ", "8256 XY"),
])
def test_postcode_valid(text: str, expected: str) -> None:
    assert parse_postcode(text) == expected


@pytest.mark.parametrize("text", ["0251 AB", "8251 SA", "8251 sd", "8251SS", "825 AB", "8251 A1", "8251-AB"])
def test_postcode_invalid(text: str) -> None:
    assert code(parse_postcode(text)) == "postcode_invalid"


@pytest.mark.parametrize(("text", "expected"), [
    ("0612345678", "0612345678"),
    ("06-12345678", "0612345678"),
    ("+31 6 12345678", "0612345678"),
    ("0031 (0)6 1234 5678", "0612345678"),
    ("0321 123456", "0321123456"),
    ("+32 470 12 34 56", "+32470123456"),   # a foreign number stays international
])
def test_phone_normalised(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize("text", ["061234567", "06123456789", "1234567890", "bel me", "+31 6 1234"])
def test_phone_invalid(text: str) -> None:
    assert code(parse_phone(text)) == "phone_invalid"


@pytest.mark.parametrize("text", ["anna.de.vries@example.nl", " a+b@mail.example "])
def test_email_valid(text: str) -> None:
    assert parse_email(text) == text.strip()


@pytest.mark.parametrize("text", ["anna", "anna@", "@example.nl", "anna@example", "an na@example.nl", "a@b@c.nl"])
def test_email_invalid(text: str) -> None:
    assert code(parse_email(text)) == "email_invalid"


@pytest.mark.parametrize(("text", "expected"), [("ja", True), ("Ja", True), ("/Yes", True), ("On", True),
                                                 ("nee", False), ("Off", False)])
def test_yes_no(text: str, expected: bool) -> None:
    assert parse_yes_no(text) is expected


def test_yes_no_unreadable() -> None:
    assert code(parse_yes_no("misschien")) == "yes_no_unreadable"


def test_clean_text_keeps_accents_and_apostrophes_in_one_form() -> None:
    # "C" + COMBINING CEDILLA (as some PDFs give it) becomes the single character U+00C7
    assert clean_text("  C\u0327elik  ") == "\u00c7elik"
    assert clean_text("d'Hondt") == "d'Hondt"
    assert clean_text("Öztürk-de   Vries") == "Öztürk-de Vries"
