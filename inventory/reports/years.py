"""Fiscal-year totals of the monthly summary rows, for the district view of a fiscal year.

report_site_years adds up each site's outcomes and turnarounds over a fiscal year, with its
turnaround percentiles, and report_region_turnarounds counts the turnarounds of each
region's sites. So the district view of a fiscal year reads one row per site and a few per
region, however many events the year has. `YearChanges` keeps both tables in the transaction
that changes the monthly rows, and `rebuild_years` recomputes them from those rows.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.fiscal import FiscalYear
from inventory.reports.models import (
    ReportOutcomeCount,
    ReportRegionTurnaround,
    ReportRepairTurnaround,
    ReportSiteYear,
)
from inventory.reports.periods import nearest_rank
from inventory.sites.models import Site

# The columns of report_site_years that count outcomes, named as the outcomes of
# inventory.reports.summary.OUTCOMES.
OUTCOME_COLUMNS = ("repair_opened", "reuse", "harvest", "recycle", "recycled")
_INSERT_CHUNK = 5000


def fiscal_year_of(month: date) -> int:
    """Return the report_site_years key of the fiscal year that contains `month`."""
    return FiscalYear.containing(month).start_year


def year_months(fiscal_year: int) -> tuple[date, date]:
    """Return the first and last month of a fiscal year, as the monthly rows store them."""
    year = FiscalYear(fiscal_year)
    return year.start, year.end.replace(day=1)


def region_key(region: str | None) -> str:
    """Return the report_region_turnarounds key of a site's region: "" for none."""
    return region or ""


@lru_cache(maxsize=64)
def _add_upsert(
    dialect_name: str, table: Any, key_names: tuple[str, ...], columns: tuple[str, ...]
):
    """Build an INSERT that adds to the given count columns of the row with the key, cached."""
    dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(
        {name: bindparam(name) for name in (*key_names, *columns)}
    )
    return statement.on_conflict_do_update(
        index_elements=list(key_names),
        set_={name: getattr(table.c, name) + getattr(statement.excluded, name) for name in columns},
    )


def _percentiles(histogram: Counter[int]) -> dict[str, int | None]:
    return {
        "turnaround_count": sum(histogram.values()),
        "turnaround_median": nearest_rank(histogram, 50),
        "turnaround_p90": nearest_rank(histogram, 90),
    }


class YearChanges:
    """Changes to the fiscal-year tables added up over many events and written once."""

    def __init__(self) -> None:
        # (site_id, fiscal_year) -> changes to the count columns of report_site_years.
        self.counts: defaultdict[tuple[int, int], Counter[str]] = defaultdict(Counter)
        # (site_id, fiscal_year, turnaround_days) -> repairs closed.
        self.turnarounds: Counter[tuple[int, int, int]] = Counter()

    def add_outcome(self, site_id: int, month: date, outcome: str, count: int) -> None:
        self.counts[(site_id, fiscal_year_of(month))][outcome] += count

    def add_turnaround(self, site_id: int, month: date, days: int) -> None:
        year = fiscal_year_of(month)
        self.counts[(site_id, year)]["turnaround_count"] += 1
        self.turnarounds[(site_id, year, days)] += 1

    async def write(self, session: AsyncSession) -> None:
        """Write the added changes in the caller's transaction.

        Must run after the monthly rows are written, because the percentiles are read back
        from report_repair_turnarounds.
        """
        dialect = session.get_bind().dialect.name
        site_year = ReportSiteYear.__table__
        # In key order, as the other summary rows, so that concurrent transactions lock the
        # rows in one order. The row is locked before its turnarounds are read below, so on
        # PostgreSQL a concurrent closure at the same site waits and then reads this one.
        for (site_id, year), deltas in sorted(self.counts.items()):
            columns = tuple(sorted(deltas))
            statement = _add_upsert(dialect, site_year, ("site_id", "fiscal_year"), columns)
            await session.execute(statement, {"site_id": site_id, "fiscal_year": year, **deltas})

        closed = sorted({(site_id, year) for site_id, year, _days in self.turnarounds})
        for site_id, year in closed:
            await _update_percentiles(session, site_id, year)

        if self.turnarounds:
            site_ids = {site_id for site_id, _year in closed}
            regions = {
                site_id: region_key(region)
                for site_id, region in await session.execute(
                    select(Site.id, Site.region).where(Site.id.in_(site_ids))
                )
            }
            region_counts: Counter[tuple[int, str, int]] = Counter()
            for (site_id, year, days), count in self.turnarounds.items():
                region_counts[(year, regions[site_id], days)] += count
            key_names = ("fiscal_year", "region", "turnaround_days")
            statement = _add_upsert(
                dialect, ReportRegionTurnaround.__table__, key_names, ("repair_count",)
            )
            for (year, region, days), count in sorted(region_counts.items()):
                await session.execute(
                    statement,
                    {
                        "fiscal_year": year,
                        "region": region,
                        "turnaround_days": days,
                        "repair_count": count,
                    },
                )
        self.counts.clear()
        self.turnarounds.clear()


async def _update_percentiles(session: AsyncSession, site_id: int, year: int) -> None:
    """Recompute a site's turnaround figures of a fiscal year from its monthly rows."""
    first, last = year_months(year)
    turnarounds = ReportRepairTurnaround
    rows = await session.execute(
        select(turnarounds.turnaround_days, func.sum(turnarounds.repair_count))
        .where(
            turnarounds.site_id == site_id,
            turnarounds.month >= first,
            turnarounds.month <= last,
        )
        .group_by(turnarounds.turnaround_days)
    )
    histogram = Counter({days: int(count) for days, count in rows})
    await session.execute(
        update(ReportSiteYear)
        .where(ReportSiteYear.site_id == site_id, ReportSiteYear.fiscal_year == year)
        .values(**_percentiles(histogram))
    )


def rebuild_years(connection: Connection) -> None:
    """Recompute both fiscal-year tables from the monthly rows, in the caller's transaction."""
    connection.execute(delete(ReportSiteYear.__table__))
    connection.execute(delete(ReportRegionTurnaround.__table__))

    counts: defaultdict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    outcomes = select(
        ReportOutcomeCount.site_id,
        ReportOutcomeCount.month,
        ReportOutcomeCount.outcome,
        ReportOutcomeCount.outcome_count,
    )
    for site_id, month, outcome, count in connection.execute(outcomes):
        counts[(site_id, fiscal_year_of(month))][outcome] += count

    regions = {
        site_id: region_key(region)
        for site_id, region in connection.execute(select(Site.id, Site.region))
    }
    histograms: defaultdict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    region_counts: Counter[tuple[int, str, int]] = Counter()
    turnarounds = select(
        ReportRepairTurnaround.site_id,
        ReportRepairTurnaround.month,
        ReportRepairTurnaround.turnaround_days,
        ReportRepairTurnaround.repair_count,
    )
    for site_id, month, days, count in connection.execute(turnarounds):
        year = fiscal_year_of(month)
        histograms[(site_id, year)][days] += count
        region_counts[(year, regions[site_id], days)] += count

    site_rows = [
        {
            "site_id": site_id,
            "fiscal_year": year,
            **{column: counts[(site_id, year)][column] for column in OUTCOME_COLUMNS},
            **_percentiles(histograms.get((site_id, year), Counter())),
        }
        for site_id, year in sorted(counts.keys() | histograms.keys())
    ]
    region_rows = [
        {"fiscal_year": year, "region": region, "turnaround_days": days, "repair_count": count}
        for (year, region, days), count in sorted(region_counts.items())
    ]
    for table, rows in (
        (ReportSiteYear.__table__, site_rows),
        (ReportRegionTurnaround.__table__, region_rows),
    ):
        for start in range(0, len(rows), _INSERT_CHUNK):
            connection.execute(insert(table), rows[start : start + _INSERT_CHUNK])
