"""Recycling batches: gathering devices in recycle_pending, the recycler's certificate, the
manifest rows, and closing a batch, which moves its devices to recycled.

Closing writes one `recycle` event per device, as a multi-row insert that keeps each device's
hash chain, and moves the devices with one conditional UPDATE, all in one transaction.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from inventory.accounts.principal import Principal
from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.lifecycle import SANITIZATION_NOT_NEEDED, DeviceContext, State, plan_transition
from inventory.logs import request_id_var
from inventory.plans.visits import visit_at
from inventory.reports import summary as report_summary
from inventory.salvage.models import RecyclingBatch, RecyclingBatchDevice, Sanitization
from inventory.salvage.schemas import BatchClose, BatchCreate, RecyclingBatchRead
from inventory.salvage.service import has_storage, require_technician
from inventory.schemas import check_limit
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.timeutil import district_today
from inventory.types import utc_now

log = logging.getLogger(__name__)

_INSERT_CHUNK = 2_000
_Verifier = aliased(Technician)
_Sanitizer = aliased(Technician)
OPEN = "open"
CLOSED = "closed"

MANIFEST_COLUMNS = (
    "asset_tag",
    "serial_number",
    "manufacturer",
    "model",
    "device_type",
    "site",
    "sanitization_method",
    "sanitized_on",
    "sanitization_tool",
    "sanitized_by",
    "verified_by",
)


def device_count_text(count: int) -> str:
    """Return "1 device" or "N devices", for messages."""
    return f"{count:,} device" if count == 1 else f"{count:,} devices"


def _batch_read(
    batch: RecyclingBatch, site_code: str | None, closed_by: str | None, settings: Settings
) -> RecyclingBatchRead:
    assert batch.id is not None
    base = f"{settings.base_url}/api/v1/recycling/batches/{batch.id}/manifest"
    return RecyclingBatchRead(
        id=batch.id,
        site=site_code,
        region=batch.region,
        recycler=batch.recycler,
        pickup_date=batch.pickup_date,
        certificate_number=batch.certificate_number,
        status=batch.status,
        device_count=batch.device_count,
        created_at=batch.created_at,
        created_by=batch.created_by,
        closed_at=batch.closed_at,
        closed_by=closed_by,
        downloads={fmt: f"{base}?format={fmt}" for fmt in ("csv", "pdf")},
    )


async def create_batch(
    db: Database, data: BatchCreate, principal: Principal | None
) -> RecyclingBatchRead:
    """Gather the devices in recycle_pending at a site or region, and in no other batch,
    into a new open batch."""
    if (data.site is None) == (data.region is None):
        raise InvalidInputError(
            "Give either site or region, not both and not neither, to say where the batch "
            "is picked up.",
            fields={"site": "site or region", "region": "site or region"},
        )
    async with db.write() as session:
        site = await find_site(session, data.site) if data.site else None
        pending = (
            select(Device.id)
            .where(Device.state == State.RECYCLE_PENDING.value)
            .where(~Device.id.in_(select(RecyclingBatchDevice.device_id)))
            .order_by(Device.id)
            # On PostgreSQL two batches made at once wait for each other instead of both
            # taking the same devices; SQLite's write transaction already serializes them.
            .with_for_update(of=Device)
        )
        if site is not None:
            pending = pending.where(Device.site_id == site.id)
        else:
            regions = await session.scalars(
                select(Site.id).where(func.lower(Site.region) == str(data.region).casefold())
            )
            site_ids = list(regions)
            if not site_ids:
                raise InvalidInputError(
                    f"Region {data.region!r} has no sites; check the region's name.",
                    region=data.region,
                )
            pending = pending.where(Device.site_id.in_(site_ids))
        device_ids = list(await session.scalars(pending))
        where = f"site {site.code!r}" if site is not None else f"region {data.region!r}"
        if not device_ids:
            raise ConflictError(
                f"No devices in recycle_pending at {where} are waiting for a recycling batch.",
                site=data.site,
                region=data.region,
            )
        batch = RecyclingBatch(
            site_id=site.id if site is not None else None,
            region=data.region if site is None else None,
            recycler=data.recycler,
            pickup_date=data.pickup_date,
            status=OPEN,
            device_count=len(device_ids),
            created_by=principal.username if principal else None,
        )
        session.add(batch)
        await session.flush()
        assert batch.id is not None
        rows = [{"batch_id": batch.id, "device_id": device_id} for device_id in device_ids]
        for start in range(0, len(rows), _INSERT_CHUNK):
            await session.execute(insert(RecyclingBatchDevice), rows[start : start + _INSERT_CHUNK])
        log.info(
            "recycling batch created",
            extra={"batch": batch.id, "devices": len(device_ids), "where": where},
        )
        return _batch_read(batch, site.code if site else None, None, db.settings)


async def _load_batch(
    session: AsyncSession, batch_id: int, *, lock: bool = False
) -> RecyclingBatch:
    query = select(RecyclingBatch).where(RecyclingBatch.id == batch_id)
    if lock:
        query = query.with_for_update()
    batch = await session.scalar(query)
    if batch is None:
        raise NotFoundError(f"Recycling batch {batch_id} not found.", batch=batch_id)
    return batch


async def _read(
    session: AsyncSession, settings: Settings, batch: RecyclingBatch
) -> RecyclingBatchRead:
    site_code = None
    if batch.site_id is not None:
        site_code = await session.scalar(select(Site.code).where(Site.id == batch.site_id))
    closed_by = None
    if batch.closed_by_id is not None:
        closed_by = await session.scalar(
            select(Technician.employee_number).where(Technician.id == batch.closed_by_id)
        )
    return _batch_read(batch, site_code, closed_by, settings)


async def get_batch(db: Database, batch_id: int) -> RecyclingBatchRead:
    async with db.read() as session:
        return await _read(session, db.settings, await _load_batch(session, batch_id))


async def list_batches(
    db: Database, *, status: str | None = None, limit: int = 100
) -> list[RecyclingBatchRead]:
    """Return recycling batches, newest first."""
    limit = check_limit(limit, db.settings.page_size_max)
    if status is not None and status not in (OPEN, CLOSED):
        raise InvalidInputError(f"Unknown status {status!r}; use open or closed.", status=status)
    query = select(RecyclingBatch).order_by(RecyclingBatch.id.desc()).limit(limit)
    if status is not None:
        query = query.where(RecyclingBatch.status == status)
    async with db.read() as session:
        return [await _read(session, db.settings, batch) for batch in await session.scalars(query)]


async def set_certificate(
    db: Database, batch_id: int, certificate_number: str
) -> RecyclingBatchRead:
    """Record the recycler's certificate number on a batch that is still open."""
    async with db.write() as session:
        batch = await _load_batch(session, batch_id, lock=True)
        if batch.status != OPEN:
            raise ConflictError(
                f"Recycling batch {batch_id} is closed; its certificate number "
                f"{batch.certificate_number!r} can no longer change.",
                batch=batch_id,
            )
        batch.certificate_number = certificate_number
        await session.flush()
        return await _read(session, db.settings, batch)


async def close_batch(
    db: Database, batch_id: int, data: BatchClose, principal: Principal | None
) -> RecyclingBatchRead:
    """Move every device of an open batch to recycled, with one event each, and close it.

    Raises ConflictError, and changes nothing, when the batch is closed, has no certificate
    number, or contains a device that is no longer in recycle_pending.
    """
    settings = db.settings
    async with db.write() as session:
        batch = await _load_batch(session, batch_id, lock=True)
        if batch.status != OPEN:
            raise ConflictError(f"Recycling batch {batch_id} is already closed.", batch=batch_id)
        if data.certificate_number:
            batch.certificate_number = data.certificate_number
        if not batch.certificate_number:
            raise ConflictError(
                f"Recycling batch {batch_id} has no certificate number from the recycler; "
                "give certificate_number to close it.",
                batch=batch_id,
            )
        technician = await require_technician(session, principal, data.technician)
        now = utc_now()
        batch_label = str(batch_id)
        # The lifecycle rules are the same for every device of the batch, so one check
        # covers them all; the UPDATE below checks each device's state.
        plan_transition(
            "recycle",
            DeviceContext(state=State.RECYCLE_PENDING),
            {"recycling_batch": batch_label},
            has_technician=True,
            on=district_today(settings.zone, now),
        )
        in_batch = select(RecyclingBatchDevice.device_id).where(
            RecyclingBatchDevice.batch_id == batch_id
        )
        devices = (
            await session.execute(
                select(
                    Device.id,
                    Device.asset_tag,
                    Device.state,
                    Device.version,
                    Device.site_id,
                    Device.model_id,
                    Device.operating_system,
                )
                .where(Device.id.in_(in_batch))
                .order_by(Device.id)
                .with_for_update()
            )
        ).all()
        moved = [row for row in devices if row.state != State.RECYCLE_PENDING.value]
        if moved:
            tags = ", ".join(f"{row.asset_tag} ({row.state})" for row in moved[:20])
            raise ConflictError(
                f"Recycling batch {batch_id} contains devices that are no longer in "
                f"recycle_pending: {tags}. Return them to recycle_pending or make a new batch.",
                batch=batch_id,
                asset_tags=[row.asset_tag for row in moved[:20]],
            )
        previous: dict[int, str] = dict(
            (
                await session.execute(
                    select(DeviceEvent.device_id, DeviceEvent.hash)
                    .join(Device, Device.id == DeviceEvent.device_id)
                    .where(Device.id.in_(in_batch), DeviceEvent.sequence == Device.version)
                )
            ).all()
        )
        result = await session.execute(
            update(Device)
            .where(Device.id.in_(in_batch), Device.state == State.RECYCLE_PENDING.value)
            .values(
                state=State.RECYCLED.value,
                version=Device.version + 1,
                state_changed_at=now,
                updated_at=now,
                repair_return_state=None,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(devices):
            raise ConflictError(
                f"Devices of recycling batch {batch_id} changed while it was closing; try again.",
                batch=batch_id,
            )
        # The closing is one step of the technician's visit, when one covers this time.
        visit_id = await visit_at(session, technician.id, now) if technician.id else None
        events = [
            _recycle_event(
                row, previous.get(row.id), technician, principal, batch_label, now, visit_id
            )
            for row in devices
        ]
        for start in range(0, len(events), _INSERT_CHUNK):
            await session.execute(insert(DeviceEvent), events[start : start + _INSERT_CHUNK])
        await report_summary.record_bulk(
            session,
            (
                report_summary.BulkEvent(
                    device_id=row.id,
                    before=(row.site_id, row.state, row.model_id, row.operating_system),
                    after=(row.site_id, State.RECYCLED.value, row.model_id, row.operating_system),
                    site_id=row.site_id,
                    occurred_at=now,
                    technician_id=technician.id,
                    action="recycle",
                    from_state=row.state,
                    to_state=State.RECYCLED.value,
                )
                for row in devices
            ),
        )
        batch.status = CLOSED
        batch.closed_at = now
        batch.closed_by_id = technician.id
        await session.flush()
        log.info(
            "recycling batch closed",
            extra={
                "batch": batch_id,
                "devices": len(devices),
                "technician": technician.employee_number,
            },
        )
        return await _read(session, settings, batch)


def _recycle_event(
    row: Any,
    prev_hash: str | None,
    technician: Technician,
    principal: Principal | None,
    batch_label: str,
    now: Any,
    visit_id: int | None,
) -> dict[str, Any]:
    columns: dict[str, Any] = {
        "device_id": row.id,
        "sequence": row.version + 1,
        "action": "recycle",
        "from_state": State.RECYCLE_PENDING.value,
        "to_state": State.RECYCLED.value,
        "technician_id": technician.id,
        "technician_name": technician.name,
        "actor": principal.username if principal else None,
        "actor_user_id": principal.user_id if principal else None,
        "site_id": row.site_id,
        "visit_id": visit_id,
        "occurred_at": now,
        "recorded_at": now,
        "notes": None,
        "data": {"recycling_batch": batch_label},
        "request_id": request_id_var.get(),
        "idempotency_key": None,
    }
    return {**columns, "prev_hash": prev_hash, "hash": event_hash(prev_hash, columns)}


async def manifest_rows(
    db: Database, batch_id: int
) -> tuple[RecyclingBatchRead, list[dict[str, str]]]:
    """Return a batch and one manifest row per device, by asset tag, with the latest data
    sanitization of each device."""
    latest = (
        select(Sanitization.device_id, func.max(Sanitization.id).label("id"))
        .group_by(Sanitization.device_id)
        .subquery()
    )
    async with db.read() as session:
        batch = await _read(session, db.settings, await _load_batch(session, batch_id))
        rows = await session.execute(
            select(
                Device.asset_tag,
                Device.serial_number,
                DeviceModel.manufacturer,
                DeviceModel.model,
                DeviceModel.device_type,
                Site.code,
                Sanitization.method,
                Sanitization.performed_on,
                Sanitization.tool,
                _Sanitizer.employee_number,
                _Verifier.employee_number,
            )
            .select_from(RecyclingBatchDevice)
            .join(Device, Device.id == RecyclingBatchDevice.device_id)
            .join(DeviceModel, DeviceModel.id == Device.model_id)
            .join(Site, Site.id == Device.site_id)
            .outerjoin(latest, latest.c.device_id == Device.id)
            .outerjoin(Sanitization, Sanitization.id == latest.c.id)
            .outerjoin(_Sanitizer, _Sanitizer.id == Sanitization.technician_id)
            .outerjoin(_Verifier, _Verifier.id == Sanitization.verified_by_id)
            .where(RecyclingBatchDevice.batch_id == batch_id)
            .order_by(Device.asset_tag)
        )
        lines = []
        for row in rows:
            method = row[6]
            if method is None and not has_storage(db.settings, row[4]):
                method = SANITIZATION_NOT_NEEDED
            values = (*row[:6], method, _day(row[7]), *row[8:])
            lines.append(
                {
                    name: "" if value is None else str(value)
                    for name, value in zip(MANIFEST_COLUMNS, values, strict=True)
                }
            )
    return batch, lines


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None
