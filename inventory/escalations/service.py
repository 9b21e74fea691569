"""Warranty coverages and escalations: recording them and moving them with device actions.

The device service calls `record_step` inside the transaction of every escalation action, so
an escalation and its device never disagree. Export batches are in `batches`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.db import Database
from inventory.devices.models import Device
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.escalations.coverage import CoverageKind, coverage_end
from inventory.escalations.models import Escalation, WarrantyCoverage
from inventory.escalations.profiles import get_profile
from inventory.escalations.rules import OUTCOMES, STEPS, EscalationState, next_state
from inventory.escalations.schemas import CoverageCreate, CoverageRead, EscalationRead
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.types import utc_now
from inventory.vendors.models import Vendor

ESCALATION_ACTIONS = frozenset({"escalate", *STEPS})


# --- Coverage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageInput:
    kind: CoverageKind
    start: date
    end: date
    months: int | None = None
    vendor_id: int | None = None
    reference: str | None = None


def coverage_input(
    kind: str, start: date, end: date | None, months: int | None, *, field_prefix: str = ""
) -> CoverageInput:
    """Check one coverage's dates and return it with its last day; InvalidInputError if bad."""
    try:
        kind_value = CoverageKind(kind)
    except ValueError:
        raise InvalidInputError(
            f"{field_prefix}kind {kind!r} is not one of {', '.join(CoverageKind)}.",
            kind=kind,
        ) from None
    if (end is None) == (months is None):
        raise InvalidInputError(
            f"Give either {field_prefix}end (the last day covered) or {field_prefix}months, "
            "not both and not neither.",
        )
    if months is not None:
        try:
            end = coverage_end(start, months)
        except ValueError as exc:
            raise InvalidInputError(f"{field_prefix}{exc}.", months=months) from None
    assert end is not None
    if end < start:
        raise InvalidInputError(
            f"{field_prefix}end {end.isoformat()} is before {field_prefix}start "
            f"{start.isoformat()}.",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    return CoverageInput(kind=kind_value, start=start, end=end, months=months)


async def coverage_periods(session: AsyncSession, device_id: int) -> tuple[tuple[date, date], ...]:
    rows = await session.execute(
        select(WarrantyCoverage.start_date, WarrantyCoverage.end_date)
        .where(WarrantyCoverage.device_id == device_id)
        .order_by(WarrantyCoverage.start_date, WarrantyCoverage.id)
    )
    return tuple((start, end) for start, end in rows)


async def add_coverages(
    session: AsyncSession,
    device: Device,
    coverages: list[CoverageInput],
    created_by: str | None,
) -> list[WarrantyCoverage]:
    """Store coverages of `device` and refresh its warranty summary in the same transaction.

    The device keeps the earliest start and latest end of all its coverages, so lists and
    reports read them without a join. Whether a given day is covered is always decided from
    the coverages themselves.
    """
    assert device.id is not None
    rows = [
        WarrantyCoverage(
            device_id=device.id,
            kind=coverage.kind.value,
            vendor_id=coverage.vendor_id,
            start_date=coverage.start,
            end_date=coverage.end,
            months=coverage.months,
            reference=coverage.reference,
            created_by=created_by,
        )
        for coverage in coverages
    ]
    session.add_all(rows)
    await session.flush()
    periods = await coverage_periods(session, device.id)
    await session.execute(
        update(Device)
        .where(Device.id == device.id)
        .values(
            warranty_start=min(start for start, _ in periods),
            warranty_end=max(end for _, end in periods),
        )
        .execution_options(synchronize_session=False)
    )
    return rows


async def copy_coverages(session: AsyncSession, source_id: int, target: Device) -> None:
    """Give a vendor's replacement unit the coverages of the unit it replaces."""
    rows = (
        await session.scalars(
            select(WarrantyCoverage).where(WarrantyCoverage.device_id == source_id)
        )
    ).all()
    if rows:
        await add_coverages(
            session,
            target,
            [
                CoverageInput(
                    kind=CoverageKind(row.kind),
                    start=row.start_date,
                    end=row.end_date,
                    months=row.months,
                    vendor_id=row.vendor_id,
                    reference=row.reference,
                )
                for row in rows
            ],
            created_by=None,
        )


def coverage_read(row: WarrantyCoverage | Any, vendor_code: str | None) -> CoverageRead:
    """Describe a coverage, from its ORM object or a row of the same column names."""
    assert row.id is not None
    return CoverageRead(
        id=row.id,
        kind=row.kind,
        vendor=vendor_code,
        start=row.start_date,
        end=row.end_date,
        months=row.months,
        reference=row.reference,
        created_at=row.created_at,
        created_by=row.created_by,
    )


async def list_coverages(session: AsyncSession, device_id: int) -> list[CoverageRead]:
    rows = await session.execute(
        select(WarrantyCoverage, Vendor.code)
        .outerjoin(Vendor, Vendor.id == WarrantyCoverage.vendor_id)
        .where(WarrantyCoverage.device_id == device_id)
        .order_by(WarrantyCoverage.start_date, WarrantyCoverage.id)
    )
    return [coverage_read(row, code) for row, code in rows]


async def resolve_coverage(session: AsyncSession, data: CoverageCreate) -> CoverageInput:
    coverage = coverage_input(data.kind, data.start, data.end, data.months)
    vendor_id = None
    if data.vendor:
        vendor_id = await session.scalar(select(Vendor.id).where(Vendor.code == data.vendor))
        if vendor_id is None:
            raise InvalidInputError(f"Vendor {data.vendor!r} not found.", vendor=data.vendor)
    return replace(coverage, vendor_id=vendor_id, reference=data.reference)


# --- Escalation steps -------------------------------------------------------------------------


async def open_escalation(session: AsyncSession, device_id: int) -> Escalation | None:
    return await session.scalar(
        select(Escalation)
        .where(Escalation.device_id == device_id, Escalation.state != EscalationState.CLOSED)
        .order_by(Escalation.id.desc())
        .limit(1)
    )


def check_claim_limits(vendor: Vendor, data: dict[str, Any]) -> None:
    """Reject an escalation that breaks its vendor's limits, naming each limit."""
    profile = get_profile(vendor.profile)
    problems = profile.limit_problems(
        str(data.get("problem") or ""),
        data.get("troubleshooting"),
        list(data.get("parts_requested") or []),
    )
    if problems:
        details = "; ".join(f"{name}: {problem}" for name, problem in problems.items())
        raise InvalidInputError(
            f"The claim breaks vendor {vendor.code!r}'s limits: {details}.",
            vendor=vendor.code,
            profile=profile.name,
            problems=problems,
        )


async def check_step(session: AsyncSession, device: Device, action: str) -> Escalation | None:
    """Return the open escalation `action` moves; ConflictError if its state does not allow it.

    A device sent to its vendor before escalations were recorded has none, and its vendor
    updates are recorded on the device alone.
    """
    if action not in STEPS:
        return None
    assert device.id is not None
    escalation = await open_escalation(session, device.id)
    if escalation is None:
        return None
    try:
        next_state(action, EscalationState(escalation.state))
    except ValueError as exc:
        raise ConflictError(
            f"Escalation {escalation.id} of device {device.asset_tag!r}: {exc}.",
            escalation_id=escalation.id,
            escalation_state=escalation.state,
        ) from None
    return escalation


async def record_step(
    session: AsyncSession,
    *,
    device: Device,
    action: str,
    data: dict[str, Any],
    escalation: Escalation | None,
    vendor: Vendor | None,
    technician: Technician | None,
    covered: bool,
    occurred_at: datetime,
    replacement_device_id: int | None = None,
) -> None:
    """Open, move or close the escalation of `device` for one device action."""
    assert device.id is not None
    now = utc_now()
    if action == "escalate":
        assert vendor is not None
        assert vendor.id is not None
        session.add(
            Escalation(
                device_id=device.id,
                vendor_id=vendor.id,
                state=EscalationState.OPEN.value,
                problem=str(data["problem"]),
                troubleshooting=data.get("troubleshooting") or None,
                parts_requested=[part.strip() for part in data.get("parts_requested") or []],
                covered=covered,
                override_reason=data.get("warranty_override_reason") or None,
                technician_id=technician.id if technician else None,
                opened_at=occurred_at,
                updated_at=now,
            )
        )
        await session.flush()
        return
    if escalation is None:
        return
    values: dict[str, Any] = {
        "state": next_state(action, EscalationState(escalation.state)).value,
        "updated_at": now,
    }
    if action == "vendor_acknowledge":
        values["rma_number"] = data["rma_number"]
    elif action == "ship_to_vendor":
        values["tracking_number"] = data.get("tracking_number") or None
    elif action in OUTCOMES:
        values["outcome"] = OUTCOMES[action].value
        values["closed_at"] = occurred_at
        values["resolution"] = data.get("outcome") or data.get("reason") or None
        values["replacement_device_id"] = replacement_device_id
    await session.execute(
        update(Escalation)
        .where(Escalation.id == escalation.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- Reading ----------------------------------------------------------------------------------

_Replacement = Device.__table__.alias("replacement")


def escalation_query() -> Select:
    return (
        select(
            Escalation,
            Device.asset_tag,
            Device.serial_number,
            Device.state,
            Vendor.code,
            Site.code,
            Technician.name,
            _Replacement.c.asset_tag,
        )
        .join(Device, Device.id == Escalation.device_id)
        .join(Vendor, Vendor.id == Escalation.vendor_id)
        .join(Site, Site.id == Device.site_id)
        .outerjoin(Technician, Technician.id == Escalation.technician_id)
        .outerjoin(_Replacement, _Replacement.c.id == Escalation.replacement_device_id)
    )


def escalation_read(row: Any) -> EscalationRead:
    escalation, tag, serial, device_state, vendor, site, technician, replacement = row
    return EscalationRead(
        id=escalation.id,
        asset_tag=tag,
        serial_number=serial,
        device_state=device_state,
        vendor=vendor,
        site=site,
        state=escalation.state,
        outcome=escalation.outcome,
        problem=escalation.problem,
        troubleshooting=escalation.troubleshooting,
        parts_requested=list(escalation.parts_requested or []),
        covered=escalation.covered,
        override_reason=escalation.override_reason,
        technician=technician,
        rma_number=escalation.rma_number,
        tracking_number=escalation.tracking_number,
        resolution=escalation.resolution,
        replacement_asset_tag=replacement,
        export_batch=escalation.export_batch_id,
        opened_at=escalation.opened_at,
        updated_at=escalation.updated_at,
        closed_at=escalation.closed_at,
    )


def scope_escalations(query: Select, principal: Principal | None) -> Select:
    """Limit `query` to the escalations `principal` may see: a vendor user's own vendor's, a
    site user's none, and every escalation for staff."""
    if principal is None or principal.is_staff:
        return query
    if principal.role is Role.VENDOR:
        return query.where(Escalation.vendor_id == principal.vendor_id)
    return query.where(Escalation.id.is_(None))


async def list_escalations(
    db: Database,
    principal: Principal | None,
    *,
    vendor: str | None = None,
    state: str | None = None,
    open_only: bool = False,
    asset_tag: str | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[EscalationRead]:
    """List escalations the principal may see, by id; `open_only` leaves out closed ones."""
    limit = check_limit(limit, 500)
    query = scope_escalations(escalation_query(), principal)
    if open_only:
        query = query.where(Escalation.state != EscalationState.CLOSED.value)
    if state is not None:
        if state not in set(EscalationState):
            raise InvalidInputError(
                f"Unknown escalation state {state!r}; use one of {', '.join(EscalationState)}.",
                state=state,
            )
        query = query.where(Escalation.state == state)
    if asset_tag is not None:
        query = query.where(Device.asset_tag == asset_tag.strip())
    if cursor is not None:
        after = decode_cursor(cursor, {"id": int})["id"]
        query = query.where(Escalation.id > after)
    async with db.read() as session:
        if vendor is not None:
            vendor_id = await session.scalar(select(Vendor.id).where(Vendor.code == vendor))
            hidden = (
                principal is not None
                and principal.role is Role.VENDOR
                and (vendor_id != principal.vendor_id)
            )
            if vendor_id is None or hidden:
                raise NotFoundError(f"Vendor {vendor!r} not found.", vendor=vendor)
            query = query.where(Escalation.vendor_id == vendor_id)
        rows = (await session.execute(query.order_by(Escalation.id).limit(limit + 1))).all()
    items = [escalation_read(row) for row in rows[:limit]]
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, limit=limit)


async def get_escalation(
    db: Database, escalation_id: int, principal: Principal | None
) -> EscalationRead:
    query = scope_escalations(escalation_query(), principal).where(Escalation.id == escalation_id)
    async with db.read() as session:
        row = (await session.execute(query)).one_or_none()
    if row is None:
        raise NotFoundError(f"Escalation {escalation_id} not found.", escalation_id=escalation_id)
    return escalation_read(row)
