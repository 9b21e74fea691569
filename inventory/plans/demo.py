"""Service plans, a schedule, closed days and visits for the demo district.

The demo's device steps are generated with their technicians and times. Each technician's
steps at one site on one local date become one visit, from 20 minutes before the first step
to 20 minutes after the last, so every generated step with a technician records its visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from inventory.fiscal import FiscalYear
from inventory.plans.assignments import assign_year_in
from inventory.plans.models import ClosedDay, RateCard, Visit
from inventory.plans.service import plans_from_enrollment_in

VISITS: Table = Visit.__table__  # type: ignore[attr-defined]
CLOSED_DAYS: Table = ClosedDay.__table__  # type: ignore[attr-defined]
RATE_CARDS: Table = RateCard.__table__  # type: ignore[attr-defined]

# The district's published 5-day rate, used for every demo year. Real years have their own.
DEMO_ANNUAL_COST = Decimal(130_753)
_MARGIN = timedelta(minutes=20)


@dataclass
class _Span:
    visit_id: int
    technician_id: int
    site_id: int
    visit_date: date
    first: datetime
    last: datetime


class VisitLedger:
    """Visits of the generated steps, numbered as the steps are turned into event rows.

    Ids are given before the visits are inserted, because each event's hash covers its
    visit id. `insert` then writes the visits with those ids.
    """

    def __init__(self, zone: ZoneInfo, first_id: int = 1) -> None:
        self.zone = zone
        self.next_id = first_id
        self.spans: dict[tuple[int, int, date], _Span] = {}

    def visit_for(self, technician_id: int, site_id: int, occurred_at: datetime) -> int:
        """Return the id of the visit that covers a step, making the visit when it is new."""
        day = occurred_at.astimezone(self.zone).date()
        key = (technician_id, site_id, day)
        span = self.spans.get(key)
        if span is None:
            span = _Span(self.next_id, technician_id, site_id, day, occurred_at, occurred_at)
            self.spans[key] = span
            self.next_id += 1
        span.first = min(span.first, occurred_at)
        span.last = max(span.last, occurred_at)
        return span.visit_id

    def rows(self, now: datetime) -> list[dict[str, Any]]:
        rows = []
        for span in self.spans.values():
            checked_out = min(span.last + _MARGIN, now)
            checked_in = span.first - _MARGIN
            rows.append(
                {
                    "id": span.visit_id,
                    "technician_id": span.technician_id,
                    "site_id": span.site_id,
                    "visit_date": span.visit_date,
                    "checked_in_at": checked_in,
                    "checked_out_at": checked_out,
                    "minutes_on_site": int((checked_out - checked_in).total_seconds() // 60),
                }
            )
        return rows


async def first_visit_id(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.max(VISITS.c.id))) or 0) + 1


def _holidays(year: FiscalYear) -> list[tuple[date, str]]:
    """Return Labor Day and Thanksgiving Day and the day after, by their US federal rules."""
    september = date(year.start_year, 9, 1)
    labor_day = september + timedelta(days=(0 - september.weekday()) % 7)
    november = date(year.start_year, 11, 1)
    thanksgiving = november + timedelta(days=(3 - november.weekday()) % 7 + 21)
    return [
        (labor_day, "Labor Day"),
        (thanksgiving, "Thanksgiving Day"),
        (thanksgiving + timedelta(days=1), "Thanksgiving break"),
    ]


async def load_demo_plans(
    connection: AsyncConnection, ledger: VisitLedger, now: datetime
) -> tuple[int, int]:
    """Insert the demo's visits, and for each fiscal year they span, a rate card, closed
    days and plans from enrollment; then schedule the current year.

    Past years' plans are locked and the current year's are submitted. Returns the number
    of visits and of plans.
    """
    rows = ledger.rows(now)
    if rows:
        await connection.execute(insert(VISITS), rows)
        if connection.dialect.name == "postgresql":
            # The ids were given explicitly, so move the sequence past them.
            await connection.execute(
                text("SELECT setval(pg_get_serial_sequence('visits', 'id'), max(id)) FROM visits")
            )
    current = FiscalYear.containing(now.astimezone(ledger.zone).date())
    first = min((FiscalYear.containing(row["visit_date"]) for row in rows), default=current)
    session = AsyncSession(bind=connection, expire_on_commit=False)
    plans = 0
    year = first
    while year <= current:
        await connection.execute(
            insert(RATE_CARDS),
            [
                {
                    "fiscal_year": year.label,
                    "annual_cost": DEMO_ANNUAL_COST,
                    "provisional": False,
                    "updated_at": now,
                    "updated_by": "demo",
                }
            ],
        )
        await connection.execute(
            insert(CLOSED_DAYS),
            [
                {"fiscal_year": year.label, "closed_on": day, "site_id": None, "reason": reason}
                for day, reason in _holidays(year)
            ],
        )
        state = "submitted" if year == current else "locked"
        plans += await plans_from_enrollment_in(session, year.label, user="demo", state=state)
        year = year.next()
    await assign_year_in(session, current.label, "demo")
    await session.flush()
    return len(rows), plans
