"""Fiscal years (July 1 to June 30) and calendar month arithmetic. Pure: no I/O."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_LABEL = re.compile(r"(\d{4})-(\d{2})")
FIRST_MONTH = 7  # a fiscal year starts on July 1


class FiscalYearError(ValueError):
    """A fiscal year label that is not of the form 2026-27."""


@dataclass(frozen=True, order=True)
class FiscalYear:
    """The fiscal year that starts on July 1 of `start_year`."""

    start_year: int

    @classmethod
    def parse(cls, label: str) -> FiscalYear:
        """Read a label such as "2026-27": July 1, 2026 to June 30, 2027."""
        match = _LABEL.fullmatch(label.strip()) if isinstance(label, str) else None
        if match is None:
            raise FiscalYearError(
                f"fiscal year {label!r} is not of the form 2026-27 (the year it starts, a "
                "hyphen, and the last two digits of the next year)"
            )
        start = int(match.group(1))
        if int(match.group(2)) != (start + 1) % 100:
            raise FiscalYearError(
                f"fiscal year {label!r} does not end the year after it starts; "
                f"did you mean {start}-{(start + 1) % 100:02d}?"
            )
        if not 1900 <= start <= 9998:
            raise FiscalYearError(f"fiscal year {label!r} is out of range")
        return cls(start)

    @classmethod
    def containing(cls, day: date) -> FiscalYear:
        return cls(day.year if day.month >= FIRST_MONTH else day.year - 1)

    @property
    def label(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}"

    @property
    def start(self) -> date:
        return date(self.start_year, FIRST_MONTH, 1)

    @property
    def end(self) -> date:
        """The last day of the fiscal year, June 30."""
        return date(self.start_year + 1, FIRST_MONTH - 1, 30)

    def next(self) -> FiscalYear:
        return FiscalYear(self.start_year + 1)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later; a day the month lacks becomes its last day.

    2024-01-31 plus one month is 2024-02-29, and 2023-01-31 plus one month is 2023-02-28.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))
