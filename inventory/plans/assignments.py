"""Weekly technician assignments per fiscal year: build them, adjust them by hand, read them."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import Database
from inventory.errors import ConflictError, NotFoundError
from inventory.plans import schedule
from inventory.plans.models import ServicePlan, TechnicianAssignment
from inventory.plans.rules import WEEKDAYS
from inventory.plans.schemas import AssignmentCreate, AssignmentRead, ScheduleReport
from inventory.plans.service import parse_fiscal_year
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.technicians.service import find_active_technician

log = logging.getLogger(__name__)

# Plans in these states are scheduled; drafts and cancelled plans are not.
SCHEDULED_STATES = ("submitted", "locked")


async def _purchased(session: AsyncSession, fiscal_year: str) -> dict[int, ServicePlan]:
    plans = await session.scalars(
        select(ServicePlan).where(
            ServicePlan.fiscal_year == fiscal_year, ServicePlan.state.in_(SCHEDULED_STATES)
        )
    )
    return {plan.site_id: plan for plan in plans}


async def assign_year(db: Database, label: str, user: str | None) -> ScheduleReport:
    """Replace a fiscal year's assignments with a new schedule of its submitted and locked plans.

    Active technicians are scheduled. The report names the sites left short and the
    technicians needed beyond the active ones.
    """
    year = parse_fiscal_year(label)
    async with db.write() as session:
        return await assign_year_in(session, year.label, user)


async def assign_year_in(
    session: AsyncSession, fiscal_year: str, user: str | None
) -> ScheduleReport:
    """Do what assign_year does inside an open transaction."""
    plans = await _purchased(session, fiscal_year)

    sites: dict[int, Site] = {}
    for site in await session.scalars(select(Site).where(Site.id.in_(list(plans)))):
        assert site.id is not None
        sites[site.id] = site
    technicians = list(await session.scalars(select(Technician).where(Technician.active.is_(True))))
    demands = [
        schedule.SiteDemand(
            site_id=site_id,
            days=plan.days,
            region=sites[site_id].region,
            latitude=sites[site_id].latitude,
            longitude=sites[site_id].longitude,
        )
        for site_id, plan in sorted(plans.items())
    ]
    slots = [
        schedule.TechnicianSlot(technician_id=t.id, region=t.home_region)
        for t in technicians
        if t.id is not None
    ]
    result = schedule.build_schedule(demands, slots)

    await session.execute(
        delete(TechnicianAssignment).where(TechnicianAssignment.fiscal_year == fiscal_year)
    )
    session.add_all(
        TechnicianAssignment(
            fiscal_year=fiscal_year,
            technician_id=item.technician_id,
            site_id=item.site_id,
            weekday=item.weekday,
            created_by=user,
        )
        for item in result.assignments
    )
    await session.flush()

    share = schedule.home_region_share(
        result.assignments,
        {site_id: site.region for site_id, site in sites.items()},
        {t.id: t.home_region for t in technicians if t.id is not None},
    )
    log.info(
        "schedule built",
        extra={
            "fiscal_year": fiscal_year,
            "assignments": len(result.assignments),
            "days_short": result.days_short,
            "extra_technicians": result.extra_technicians,
        },
    )
    return ScheduleReport(
        fiscal_year=fiscal_year,
        assignments=len(result.assignments),
        sites_short={sites[site_id].code: days for site_id, days in result.short_days.items()},
        days_short=result.days_short,
        extra_technicians=result.extra_technicians,
        home_region_share=round(share, 4),
    )


def _assignment_read(
    row: TechnicianAssignment, technician: Technician, site: Site
) -> AssignmentRead:
    assert row.id is not None
    return AssignmentRead(
        id=row.id,
        fiscal_year=row.fiscal_year,
        technician=technician.employee_number,
        technician_name=technician.name,
        site=site.code,
        site_name=site.name,
        weekday=row.weekday,
        weekday_name=WEEKDAYS[row.weekday],
    )


async def list_assignments(
    db: Database, label: str, technician: str | None = None, site: str | None = None
) -> list[AssignmentRead]:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        query = (
            select(TechnicianAssignment, Technician, Site)
            .join(Technician, Technician.id == TechnicianAssignment.technician_id)
            .join(Site, Site.id == TechnicianAssignment.site_id)
            .where(TechnicianAssignment.fiscal_year == year.label)
            .order_by(Technician.employee_number, TechnicianAssignment.weekday)
        )
        if technician is not None:
            query = query.where(Technician.employee_number == technician.strip())
        if site is not None:
            query = query.where(Site.code == site.strip())
        rows = (await session.execute(query)).all()
        return [_assignment_read(row, tech, place) for row, tech, place in rows]


async def add_assignment(
    db: Database, label: str, data: AssignmentCreate, user: str | None
) -> AssignmentRead:
    """Add one weekly day by hand, keeping every schedule rule.

    Raises ConflictError when the technician already has a site that weekday, the site
    already has a technician that weekday, or the site would get more days than it bought.
    """
    year = parse_fiscal_year(label)
    async with db.write() as session:
        technician = await find_active_technician(session, data.technician)
        site = await find_site(session, data.site)
        plans = await _purchased(session, year.label)
        plan = plans.get(site.id) if site.id is not None else None
        if plan is None:
            raise ConflictError(
                f"Site {site.code} has no submitted or locked plan for {year.label}, so it "
                "cannot be scheduled; submit its plan first.",
                site=site.code,
            )
        rows = list(
            await session.scalars(
                select(TechnicianAssignment).where(
                    TechnicianAssignment.fiscal_year == year.label,
                    (TechnicianAssignment.technician_id == technician.id)
                    | (TechnicianAssignment.site_id == site.id),
                )
            )
        )
        proposed = [
            schedule.Assignment(row.technician_id, row.site_id, row.weekday) for row in rows
        ]
        assert technician.id is not None
        assert site.id is not None
        proposed.append(schedule.Assignment(technician.id, site.id, data.weekday))
        problems = schedule.schedule_problems(
            proposed, {site.id: plan.days} | _other_sites(rows, site.id)
        )
        if problems:
            raise ConflictError(
                f"Cannot give {technician.employee_number} {site.code} on "
                f"{WEEKDAYS[data.weekday]}: {'; '.join(problems)}.",
                problems=problems,
            )
        row = TechnicianAssignment(
            fiscal_year=year.label,
            technician_id=technician.id,
            site_id=site.id,
            weekday=data.weekday,
            created_by=user,
        )
        session.add(row)
        await session.flush()
        log.info(
            "assignment added",
            extra={"technician": technician.employee_number, "site": site.code, "user": user},
        )
        return _assignment_read(row, technician, site)


def _other_sites(rows: list[TechnicianAssignment], site_id: int) -> dict[int, int]:
    # Days already scheduled at the technician's other sites count as purchased there: only
    # the site being added is checked against its plan.
    counts: dict[int, int] = {}
    for row in rows:
        if row.site_id != site_id:
            counts[row.site_id] = counts.get(row.site_id, 0) + 1
    return counts


async def remove_assignment(db: Database, assignment_id: int, user: str | None) -> None:
    async with db.write() as session:
        row = await session.get(TechnicianAssignment, assignment_id)
        if row is None:
            raise NotFoundError(
                f"Assignment {assignment_id} not found.", assignment_id=assignment_id
            )
        await session.delete(row)
        log.info("assignment removed", extra={"assignment_id": assignment_id, "user": user})


def weekly_table(assignments: list[AssignmentRead]) -> list[str]:
    """Format assignments as one line per technician with the site of each weekday."""
    by_technician: dict[tuple[str, str], list[str]] = {}
    for item in assignments:
        row = by_technician.setdefault((item.technician, item.technician_name), ["-"] * 5)
        row[item.weekday] = item.site
    header = f"{'technician':<12} {'name':<24} " + " ".join(f"{d[:3]:<10}" for d in WEEKDAYS)
    lines = [header]
    for (number, name), days in sorted(by_technician.items()):
        lines.append(f"{number:<12} {name[:24]:<24} " + " ".join(f"{s:<10}" for s in days))
    return lines
