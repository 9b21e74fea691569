"""Service days delivered against purchased: the section that waits for service plans.

NOTE: service plans and technician visits are not recorded yet, so `delivered_days`
returns None and the section says so. When they exist, this is the one function to fill.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.reports.periods import Period
from inventory.reports.tables import ReportTable
from inventory.sites.models import Site


async def delivered_days(
    session: AsyncSession, site: Site, period: Period
) -> list[tuple[str, float, float]] | None:
    """Return (fiscal year, days purchased, days delivered) rows, or None without plans."""
    return None


async def service_days_table(session: AsyncSession, site: Site, period: Period) -> ReportTable:
    rows = await delivered_days(session, site, period)
    return ReportTable(
        key="service_days",
        title="Service days delivered against purchased",
        columns=["Fiscal year", "Days purchased", "Days delivered"],
        rows=[list(row) for row in rows or []],
        note="Not available yet: this service does not record service plans and visits."
        if rows is None
        else None,
    )
