"""Export batches: making one from a vendor's escalations, and reading its rows back.

Making a batch snapshots each escalation's fields, moves the escalations to `exported` and
writes an `escalation_export` event on each device, all in one transaction. The events are
written as one multi-row insert, with the same hash chain the device service keeps.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.escalations.exports import checksum
from inventory.escalations.models import Escalation, ExportBatch, ExportBatchRow
from inventory.escalations.profiles import VendorProfile, get_profile
from inventory.escalations.rules import EscalationState
from inventory.escalations.schemas import BatchRead
from inventory.logs import request_id_var
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.timeutil import district_today
from inventory.vendors.models import Vendor
from inventory.vendors.service import find_vendor

_INSERT_CHUNK = 2_000


def _may_export(principal: Principal | None, vendor: Vendor) -> None:
    if principal is None or principal.is_staff:
        return
    if principal.role is Role.VENDOR and principal.vendor_id == vendor.id:
        return
    # Site users see no vendor's claims, so to them the vendor's batches do not exist.
    raise NotFoundError(f"Vendor {vendor.code!r} not found.", vendor=vendor.code)


def _snapshot(row: Any, settings: Settings) -> dict[str, Any]:
    escalation, tag, serial, warranty_end, manufacturer, model, site_code, site_name, tech = row
    return {
        "escalation_id": str(escalation.id),
        "asset_tag": tag,
        "serial_number": serial,
        "manufacturer": manufacturer,
        "model": model,
        "site_code": site_code,
        "site_name": site_name,
        "opened_on": district_today(settings.zone, escalation.opened_at).isoformat(),
        "technician": tech,
        "problem": escalation.problem,
        "troubleshooting": escalation.troubleshooting,
        "parts": list(escalation.parts_requested or []),
        "warranty_end": warranty_end.isoformat() if warranty_end else None,
        "covered": "yes" if escalation.covered else "no",
        "override_reason": escalation.override_reason,
    }


def batch_read(batch: ExportBatch, vendor_code: str, settings: Settings) -> BatchRead:
    assert batch.id is not None
    base = f"{settings.base_url}/api/v1/batches/{batch.id}/download"
    return BatchRead(
        id=batch.id,
        vendor=vendor_code,
        profile=batch.profile,
        row_count=batch.row_count,
        checksum=batch.checksum,
        created_at=batch.created_at,
        created_by=batch.created_by,
        downloads={fmt: f"{base}?format={fmt}" for fmt in ("csv", "xlsx", "json")},
    )


async def create_batch(
    db: Database,
    vendor_code: str,
    principal: Principal | None,
    escalation_ids: list[int] | None = None,
) -> BatchRead:
    """Export the vendor's open escalations (or the ones named) as a new batch."""
    async with db.write() as session:
        return await create_batch_in(
            session, db.settings, vendor_code, principal, escalation_ids=escalation_ids
        )


async def create_batch_in(
    session: AsyncSession,
    settings: Settings,
    vendor_code: str,
    principal: Principal | None,
    *,
    escalation_ids: list[int] | None = None,
    at: datetime | None = None,
) -> BatchRead:
    """`create_batch` inside an open write transaction; `at` dates the batch and its events."""
    vendor = await find_vendor(session, vendor_code, principal)
    _may_export(principal, vendor)
    query = (
        select(
            Escalation,
            Device.asset_tag,
            Device.serial_number,
            Device.warranty_end,
            DeviceModel.manufacturer,
            DeviceModel.model,
            Site.code,
            Site.name,
            Technician.name,
        )
        .join(Device, Device.id == Escalation.device_id)
        .join(DeviceModel, DeviceModel.id == Device.model_id)
        .join(Site, Site.id == Device.site_id)
        .outerjoin(Technician, Technician.id == Escalation.technician_id)
        .where(Escalation.vendor_id == vendor.id, Escalation.state == EscalationState.OPEN)
        .order_by(Escalation.id)
        # On PostgreSQL two exports at once wait for each other instead of both taking
        # the same escalations; SQLite's write transaction already serializes them.
        .with_for_update(of=[Escalation, Device])
    )
    if escalation_ids is not None:
        requested = set(escalation_ids)
        query = query.where(Escalation.id.in_(requested))
    rows = (await session.execute(query)).all()
    if escalation_ids is not None:
        missing = sorted(requested - {row[0].id for row in rows})
        if missing:
            listed = ", ".join(map(str, missing[:20]))
            raise InvalidInputError(
                f"Escalations {listed} are not open escalations of vendor {vendor.code!r}; "
                "only escalations not yet exported can go into a batch.",
                escalation_ids=missing[:20],
            )
    if not rows:
        raise ConflictError(
            f"Vendor {vendor.code!r} has no escalations waiting to be exported.",
            vendor=vendor.code,
        )
    profile = get_profile(vendor.profile)
    contents = [_snapshot(row, settings) for row in rows]
    batch = ExportBatch(
        vendor_id=vendor.id or 0,
        profile=profile.name,
        row_count=len(rows),
        checksum=checksum(contents),
        created_by=principal.username if principal else None,
        created_by_user_id=principal.user_id if principal else None,
    )
    if at is not None:
        batch.created_at = at
    session.add(batch)
    await session.flush()
    assert batch.id is not None
    batch_rows = [
        {
            "batch_id": batch.id,
            "position": position,
            "escalation_id": row[0].id,
            "content": content,
        }
        for position, (row, content) in enumerate(zip(rows, contents, strict=True), start=1)
    ]
    for start in range(0, len(batch_rows), _INSERT_CHUNK):
        await session.execute(insert(ExportBatchRow), batch_rows[start : start + _INSERT_CHUNK])
    await _mark_exported(session, batch, principal)
    return batch_read(batch, vendor.code, settings)


async def _mark_exported(
    session: AsyncSession, batch: ExportBatch, principal: Principal | None
) -> None:
    now = batch.created_at
    in_batch = select(ExportBatchRow.escalation_id).where(ExportBatchRow.batch_id == batch.id)
    await session.execute(
        update(Escalation)
        .where(Escalation.id.in_(in_batch))
        .values(state=EscalationState.EXPORTED.value, export_batch_id=batch.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    technician = None
    if principal is not None and principal.role is Role.TECHNICIAN and principal.technician_id:
        technician = await session.get(Technician, principal.technician_id)
    devices = await session.execute(
        select(Device.id, Device.version, Device.site_id, DeviceEvent.hash, Escalation.id)
        .join(Escalation, Escalation.device_id == Device.id)
        .join(
            DeviceEvent,
            (DeviceEvent.device_id == Device.id) & (DeviceEvent.sequence == Device.version),
        )
        .where(Escalation.export_batch_id == batch.id)
    )
    events = []
    for device_id, version, site_id, prev_hash, escalation_id in devices:
        columns: dict[str, Any] = {
            "device_id": device_id,
            "sequence": version + 1,
            "action": "escalation_export",
            "from_state": "with_vendor",
            "to_state": "with_vendor",
            "technician_id": technician.id if technician else None,
            "technician_name": technician.name if technician else None,
            "actor": principal.username if principal else None,
            "actor_user_id": principal.user_id if principal else None,
            "site_id": site_id,
            "visit_id": None,
            "occurred_at": now,
            "recorded_at": now,
            "notes": None,
            "data": {"batch": str(batch.id), "escalation": str(escalation_id)},
            "request_id": request_id_var.get(),
            "idempotency_key": None,
        }
        events.append({**columns, "prev_hash": prev_hash, "hash": event_hash(prev_hash, columns)})
    for start in range(0, len(events), _INSERT_CHUNK):
        await session.execute(insert(DeviceEvent), events[start : start + _INSERT_CHUNK])
    await session.execute(
        update(Device)
        .where(
            Device.id.in_(
                select(Escalation.device_id).where(Escalation.export_batch_id == batch.id)
            )
        )
        .values(version=Device.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def get_batch(
    db: Database, batch_id: int, principal: Principal | None
) -> tuple[BatchRead, VendorProfile]:
    async with db.read() as session:
        row = (
            await session.execute(
                select(ExportBatch, Vendor)
                .join(Vendor, Vendor.id == ExportBatch.vendor_id)
                .where(ExportBatch.id == batch_id)
            )
        ).one_or_none()
    hidden = (
        row is not None
        and principal is not None
        and not principal.is_staff
        and (principal.role is not Role.VENDOR or principal.vendor_id != row[1].id)
    )
    if row is None or hidden:
        raise NotFoundError(f"Export batch {batch_id} not found.", batch=batch_id)
    batch, vendor = row
    return batch_read(batch, vendor.code, db.settings), get_profile(batch.profile)


async def list_batches(
    db: Database, vendor_code: str, principal: Principal | None
) -> list[BatchRead]:
    async with db.read() as session:
        vendor = await find_vendor(session, vendor_code, principal)
        _may_export(principal, vendor)
        batches = await session.scalars(
            select(ExportBatch)
            .where(ExportBatch.vendor_id == vendor.id)
            .order_by(ExportBatch.id.desc())
        )
        return [batch_read(batch, vendor.code, db.settings) for batch in batches]


async def batch_pages(
    db: Database, batch_id: int, size: int = 2_000
) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield the batch's rows in order, `size` at a time, each page read by position.

    The rows are read through a plain connection as text and decoded here: a large batch
    spends most of its time in this loop, and the ORM's result handling would double it.
    """
    content = cast(ExportBatchRow.content, Text)
    after = 0
    while True:
        async with db.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(ExportBatchRow.position, content)
                    .where(ExportBatchRow.batch_id == batch_id, ExportBatchRow.position > after)
                    .order_by(ExportBatchRow.position)
                    .limit(size)
                )
            ).all()
        if rows:
            yield [json.loads(text) for _, text in rows]
        if len(rows) < size:
            return
        after = rows[-1][0]
