"""Report periods (a fiscal year, a month, or a range of months) and percentiles. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from inventory.fiscal import FiscalYear, FiscalYearError, add_months

_MONTH = re.compile(r"(\d{4})-(\d{2})")
# Longest custom range: five fiscal years, so a request cannot ask for centuries of rows.
MAX_MONTHS = 60


class PeriodError(ValueError):
    """A period selection that is invalid; the message names the value and the fix."""


@dataclass(frozen=True)
class Period:
    """Whole calendar months from `first_month` to `last_month`, both included.

    The summary tables count by month, so a period starts and ends on month boundaries.
    """

    first_month: date
    last_month: date
    kind: str  # "fiscal_year", "month" or "range"
    label: str

    @property
    def start(self) -> date:
        return self.first_month

    @property
    def end(self) -> date:
        """The last day of the period."""
        return date.fromordinal(add_months(self.last_month, 1).toordinal() - 1)

    def months(self) -> list[date]:
        months = []
        month = self.first_month
        while month <= self.last_month:
            months.append(month)
            month = add_months(month, 1)
        return months

    def fiscal_year(self) -> FiscalYear | None:
        """Return the fiscal year that the period covers exactly, or None for other periods."""
        year = FiscalYear.containing(self.first_month)
        if self.first_month == year.start and self.last_month == year.end.replace(day=1):
            return year
        return None

    def query(self) -> dict[str, str]:
        """Return the query parameters that select this period again."""
        if self.kind == "fiscal_year":
            return {"fiscal_year": self.label.removeprefix("Fiscal year ")}
        if self.kind == "month":
            return {"month": self.first_month.strftime("%Y-%m")}
        return {
            "from": self.first_month.strftime("%Y-%m"),
            "to": self.last_month.strftime("%Y-%m"),
        }


def parse_month(text: str, name: str) -> date:
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise PeriodError(f"{name} {text!r} is not a month of the form 2026-09 (year-month).")
    return date(int(match.group(1)), int(match.group(2)), 1)


def fiscal_year_period(year: FiscalYear) -> Period:
    return Period(
        first_month=year.start,
        last_month=year.end.replace(day=1),
        kind="fiscal_year",
        label=f"Fiscal year {year.label}",
    )


def select_period(params: Mapping[str, str | None], today: date) -> Period:
    """Read the period from `fiscal_year`, `month`, or `from` and `to` (months).

    Without any of them the period is the fiscal year that contains `today`. Giving more
    than one kind of period raises PeriodError, as does a range over MAX_MONTHS months.
    """
    fiscal_year = (params.get("fiscal_year") or "").strip()
    month = (params.get("month") or "").strip()
    first = (params.get("from") or "").strip()
    last = (params.get("to") or "").strip()
    given = [name for name, value in (("fiscal_year", fiscal_year), ("month", month)) if value]
    if first or last:
        given.append("from/to")
    if len(given) > 1:
        raise PeriodError(
            f"Choose one period: fiscal_year, month, or from and to; got {', '.join(given)}."
        )
    if fiscal_year:
        try:
            return fiscal_year_period(FiscalYear.parse(fiscal_year))
        except FiscalYearError as exc:
            raise PeriodError(str(exc).capitalize() + ".") from exc
    if month:
        day = parse_month(month, "month")
        return Period(day, day, "month", day.strftime("%B %Y"))
    if first or last:
        if not (first and last):
            raise PeriodError("A custom range needs both from and to, such as 2026-09 and 2026-11.")
        start = parse_month(first, "from")
        end = parse_month(last, "to")
        if end < start:
            raise PeriodError(f"to {last!r} is before from {first!r}; swap them.")
        span = (end.year - start.year) * 12 + end.month - start.month + 1
        if span > MAX_MONTHS:
            raise PeriodError(
                f"The range from {first} to {last} is {span} months; choose at most {MAX_MONTHS}."
            )
        label = f"{start.strftime('%B %Y')} to {end.strftime('%B %Y')}"
        return Period(start, end, "range", label)
    return fiscal_year_period(FiscalYear.containing(today))


def nearest_rank(histogram: Mapping[int, int], percent: int) -> int | None:
    """Return the `percent` percentile of values given as value → count, by nearest rank.

    The result is the smallest value with at least `percent`% of all values at or below it,
    so it is always one of the values. None when there are no values.
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(math.ceil(percent * total / 100), 1)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")
