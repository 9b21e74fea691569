"""Value rules of imported rows: identifiers, dates, money and counts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from inventory.imports import values
from inventory.imports.values import (
    ValueProblem,
    identifier,
    name_text,
    parse_count,
    parse_date,
    parse_money,
)


@pytest.mark.parametrize("value", ["000123", "0709494209", " 00A1 "])
def test_identifier_keeps_leading_zeros(value: str) -> None:
    assert identifier(value, "asset tag") == value.strip()


@pytest.mark.parametrize("value", ["6.37702E+15", "1.2e10", "6,37702E+15", "5E+3"])
def test_scientific_notation_rejected(value: str) -> None:
    with pytest.raises(ValueProblem, match="scientific notation"):
        identifier(value, "serial number")


def test_identifier_with_slash_rejected() -> None:
    with pytest.raises(ValueProblem, match="may not contain"):
        identifier("A/1", "asset tag")


def test_xlsx_numbers_as_identifiers() -> None:
    assert identifier(12345, "serial number") == "12345"
    assert identifier(12345.0, "serial number") == "12345"
    with pytest.raises(ValueProblem, match="too large"):
        identifier(6.37702e15 * 10, "serial number")
    with pytest.raises(ValueProblem, match="decimals"):
        identifier(12.5, "serial number")


def test_formula_quote_removed() -> None:
    assert identifier("'=A1", "asset tag") == "=A1"


def test_iso_dates() -> None:
    assert parse_date("2021-03-06", "purchase date", None) == date(2021, 3, 6)
    assert parse_date("2021-03-06T10:00:00Z", "d", None) == date(2021, 3, 6)
    assert parse_date("", "purchase date", None) is None
    assert parse_date(datetime(2021, 3, 6, 9), "d", None) == date(2021, 3, 6)


def test_ambiguous_date_rejected_without_format() -> None:
    with pytest.raises(ValueProblem, match="ambiguous") as caught:
        parse_date("03/06/2021", "purchase date", None)
    assert "2021-03-06" in str(caught.value)
    assert "2021-06-03" in str(caught.value)


def test_non_iso_date_needs_declared_format() -> None:
    with pytest.raises(ValueProblem, match="YYYY-MM-DD"):
        parse_date("13/06/2021", "purchase date", None)


def test_declared_format_reads_two_digit_years() -> None:
    assert parse_date("1/23/23", "purchase date", "%m/%d/%y") == date(2023, 1, 23)
    assert parse_date("03/06/2021", "d", "%d/%m/%Y") == date(2021, 6, 3)
    assert parse_date("2021-06-03", "d", "%d/%m/%Y") == date(2021, 6, 3)


@pytest.mark.parametrize("value", ["yesterday", "2021-02-30", "0", "1970-13-01", "31/31/2020"])
def test_unparseable_date_is_an_error(value: str) -> None:
    with pytest.raises(ValueProblem):
        parse_date(value, "purchase date", None)


def test_date_not_matching_declared_format() -> None:
    with pytest.raises(ValueProblem, match="declared date format"):
        parse_date("2021/06/03", "d", "%m/%d/%Y")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("$1,234.50", "1234.50"), ("1234.5", "1234.50"), ("$ 99", "99.00"), (1234.5, "1234.50")],
)
def test_money(value: object, expected: str) -> None:
    assert parse_money(value, "purchase cost") == Decimal(expected)


@pytest.mark.parametrize("value", ["1.234,50", "-5", "12,34", "$1,23.00", "abc"])
def test_bad_money_rejected(value: str) -> None:
    with pytest.raises(ValueProblem, match="purchase cost"):
        parse_money(value, "purchase cost")


def test_counts() -> None:
    assert parse_count("1,509", "enrollment") == 1509
    assert parse_count("    ", "enrollment") is None
    with pytest.raises(ValueProblem):
        parse_count("12.5", "enrollment")
    with pytest.raises(ValueProblem):
        parse_count("-1", "enrollment")


def test_name_control_characters_replaced() -> None:
    value, notice = name_text("EBC HIGH SCHOOL\x16BUSHW   ", "name")
    assert value == "EBC HIGH SCHOOL BUSHW"
    assert notice is not None
    assert "U+0016" in notice


def test_true_or_false_cell_is_no_identifier() -> None:
    with pytest.raises(values.ValueProblem, match="asset tag is TRUE in the workbook"):
        values.identifier(True, "asset tag")


def test_number_in_a_date_column_named_as_such() -> None:
    with pytest.raises(values.ValueProblem, match="is a number in the workbook, not a date"):
        values.parse_date(44261, "purchase date", None)
