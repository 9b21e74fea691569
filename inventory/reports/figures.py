"""Key figures per site, read from the summary tables and indexed device columns.

The site report shows one site's figures and the district view every site's, from the same
queries, so both always agree. No query reads the events table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from inventory.devices.models import Device, DeviceModel
from inventory.fiscal import FiscalYear
from inventory.lifecycle import NON_TERMINAL_STATES, State
from inventory.reports.models import (
    ReportOpenRepairCount,
    ReportOutcomeCount,
    ReportRegionTurnaround,
    ReportRepairTurnaround,
    ReportSiteModelCount,
    ReportSiteYear,
)
from inventory.reports.periods import Period, nearest_rank
from inventory.reports.years import OUTCOME_COLUMNS
from inventory.sites.models import Site

# Devices a site has in use or in stock: not retired and not lost.
IN_SERVICE_STATES = sorted(state.value for state in NON_TERMINAL_STATES - {State.LOST})
# The last day counted as "warranty ending soon" is this many days after today.
WARRANTY_HORIZON_DAYS = 90

# Key figures in the order of the district view's columns, with their labels.
FIGURES = {
    "devices": "Devices in service",
    "deployed": "Deployed",
    "in_repair": "In repair",
    "with_vendor": "With vendor",
    "lost": "Lost",
    "warranty_ending": f"Warranty ends within {WARRANTY_HORIZON_DAYS} days",
    "eos_past": "Past end of support",
    "eos_this_year": "End of support this fiscal year",
    "eos_next_year": "End of support next fiscal year",
    "open_repairs": "Open repairs",
    "oldest_repair_days": "Oldest open repair (days)",
    "open_escalations": "Open escalations",
    "repairs_opened": "Repairs opened in period",
    "repairs_closed": "Repairs completed in period",
    "turnaround_median": "Repair turnaround, median (days)",
    "turnaround_p90": "Repair turnaround, 90th percentile (days)",
    "reuse": "Assessed for reuse",
    "harvest": "Harvested for parts",
    "recycle": "Assessed for recycling",
    "recycled": "Recycled",
}
# Figures that are not counts: a total takes their maximum or recomputes them.
DERIVED = frozenset({"oldest_repair_days", "turnaround_median", "turnaround_p90"})
COUNTS = [key for key in FIGURES if key not in DERIVED]
_EMPTY = {key: 0 for key in COUNTS} | dict.fromkeys(DERIVED)


@dataclass
class SiteFigures:
    """One site's key figures, with its turnaround histogram so totals stay exact.

    The histogram is empty when the figures come from report_site_years, which stores the
    percentiles. Totals then take theirs from report_region_turnarounds.
    """

    values: dict[str, int | None] = field(default_factory=dict)
    turnarounds: Counter[int] = field(default_factory=Counter)

    def finish(self) -> None:
        """Fill in every figure: counts not found are 0, figures without data None."""
        values = {**_EMPTY, **self.values}
        values["open_escalations"] = values["with_vendor"]
        if self.turnarounds:
            values["repairs_closed"] = sum(self.turnarounds.values())
            values["turnaround_median"] = nearest_rank(self.turnarounds, 50)
            values["turnaround_p90"] = nearest_rank(self.turnarounds, 90)
        self.values = values


@dataclass(frozen=True)
class Dates:
    """The days that figures depend on, in the district's time zone."""

    today: date
    now: datetime
    zone: ZoneInfo

    @property
    def warranty_last_day(self) -> date:
        return self.today + timedelta(days=WARRANTY_HORIZON_DAYS)

    @property
    def this_year(self) -> FiscalYear:
        return FiscalYear.containing(self.today)


def _counts_query(dates: Dates) -> Any:
    """Select each site's device counts, one row per site from its rows per model."""
    counts = ReportSiteModelCount
    in_service = counts.in_service
    eos = col(DeviceModel.end_of_support)
    this_year = dates.this_year
    next_year = this_year.next()

    def total(column: Any) -> Any:
        return func.coalesce(func.sum(column), 0)

    def in_service_if(condition: Any) -> Any:
        return total(case((condition, in_service), else_=0))

    return (
        select(
            counts.site_id,
            total(in_service).label("devices"),
            total(counts.deployed).label("deployed"),
            total(counts.in_repair).label("in_repair"),
            total(counts.with_vendor).label("with_vendor"),
            total(counts.lost).label("lost"),
            in_service_if(eos < dates.today).label("eos_past"),
            in_service_if(and_(eos >= dates.today, eos <= this_year.end)).label("eos_this_year"),
            in_service_if(and_(eos >= next_year.start, eos <= next_year.end)).label(
                "eos_next_year"
            ),
        )
        .join(DeviceModel, DeviceModel.id == counts.model_id)
        .group_by(counts.site_id)
    )


def outcome_figure(outcome: str) -> str:
    """Return the key figure that counts an outcome of report_outcome_counts."""
    return "repairs_opened" if outcome == "repair_opened" else outcome


async def device_figures(
    session: AsyncSession | AsyncConnection, dates: Dates, site_id: int | None = None
) -> dict[int, dict[str, int]]:
    """Return the key figures counted from report_site_model_counts, per site."""
    counts = _counts_query(dates)
    if site_id is not None:
        counts = counts.where(ReportSiteModelCount.site_id == site_id)
    names = list(counts.selected_columns.keys())[1:]
    return {
        found_site: dict(zip(names, map(int, values), strict=True))
        for found_site, *values in await session.execute(counts)
    }


async def site_figures(
    session: AsyncSession, period: Period, dates: Dates, site_id: int | None = None
) -> dict[int, SiteFigures]:
    """Return the key figures of one site, or of every site when `site_id` is None."""
    figures: dict[int, SiteFigures] = defaultdict(SiteFigures)
    # Core execution, without the ORM's per-row result handling, which made this function
    # about twice as slow on PostgreSQL (asyncpg) for 2,000 sites.
    connection = await session.connection()

    def only_site(query: Any, column: Any) -> Any:
        return query if site_id is None else query.where(column == site_id)

    for found_site, values in (await device_figures(connection, dates, site_id)).items():
        figures[found_site].values.update(values)

    warranty = select(Device.site_id, func.count()).where(
        col(Device.warranty_end) >= dates.today,
        col(Device.warranty_end) <= dates.warranty_last_day,
        Device.state.in_(IN_SERVICE_STATES),
    )
    warranty = only_site(warranty, Device.site_id).group_by(Device.site_id)
    for found_site, count in await connection.execute(warranty):
        figures[found_site].values["warranty_ending"] = count

    year = period.fiscal_year()
    await _add_site_rows(connection, figures, dates, year, site_id)
    if year is None:
        await _add_month_figures(connection, figures, period, site_id)

    for item in figures.values():
        item.finish()
    return figures


async def _add_site_rows(
    connection: AsyncConnection,
    figures: dict[int, SiteFigures],
    dates: Dates,
    year: FiscalYear | None,
    site_id: int | None,
) -> None:
    """Add the open repairs and, for a fiscal year, its outcomes and turnaround figures.

    One query reads one row per site from the per-site summary rows, so its cost does not
    grow with the events or the open repairs.
    """
    counts = ReportOpenRepairCount
    years = ReportSiteYear
    columns: dict[str, Any] = {"open_repairs": func.coalesce(counts.repair_count, 0)}
    query = select(Site.id, counts.oldest_opened_at).outerjoin(counts, counts.site_id == Site.id)
    if year is not None:
        columns |= {
            "repairs_closed": func.coalesce(years.turnaround_count, 0),
            "turnaround_median": years.turnaround_median,
            "turnaround_p90": years.turnaround_p90,
        }
        for name in OUTCOME_COLUMNS:
            columns[outcome_figure(name)] = func.coalesce(getattr(years, name), 0)
        query = query.outerjoin(
            years, (years.fiscal_year == year.start_year) & (years.site_id == Site.id)
        )
    query = query.add_columns(*columns.values())
    if site_id is not None:
        query = query.where(Site.id == site_id)
    names = tuple(columns)
    now = dates.now
    for found_site, oldest, *values in await connection.execute(query):
        site_values = figures[found_site].values
        site_values.update(zip(names, values, strict=True))
        if oldest is not None:
            site_values["oldest_repair_days"] = age_days(oldest, now)


async def _add_month_figures(
    connection: AsyncConnection,
    figures: dict[int, SiteFigures],
    period: Period,
    site_id: int | None,
) -> None:
    """Add a period's outcome counts and turnaround histograms from its monthly rows."""

    def only_site(query: Any, column: Any) -> Any:
        return query if site_id is None else query.where(column == site_id)

    in_period = (ReportOutcomeCount.month >= period.first_month) & (
        ReportOutcomeCount.month <= period.last_month
    )
    outcomes = only_site(
        select(
            ReportOutcomeCount.site_id,
            ReportOutcomeCount.outcome,
            func.sum(ReportOutcomeCount.outcome_count),
        )
        .where(in_period)
        # Outcome before site: with the site first, SQLite 3.40 (after ANALYZE) reads each
        # site's primary-key range for the grouping order instead of the month index.
        .group_by(ReportOutcomeCount.outcome, ReportOutcomeCount.site_id),
        ReportOutcomeCount.site_id,
    )
    for found_site, outcome, count in await connection.execute(outcomes):
        figures[found_site].values[outcome_figure(outcome)] = int(count)

    turnaround = only_site(
        select(
            ReportRepairTurnaround.site_id,
            ReportRepairTurnaround.turnaround_days,
            func.sum(ReportRepairTurnaround.repair_count),
        )
        .where(
            ReportRepairTurnaround.month >= period.first_month,
            ReportRepairTurnaround.month <= period.last_month,
        )
        # Days before site, so the month index is read, as for the outcomes.
        .group_by(ReportRepairTurnaround.turnaround_days, ReportRepairTurnaround.site_id),
        ReportRepairTurnaround.site_id,
    )
    for found_site, days, count in await connection.execute(turnaround):
        figures[found_site].turnarounds[days] += int(count)


async def region_turnarounds(
    connection: AsyncConnection, period: Period
) -> dict[str, Counter[int]] | None:
    """Return each region's turnaround histogram of a fiscal year, keyed by its region.

    The key is the sites' region, "" for sites without one. Returns None when the period is
    not a fiscal year, because then the sites' SiteFigures.turnarounds contain them.
    """
    year = period.fiscal_year()
    if year is None:
        return None
    rows = await connection.execute(
        select(
            ReportRegionTurnaround.region,
            ReportRegionTurnaround.turnaround_days,
            ReportRegionTurnaround.repair_count,
        ).where(ReportRegionTurnaround.fiscal_year == year.start_year)
    )
    histograms: defaultdict[str, Counter[int]] = defaultdict(Counter)
    for region, days, count in rows:
        histograms[region][days] += count
    return histograms


def total_figures(parts: list[SiteFigures], turnarounds: Counter[int] | None = None) -> SiteFigures:
    """Add sites' figures: counts are summed, percentiles recomputed, ages take the maximum.

    The percentiles come from `turnarounds` when given, and else from the parts' histograms.
    """
    total = SiteFigures()
    for key in COUNTS:
        total.values[key] = sum(part.values[key] or 0 for part in parts)
    ages = [part.values["oldest_repair_days"] for part in parts]
    total.values["oldest_repair_days"] = max((age for age in ages if age is not None), default=None)
    if turnarounds is not None:
        total.turnarounds.update(turnarounds)
    else:
        for part in parts:
            if part.turnarounds:
                total.turnarounds.update(part.turnarounds)
    total.finish()
    return total


def age_days(since: datetime, now: datetime) -> int:
    """Whole days from `since` to `now`, rounded down."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return max((now - since) // timedelta(days=1), 0)
