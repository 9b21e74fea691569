"""Service days delivered against purchased: the site's plan and its technicians' visits.

The figures come from the service plans (inventory.plans): per month, the days bought
(the plan's days per week over the month's open weekdays) and the days on which a
technician visited. The report shows the months of its period, with a total row.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from inventory.fiscal import FiscalYear
from inventory.plans.reports import MonthDelivery, site_delivery
from inventory.reports.periods import Period
from inventory.reports.tables import ReportTable
from inventory.sites.models import Site


async def delivered_days(session: AsyncSession, site: Site, period: Period) -> list[MonthDelivery]:
    """Return one row per month of `period`, from the fiscal years it falls in."""
    assert site.id is not None
    in_period = {f"{month:%Y-%m}" for month in period.months()}
    years = sorted({FiscalYear.containing(month) for month in period.months()})
    rows: list[MonthDelivery] = []
    for year in years:
        delivery = await site_delivery(session, site.id, year.label)
        rows += [row for row in delivery if row.month in in_period]
    return rows


async def service_days_table(session: AsyncSession, site: Site, period: Period) -> ReportTable:
    rows = await delivered_days(session, site, period)
    purchased = sum((row.purchased_days for row in rows), Decimal(0))
    delivered = sum(row.delivered_days for row in rows)
    bought = any(row.purchased_days for row in rows)
    return ReportTable(
        key="service_days",
        title="Service days delivered against purchased",
        columns=["Month", "Days purchased", "Days delivered"],
        rows=[[row.month, str(row.purchased_days), row.delivered_days] for row in rows]
        + [["Total", str(purchased), delivered]],
        note=None
        if bought
        else "This site bought no technician days in the period; it is supported through tickets.",
        total_rows={len(rows)},
    )
