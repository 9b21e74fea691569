"""Reports on the support model: delivered against purchased days, yearly totals, load.

`site_delivery` is the entry point for a site report: it takes an open session, so the
caller can read it in the same transaction as the rest of its report.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import Database
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.fiscal import FiscalYear, add_months
from inventory.plans import rules
from inventory.plans.models import ClosedDay, ServicePlan, TechnicianAssignment, Visit
from inventory.plans.schemas import (
    ClosedDayCreate,
    ClosedDayRead,
    FiscalSummary,
    FiscalSummaryRow,
    MonthDelivery,
    TechnicianLoad,
)
from inventory.plans.service import parse_fiscal_year
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician


def fiscal_months(year: FiscalYear) -> list[tuple[date, date]]:
    """Return the first and last day of each month of a fiscal year, July first."""
    months = []
    for index in range(12):
        first = add_months(year.start, index)
        last = calendar.monthrange(first.year, first.month)[1]
        months.append((first, date(first.year, first.month, last)))
    return months


def open_weekdays(start: date, end: date, closed: set[date]) -> int:
    """Count Monday-to-Friday dates from `start` to `end`, both included, not in `closed`."""
    count = 0
    day = start
    while day <= end:
        if day.weekday() < rules.DAYS_PER_WEEK and day not in closed:
            count += 1
        day += timedelta(days=1)
    return count


async def closed_dates(session: AsyncSession, site_id: int, fiscal_year: str) -> set[date]:
    """Return the dates a site is closed in a fiscal year: its own and district-wide ones."""
    rows = await session.scalars(
        select(ClosedDay.closed_on).where(
            ClosedDay.fiscal_year == fiscal_year,
            (ClosedDay.site_id == site_id) | ClosedDay.site_id.is_(None),
        )
    )
    return set(rows)


async def site_delivery(
    session: AsyncSession, site_id: int, fiscal_year: str
) -> list[MonthDelivery]:
    """Report, per month of a fiscal year, the days delivered at a site against those bought.

    Purchased days in a month are the plan's days per week times the month's open weekdays
    (Monday to Friday, less closed days) divided by 5, to one decimal. Delivered days count
    each technician's visit dates at the site once. A site without a plan, or with a
    cancelled one, has 0 purchased days.
    """
    year = FiscalYear.parse(fiscal_year)
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFoundError(f"Site id {site_id} not found.", site_id=site_id)
    plan = await session.scalar(
        select(ServicePlan).where(
            ServicePlan.site_id == site_id, ServicePlan.fiscal_year == year.label
        )
    )
    days = plan.days if plan is not None and plan.state != "cancelled" else 0
    closed = await closed_dates(session, site_id, year.label)
    visit_days = (
        select(
            Visit.visit_date,
            func.count(distinct(Visit.technician_id)),
            func.coalesce(func.sum(Visit.minutes_on_site), 0),
        )
        .where(
            Visit.site_id == site_id,
            Visit.visit_date >= year.start,
            Visit.visit_date <= year.end,
        )
        .group_by(Visit.visit_date)
    )
    delivered: dict[tuple[int, int], int] = defaultdict(int)
    minutes: dict[tuple[int, int], int] = defaultdict(int)
    for visit_date, technicians, on_site in (await session.execute(visit_days)).all():
        delivered[(visit_date.year, visit_date.month)] += int(technicians)
        minutes[(visit_date.year, visit_date.month)] += int(on_site)
    report = []
    for first, last in fiscal_months(year):
        weekdays = open_weekdays(first, last, closed)
        purchased = (Decimal(days) * weekdays / rules.DAYS_PER_WEEK).quantize(Decimal("0.1"))
        key = (first.year, first.month)
        report.append(
            MonthDelivery(
                site=site.code,
                month=f"{first:%Y-%m}",
                open_weekdays=weekdays,
                purchased_days=purchased,
                delivered_days=delivered[key],
                minutes_on_site=minutes[key],
            )
        )
    return report


async def delivery_for_site(db: Database, site_code: str, label: str) -> list[MonthDelivery]:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        site = await find_site(session, site_code)
        assert site.id is not None
        return await site_delivery(session, site.id, year.label)


def _summary_rows(groups: dict[str, list[ServicePlan]]) -> list[FiscalSummaryRow]:
    rows = []
    for group, plans in sorted(groups.items()):
        days = sum(plan.days for plan in plans)
        rows.append(
            FiscalSummaryRow(
                group=group,
                sites=len(plans),
                days=days,
                fte=rules.full_time_equivalent(days),
                annual_cost=sum((Decimal(p.annual_cost or 0) for p in plans), Decimal(0)),
            )
        )
    return rows


async def fiscal_summary(db: Database, label: str) -> FiscalSummary:
    """Total a fiscal year's plans (all but cancelled ones): days, FTE and cost by group."""
    year = parse_fiscal_year(label)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(ServicePlan, Site)
                .join(Site, Site.id == ServicePlan.site_id)
                .where(ServicePlan.fiscal_year == year.label, ServicePlan.state != "cancelled")
            )
        ).all()
    by_region: dict[str, list[ServicePlan]] = defaultdict(list)
    by_kind: dict[str, list[ServicePlan]] = defaultdict(list)
    for plan, site in rows:
        by_region[site.region or "(no region)"].append(plan)
        by_kind[site.kind].append(plan)
    plans = [plan for plan, _site in rows]
    days = sum(plan.days for plan in plans)
    return FiscalSummary(
        fiscal_year=year.label,
        sites_with_plans=sum(1 for plan in plans if plan.days),
        days=days,
        fte=rules.full_time_equivalent(days),
        annual_cost=sum((Decimal(p.annual_cost or 0) for p in plans), Decimal(0)),
        by_region=_summary_rows(by_region),
        by_kind=_summary_rows(by_kind),
    )


async def technician_load(db: Database, label: str) -> list[TechnicianLoad]:
    """List every active technician with their scheduled days and sites for a fiscal year."""
    year = parse_fiscal_year(label)
    async with db.read() as session:
        technicians = list(
            await session.scalars(
                select(Technician)
                .where(Technician.active.is_(True))
                .order_by(Technician.employee_number)
            )
        )
        rows = (
            await session.execute(
                select(TechnicianAssignment.technician_id, Site.code, Site.region)
                .join(Site, Site.id == TechnicianAssignment.site_id)
                .where(TechnicianAssignment.fiscal_year == year.label)
            )
        ).all()
    days: dict[int, int] = defaultdict(int)
    sites: dict[int, dict[str, str | None]] = defaultdict(dict)
    for technician_id, code, region in rows:
        days[technician_id] += 1
        sites[technician_id][code] = region
    report = []
    for technician in technicians:
        assert technician.id is not None
        own = sites[technician.id]
        report.append(
            TechnicianLoad(
                technician=technician.employee_number,
                name=technician.name,
                home_region=technician.home_region,
                days_per_week=days[technician.id],
                sites=sorted(own),
                sites_outside_home_region=sum(
                    1 for region in own.values() if region != technician.home_region
                ),
            )
        )
    return report


async def add_closed_day(db: Database, data: ClosedDayCreate) -> ClosedDayRead:
    """Record a date a site, or with no site every site, is not visited."""
    year = FiscalYear.containing(data.closed_on)
    async with db.write() as session:
        site = await find_site(session, data.site) if data.site else None
        site_id = site.id if site else None
        existing = await session.scalar(
            select(ClosedDay.id).where(
                ClosedDay.closed_on == data.closed_on,
                ClosedDay.site_id.is_(None) if site_id is None else ClosedDay.site_id == site_id,
            )
        )
        if existing is not None:
            where = f"site {site.code}" if site else "every site"
            raise ConflictError(
                f"{data.closed_on} is already a closed day for {where}.", closed_day_id=existing
            )
        if data.closed_on.weekday() >= rules.DAYS_PER_WEEK:
            raise InvalidInputError(
                f"{data.closed_on} is a {data.closed_on:%A}; only weekdays can be closed days.",
                closed_on=str(data.closed_on),
            )
        row = ClosedDay(
            fiscal_year=year.label, closed_on=data.closed_on, site_id=site_id, reason=data.reason
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return ClosedDayRead(
            id=row.id,
            fiscal_year=row.fiscal_year,
            closed_on=row.closed_on,
            site=site.code if site else None,
            reason=row.reason,
        )


async def list_closed_days(db: Database, label: str) -> list[ClosedDayRead]:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(ClosedDay, Site.code)
                .outerjoin(Site, Site.id == ClosedDay.site_id)
                .where(ClosedDay.fiscal_year == year.label)
                .order_by(ClosedDay.closed_on, ClosedDay.id)
            )
        ).all()
    return [
        ClosedDayRead(
            id=row.id or 0,
            fiscal_year=row.fiscal_year,
            closed_on=row.closed_on,
            site=code,
            reason=row.reason,
        )
        for row, code in rows
    ]
