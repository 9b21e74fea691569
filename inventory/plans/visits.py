"""Technician visits: check in and out at a site, link device steps, write timesheets."""

from __future__ import annotations

import csv
import io
import logging
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.db import Database
from inventory.devices.models import DeviceEvent
from inventory.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from inventory.plans.models import Visit
from inventory.plans.rules import OFFICE_KINDS
from inventory.plans.schemas import CheckIn, CheckOut, VisitRead
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.technicians.service import find_active_technician, find_technician
from inventory.types import utc_now

log = logging.getLogger(__name__)


# Built once: every action a technician records looks for the visit it belongs to.
_VISIT_AT = (
    select(Visit.id)
    .where(
        Visit.technician_id == bindparam("technician_id"),
        Visit.checked_in_at <= bindparam("occurred_at"),
        or_(
            Visit.checked_out_at.is_(None),
            Visit.checked_out_at >= bindparam("occurred_at"),
        ),
    )
    .order_by(Visit.checked_in_at.desc())
    .limit(1)
)


async def visit_at(session: AsyncSession, technician_id: int, occurred_at: datetime) -> int | None:
    """Return the id of the technician's visit that covers `occurred_at`, or None.

    A visit covers the time from its check-in to its check-out, or to now while it is open,
    so a device step recorded later with its real time still finds its visit.
    """
    return await session.scalar(
        _VISIT_AT, {"technician_id": technician_id, "occurred_at": occurred_at}
    )


async def _visiting_technician(
    session: AsyncSession, principal: Principal | None, requested: str | None
) -> Technician:
    """Return the technician a check-in is for: technicians check in themselves."""
    if principal is not None and principal.role is Role.TECHNICIAN:
        if requested and requested.strip() != principal.technician_number:
            raise ForbiddenError(
                f"Technicians check in themselves; user {principal.username!r} is technician "
                f"{principal.technician_number!r}, not {requested.strip()!r}."
            )
        if principal.technician_number is None:
            raise ForbiddenError(
                f"User {principal.username!r} is not linked to a technician record."
            )
        return await find_active_technician(session, principal.technician_number)
    if not requested:
        raise InvalidInputError("Missing technician: give the employee number to check in.")
    return await find_active_technician(session, requested)


def _check_instant(value: datetime | None, name: str) -> datetime:
    if value is None:
        return utc_now()
    if value.tzinfo is None:
        raise InvalidInputError(
            f"{name} {value.isoformat()} has no time zone; add an offset such as -07:00.",
            field=name,
        )
    if value > utc_now() + timedelta(minutes=5):
        raise InvalidInputError(f"{name} {value.isoformat()} is in the future.", field=name)
    return value


async def _visit_read(session: AsyncSession, visit: Visit) -> VisitRead:
    technician = await session.get(Technician, visit.technician_id)
    site = await session.get(Site, visit.site_id)
    assert technician is not None
    assert site is not None
    assert visit.id is not None
    events = await session.scalar(
        select(func.count()).select_from(DeviceEvent).where(DeviceEvent.visit_id == visit.id)
    )
    return VisitRead(
        id=visit.id,
        technician=technician.employee_number,
        technician_name=technician.name,
        site=site.code,
        visit_date=visit.visit_date,
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
        minutes_on_site=visit.minutes_on_site,
        mileage=visit.mileage,
        mileage_paid_by=visit.mileage_paid_by,
        notes=visit.notes,
        events=int(events or 0),
    )


async def check_in(db: Database, data: CheckIn, principal: Principal | None) -> VisitRead:
    """Open a visit. Raises ConflictError when the technician already has an open visit."""
    at = _check_instant(data.at, "at")
    async with db.write() as session:
        technician = await _visiting_technician(session, principal, data.technician)
        site = await find_site(session, data.site)
        open_visit = await session.scalar(
            select(Visit).where(
                Visit.technician_id == technician.id, Visit.checked_out_at.is_(None)
            )
        )
        if open_visit is not None:
            raise ConflictError(
                f"Technician {technician.employee_number} is still checked in (visit "
                f"{open_visit.id}); check out of it first.",
                visit_id=open_visit.id,
            )
        assert technician.id is not None
        assert site.id is not None
        visit = Visit(
            technician_id=technician.id,
            site_id=site.id,
            visit_date=at.astimezone(db.settings.zone).date(),
            checked_in_at=at,
            notes=data.notes,
        )
        session.add(visit)
        # Read before the flush: a failed flush expires the loaded rows.
        number = technician.employee_number
        try:
            await session.flush()
        except IntegrityError as exc:
            # Another check-in of the same technician won the race for the open visit.
            log.info("check-in lost a race", extra={"technician": number})
            raise ConflictError(
                f"Technician {number} is already checked in; check out of the open visit first.",
                technician=number,
            ) from exc
        log.info(
            "checked in",
            extra={
                "visit_id": visit.id,
                "technician": technician.employee_number,
                "site": site.code,
            },
        )
        return await _visit_read(session, visit)


async def check_out(
    db: Database, visit_id: int, data: CheckOut, principal: Principal | None
) -> VisitRead:
    """Close a visit, recording minutes on site and any mileage with who pays it."""
    at = _check_instant(data.at, "at")
    async with db.write() as session:
        visit = await _find_visit(session, visit_id, principal)
        if visit.checked_out_at is not None:
            raise ConflictError(
                f"Visit {visit_id} was already checked out at {visit.checked_out_at.isoformat()}.",
                visit_id=visit_id,
            )
        if at < visit.checked_in_at:
            raise InvalidInputError(
                f"Check-out {at.isoformat()} is before check-in {visit.checked_in_at.isoformat()}.",
                visit_id=visit_id,
            )
        site = await session.get(Site, visit.site_id)
        assert site is not None
        visit.checked_out_at = at
        visit.minutes_on_site = int((at - visit.checked_in_at).total_seconds() // 60)
        if data.mileage is not None:
            visit.mileage = data.mileage
            visit.mileage_paid_by = "site" if site.kind in OFFICE_KINDS else "district"
        if data.notes:
            visit.notes = f"{visit.notes}\n{data.notes}" if visit.notes else data.notes
        await session.flush()
        log.info("checked out", extra={"visit_id": visit_id, "minutes": visit.minutes_on_site})
        return await _visit_read(session, visit)


async def _find_visit(session: AsyncSession, visit_id: int, principal: Principal | None) -> Visit:
    visit = await session.get(Visit, visit_id)
    if visit is None:
        raise NotFoundError(f"Visit {visit_id} not found.", visit_id=visit_id)
    if principal is not None and principal.role is Role.TECHNICIAN:
        technician = await session.get(Technician, visit.technician_id)
        if technician is None or technician.employee_number != principal.technician_number:
            raise ForbiddenError(f"Visit {visit_id} is another technician's visit.")
    return visit


async def get_visit(db: Database, visit_id: int, principal: Principal | None) -> VisitRead:
    async with db.read() as session:
        visit = await session.get(Visit, visit_id)
        if visit is None:
            raise NotFoundError(f"Visit {visit_id} not found.", visit_id=visit_id)
        return await _visit_read(session, visit)


async def technician_visits(
    session: AsyncSession, technician_id: int, start: date, end: date
) -> list[tuple[Visit, Site]]:
    query = (
        select(Visit, Site)
        .join(Site, Site.id == Visit.site_id)
        .where(
            Visit.technician_id == technician_id,
            Visit.visit_date >= start,
            Visit.visit_date <= end,
        )
        .order_by(Visit.checked_in_at)
    )
    return [(visit, site) for visit, site in (await session.execute(query)).all()]


TIMESHEET_COLUMNS = (
    "date",
    "site",
    "site_name",
    "checked_in",
    "checked_out",
    "minutes_on_site",
    "mileage",
    "mileage_paid_by",
    "device_steps",
)


async def timesheet_csv(db: Database, employee_number: str, start: date, end: date) -> str:
    """Return a technician's visits from `start` to `end` (both included) as CSV text.

    Times are in the district's time zone; mileage is in miles.
    """
    if end < start:
        raise InvalidInputError(
            f"The period ends ({end}) before it starts ({start}); swap the dates.",
            start=str(start),
            end=str(end),
        )
    zone: ZoneInfo = db.settings.zone
    async with db.read() as session:
        technician = await find_technician(session, employee_number)
        assert technician.id is not None
        rows = await technician_visits(session, technician.id, start, end)
        steps: dict[int, int] = dict(
            (
                await session.execute(
                    select(DeviceEvent.visit_id, func.count())
                    .where(DeviceEvent.visit_id.in_([visit.id for visit, _ in rows]))
                    .group_by(DeviceEvent.visit_id)
                )
            ).all()
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TIMESHEET_COLUMNS)
    total_minutes = 0
    total_miles = Decimal(0)
    for visit, site in rows:
        total_minutes += visit.minutes_on_site or 0
        total_miles += visit.mileage or 0
        writer.writerow(
            [
                visit.visit_date.isoformat(),
                site.code,
                site.name,
                visit.checked_in_at.astimezone(zone).strftime("%H:%M"),
                visit.checked_out_at.astimezone(zone).strftime("%H:%M")
                if visit.checked_out_at
                else "",
                visit.minutes_on_site if visit.minutes_on_site is not None else "",
                visit.mileage if visit.mileage is not None else "",
                visit.mileage_paid_by or "",
                steps.get(visit.id, 0),
            ]
        )
    writer.writerow(["total", "", "", "", "", total_minutes, total_miles, "", ""])
    return out.getvalue()
