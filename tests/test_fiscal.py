"""Fiscal year labels and month arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from inventory.fiscal import FiscalYear, FiscalYearError, add_months


def test_fiscal_year_bounds() -> None:
    year = FiscalYear.parse("2026-27")
    assert (year.start, year.end) == (date(2026, 7, 1), date(2027, 6, 30))
    assert year.label == "2026-27"
    assert date(2027, 6, 30) in year
    assert date(2027, 7, 1) not in year
    assert year.next().label == "2027-28"
    assert FiscalYear.parse("1999-00").end == date(2000, 6, 30)


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 7, 1), "2026-27"),
        (date(2026, 6, 30), "2025-26"),
        (date(2027, 1, 15), "2026-27"),
    ],
)
def test_fiscal_year_containing(day: date, label: str) -> None:
    assert FiscalYear.containing(day).label == label


@pytest.mark.parametrize("label", ["2026-28", "2026/27", "26-27", "2026-2027", "", "abcd-ef"])
def test_fiscal_year_rejects_bad_labels(label: str) -> None:
    with pytest.raises(FiscalYearError, match="fiscal year"):
        FiscalYear.parse(label)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 2, 1), 12, date(2024, 2, 1)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2020, 2, 29), 12, date(2021, 2, 28)),
        (date(2020, 2, 29), 48, date(2024, 2, 29)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected
