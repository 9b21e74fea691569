"""Operations on technicians."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import Database
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.technicians.models import Technician
from inventory.technicians.schemas import TechnicianCreate, TechnicianRead

# Built once: every action a technician records looks the technician up.
_BY_NUMBER = select(Technician).where(Technician.employee_number == bindparam("number"))


async def find_technician(session: AsyncSession, employee_number: str) -> Technician:
    number = employee_number.strip()
    technician = await session.scalar(_BY_NUMBER, {"number": number})
    if technician is None:
        raise NotFoundError(f"Technician {number!r} not found.", technician=number)
    return technician


async def find_active_technician(session: AsyncSession, employee_number: str) -> Technician:
    """Return the technician who acts on a device; an unknown or inactive one is invalid input."""
    try:
        technician = await find_technician(session, employee_number)
    except NotFoundError as exc:
        raise InvalidInputError(exc.detail, **exc.extra) from exc
    if not technician.active:
        raise InvalidInputError(
            f"Technician {technician.employee_number!r} is inactive and cannot act on devices.",
            technician=technician.employee_number,
        )
    return technician


async def create_technician(db: Database, data: TechnicianCreate) -> TechnicianRead:
    message = f"Technician {data.employee_number!r} already exists."
    try:
        async with db.write() as session:
            existing = await session.scalar(
                select(Technician.id).where(Technician.employee_number == data.employee_number)
            )
            if existing is not None:
                raise ConflictError(message, technician=data.employee_number)
            technician = Technician(**data.model_dump())
            session.add(technician)
    except IntegrityError as exc:
        raise ConflictError(message, technician=data.employee_number) from exc
    return TechnicianRead.model_validate(technician)


async def get_technician(db: Database, employee_number: str) -> TechnicianRead:
    async with db.read() as session:
        return TechnicianRead.model_validate(await find_technician(session, employee_number))


async def list_technicians(
    db: Database,
    *,
    region: str | None = None,
    active: bool | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[TechnicianRead]:
    limit = check_limit(limit, db.settings.page_size_max)
    query = select(Technician).order_by(Technician.employee_number).limit(limit + 1)
    if region:
        query = query.where(Technician.home_region == region)
    if active is not None:
        query = query.where(Technician.active == active)
    if cursor:
        after = decode_cursor(cursor, {"employee_number": str})["employee_number"]
        query = query.where(Technician.employee_number > after)
    async with db.read() as session:
        rows = list((await session.execute(query)).scalars())
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor({"employee_number": rows[limit - 1].employee_number})
    return Page(
        items=[TechnicianRead.model_validate(row) for row in rows[:limit]],
        next_cursor=next_cursor,
        limit=limit,
    )
