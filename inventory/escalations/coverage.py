"""Warranty coverage periods and the days they cover. Pure: no I/O.

A coverage is stored with its first and last covered day. A coverage given as a number of
months has its end computed once, when it is recorded, by `coverage_end`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum

MAX_MONTHS = 240


class CoverageKind(StrEnum):
    BASE = "base"  # the manufacturer's warranty the device came with
    EXTENDED = "extended"  # bought on top, for more years
    ACCIDENTAL_DAMAGE = "accidental_damage"  # drops, spills and other damage


def coverage_end(start: date, months: int) -> date:
    """Return the last day covered by `months` months starting on `start`.

    The coverage ends on the day before the same day `months` later. When that month has no
    such day, it runs to the end of that month: 2024-01-31 plus one month ends on 2024-02-29,
    2023-01-31 plus one month on 2023-02-28, and 2023-02-01 plus twelve months on 2024-01-31.
    """
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(f"months must be from 1 to {MAX_MONTHS}, not {months}")
    year, month_index = divmod(start.year * 12 + start.month - 1 + months, 12)
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    if start.day > last_day:
        return date(year, month, last_day)
    return date(year, month, start.day) - timedelta(days=1)


def covers(periods: Iterable[tuple[date, date]], day: date) -> bool:
    """Return whether any (start, end) period includes `day`; both ends are covered days."""
    return any(start <= day <= end for start, end in periods)


def warranty_end(periods: Iterable[tuple[date, date]]) -> date | None:
    """Return the latest last covered day, or None without coverage."""
    return max((end for _, end in periods), default=None)
