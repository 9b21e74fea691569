"""Load the demo district: NYC schools, ChromeOS Flex models, technicians and a fleet.

Rows go in with SQLAlchemy Core `insert()` statements executed with many parameter sets,
all in one transaction, so a failed load leaves nothing behind.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.demo.fleet import DemoTechnician, FleetGenerator, PlannedDevice, make_technicians
from inventory.demo.sources import (
    FLEX_OPERATING_SYSTEM,
    Catalog,
    CatalogModel,
    School,
    read_models,
    read_schools,
)
from inventory.demo.sources import vendor_code as make_vendor_code
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.service import normalize_name
from inventory.escalations.batches import create_batch_in
from inventory.escalations.models import Escalation, WarrantyCoverage
from inventory.plans.demo import VisitLedger, first_visit_id, load_demo_plans
from inventory.reports import summary as report_summary
from inventory.salvage.demo import add_demo_salvage
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.vendors.models import Vendor

log = logging.getLogger(__name__)

# Sized for a quick first start, not for realism. The NYC file counts 971,919 students, so
# this gives about 9,700 purchased devices, 10,000 with the vendor replacement units, and
# about 64,000 events. On a busy two-core VM that load took 4.6 s into SQLite, and
# --devices-per-student 0.1 took 60 s and made a 290 MB file. Time grows about linearly.
DEFAULT_DEVICES_PER_STUDENT = 0.01
TECHNICIAN_COUNT = 35

SITES: Table = Site.__table__
VENDORS: Table = Vendor.__table__
MODELS: Table = DeviceModel.__table__
TECHNICIANS: Table = Technician.__table__
DEVICES: Table = Device.__table__
EVENTS: Table = DeviceEvent.__table__
COVERAGES: Table = WarrantyCoverage.__table__
ESCALATIONS: Table = Escalation.__table__


class DemoLoadError(click.ClickException):
    """The demo cannot be loaded into this database.

    A ClickException, so that `inventory demo load` prints the message without a traceback.
    """


@dataclass
class _Counts:
    sites: int = 0
    vendors: int = 0
    batches: int = 0
    models: int = 0
    technicians: int = 0
    devices: int = 0
    events: int = 0
    visits: int = 0
    plans: int = 0


def _reference_now(now: datetime | None) -> datetime:
    """Return the instant that ends every generated history.

    The default is the start of the current UTC day, so loads on one day with one seed
    produce the same fleet. A given `now` must be timezone-aware and not in the future.
    """
    clock = datetime.now(UTC)
    if now is None:
        return clock.replace(hour=0, minute=0, second=0, microsecond=0)
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    if now > clock:
        raise ValueError(
            f"now {now.isoformat()} is in the future. Pass an instant in the past, because "
            "every generated history must end before the real clock."
        )
    return now.astimezone(UTC)


async def _site_count(connection: AsyncConnection) -> int:
    return int(await connection.scalar(select(func.count()).select_from(SITES)) or 0)


async def load_demo(
    db: Database,
    *,
    devices_per_student: float,
    seed: int,
    if_empty: bool,
    now: datetime | None = None,
) -> str:
    """Load the demo district into a database without sites and return a summary line.

    With `if_empty`, a database that has sites is left alone and the summary reports that.
    Without it, such a database raises DemoLoadError. `now` ends every generated history,
    and the same seed, `now` and data files give the same fleet. Raises ValueError for a
    negative `devices_per_student`.
    """
    if devices_per_student < 0:
        raise ValueError(f"devices_per_student must be 0 or more, got {devices_per_student}")
    started = time.perf_counter()
    reference = _reference_now(now)
    schools = read_schools()
    catalog = read_models()

    try:
        async with db.write() as session:
            connection = await session.connection()
            existing = await _site_count(connection)
            if existing:
                if if_empty:
                    log.info("demo not loaded: database has sites", extra={"sites": existing})
                    return f"Demo not loaded: the database already has {existing} sites."
                raise DemoLoadError(
                    f"The database already has {existing} sites, so loading the demo would "
                    "mix it with them. Load it into an empty database, or pass --if-empty "
                    "to skip loading when sites exist."
                )
            counts = await _load(
                connection,
                schools=schools,
                catalog=catalog,
                rng=random.Random(seed),  # noqa: S311 - demo data, not a secret
                now=reference,
                db=db,
                devices_per_student=devices_per_student,
            )
            counts.batches = await _export_open_escalations(session, db.settings, reference)
            # The events went in without the per-event hook, so the report summary is
            # computed from them in the same transaction.
            await connection.run_sync(report_summary.rebuild, db.settings.zone)
    except IntegrityError:
        # Another process may have loaded the demo between our check and our insert.
        if if_empty:
            async with db.engine.connect() as connection:
                existing = await _site_count(connection)
            if existing:
                log.info("demo not loaded: another process loaded it", extra={"sites": existing})
                return f"Demo not loaded: the database already has {existing} sites."
        raise

    seconds = time.perf_counter() - started
    log.info(
        "demo loaded",
        extra={**counts.__dict__, "seconds": round(seconds, 2), "seed": seed},
    )
    summary = (
        f"Loaded the demo district in {seconds:.1f} s: {counts.sites} sites, "
        f"{counts.technicians} technicians, {counts.vendors} vendors, "
        f"{counts.models} device models, {counts.devices} devices, {counts.events} events, "
        f"{counts.batches} vendor export batches, {counts.visits} visits, "
        f"{counts.plans} service plans."
    )
    if catalog.duplicates:
        summary += (
            f" Skipped {len(catalog.duplicates)} model entries whose manufacturer and model "
            f"match an earlier entry: {', '.join(catalog.duplicates)}."
        )
    return summary


async def _load(
    connection: AsyncConnection,
    *,
    schools: Sequence[School],
    catalog: Catalog,
    rng: random.Random,
    now: datetime,
    db: Database,
    devices_per_student: float,
) -> _Counts:
    counts = _Counts()
    vendor_codes, vendor_ids = await _insert_vendors(connection, catalog.models, now, counts)
    model_ids = await _insert_models(connection, catalog.models, now, counts)
    existing_numbers = set(await connection.scalars(select(TECHNICIANS.c.employee_number)))
    technicians = make_technicians(rng, schools, TECHNICIAN_COUNT, existing_numbers)
    technician_ids = await _insert_technicians(connection, technicians, now, counts)
    site_ids = await _insert_sites(connection, schools, now, counts)

    generator = FleetGenerator(
        rng=rng,
        now=now,
        zone=db.settings.zone,
        schools=schools,
        models=catalog.models,
        technicians=technicians,
        vendor_codes=vendor_codes,
    )
    ids = _Ids(
        sites=site_ids,
        models=model_ids,
        technicians=technician_ids,
        vendors=vendor_ids,
        visits=VisitLedger(db.settings.zone, await first_visit_id(connection)),
    )
    for chunk in generator.generate(schools, devices_per_student):
        await _insert_devices(connection, chunk, ids, counts)
    salvage = await add_demo_salvage(connection, db.settings, rng)
    log.info("demo salvage records added", extra=salvage.__dict__)
    counts.visits, counts.plans = await load_demo_plans(connection, ids.visits, now)
    return counts


async def _export_open_escalations(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """Put the escalations still open at `now` into one export batch per vendor.

    The generated histories take escalations through RMA numbers and shipping but not
    through exports, which need batches; this makes the batches a nightly export would have
    made, dated just before `now`. Returns the number of batches.
    """
    at = now - timedelta(seconds=1)
    rows = await session.execute(
        select(VENDORS.c.code, ESCALATIONS.c.id)
        .join(VENDORS, VENDORS.c.id == ESCALATIONS.c.vendor_id)
        .where(ESCALATIONS.c.state == "open", ESCALATIONS.c.opened_at < at)
        .order_by(VENDORS.c.code, ESCALATIONS.c.id)
    )
    by_vendor: dict[str, list[int]] = {}
    for code, escalation_id in rows:
        by_vendor.setdefault(code, []).append(escalation_id)
    for code, escalation_ids in by_vendor.items():
        await create_batch_in(session, settings, code, None, escalation_ids=escalation_ids, at=at)
    return len(by_vendor)


@dataclass
class _Ids:
    sites: dict[str, int]
    models: dict[str, int]
    technicians: dict[str, int]
    vendors: dict[str, int]
    # Gives each technician's step the id of its visit; see inventory.plans.demo.
    visits: VisitLedger


async def _insert_rows(
    connection: AsyncConnection, table: Table, rows: list[dict[str, Any]], key: str
) -> dict[str, int]:
    """Insert rows into `table` and return each row's `key` value → its new id.

    SQLAlchemy runs INSERT ... RETURNING with sort_by_parameter_order one row at a time on
    SQLite, which made loading several times slower. So the ids are read back with one
    SELECT of the rows above the highest id stored before the insert.
    """
    if not rows:
        return {}
    wanted = {row[key] for row in rows}
    before = await connection.scalar(select(func.max(table.c.id))) or 0
    await connection.execute(insert(table), rows)
    query = select(table.c[key], table.c.id).where(table.c.id > before)
    ids = {
        row_key: row_id for row_key, row_id in await connection.execute(query) if row_key in wanted
    }
    if len(ids) != len(rows):
        raise RuntimeError(
            f"Expected {len(rows)} new rows in {table.name} but found {len(ids)}. Another "
            "process may have written to the table during the load; load the demo again."
        )
    return ids


# Two demo vendors export in the shape of their manufacturer's repair systems.
_DEMO_PROFILES = {"dell": "dell-dispatch", "apple": "apple-carry-in"}


async def _insert_vendors(
    connection: AsyncConnection, models: Sequence[CatalogModel], now: datetime, counts: _Counts
) -> tuple[dict[str, str], dict[str, int]]:
    """Insert a vendor for each manufacturer that has none.

    Returns the vendor code of each manufacturer (folded by `normalize_name`) and the id of
    each vendor code, counting vendors stored before.
    """
    rows = await connection.execute(select(VENDORS.c.code, VENDORS.c.id))
    ids: dict[str, int] = {code: vendor_id for code, vendor_id in rows}
    codes: dict[str, str] = {}
    new: dict[str, dict[str, Any]] = {}
    for model in models:
        key = normalize_name(model.manufacturer)
        if key in codes:
            continue
        code = make_vendor_code(model.manufacturer)
        codes[key] = code
        if code not in ids and code not in new:
            new[code] = {
                "code": code,
                "name": model.manufacturer,
                "profile": _DEMO_PROFILES.get(code, "generic"),
                "created_at": now,
            }
    ids.update(await _insert_rows(connection, VENDORS, list(new.values()), "code"))
    counts.vendors = len(new)
    return codes, ids


async def _insert_models(
    connection: AsyncConnection, models: Sequence[CatalogModel], now: datetime, counts: _Counts
) -> dict[str, int]:
    """Insert the models not yet stored and return the id of every match key, old or new."""
    rows = await connection.execute(select(MODELS.c.match_key, MODELS.c.id))
    ids: dict[str, int] = {key: model_id for key, model_id in rows}
    new = [model for model in models if model.match_key not in ids]
    inserted = await _insert_rows(
        connection,
        MODELS,
        [
            {
                "manufacturer": model.manufacturer,
                "model": model.model,
                "match_key": model.match_key,
                "device_type": model.device_type,
                "operating_system": FLEX_OPERATING_SYSTEM,
                "end_of_support": model.end_of_support,
                "end_of_support_precision": "year",
                "created_at": now,
            }
            for model in new
        ],
        "match_key",
    )
    ids.update(inserted)
    counts.models = len(new)
    return ids


async def _insert_technicians(
    connection: AsyncConnection,
    technicians: Sequence[DemoTechnician],
    now: datetime,
    counts: _Counts,
) -> dict[str, int]:
    inserted = await _insert_rows(
        connection,
        TECHNICIANS,
        [
            {
                "employee_number": technician.employee_number,
                "name": technician.name,
                "email": technician.email,
                "active": True,
                "home_region": technician.region,
                "created_at": now,
            }
            for technician in technicians
        ],
        "employee_number",
    )
    counts.technicians = len(inserted)
    return inserted


async def _insert_sites(
    connection: AsyncConnection, schools: Sequence[School], now: datetime, counts: _Counts
) -> dict[str, int]:
    inserted = await _insert_rows(
        connection,
        SITES,
        [
            {
                "code": school.code,
                "name": school.name,
                "kind": "school",
                "region": school.region,
                "enrollment": school.enrollment,
                "created_at": now,
            }
            for school in schools
        ],
        "code",
    )
    counts.sites = len(inserted)
    return inserted


def _device_row(device: PlannedDevice, ids: _Ids) -> dict[str, Any]:
    first, last = device.events[0], device.events[-1]
    return {
        "asset_tag": device.asset_tag,
        "serial_number": device.serial_number,
        "manufacturer_key": device.manufacturer_key,
        "model_id": ids.models[device.model.match_key],
        "site_id": ids.sites[device.site_code],
        "state": last.to_state,
        "room": device.room,
        "assignee": device.assignee,
        "purchase_date": device.purchase_date,
        "warranty_start": device.warranty_start,
        "warranty_end": device.warranty_end,
        "operating_system": device.operating_system,
        "management_profile": device.management_profile,
        "user_profile_kind": device.user_profile_kind,
        "repair_return_state": device.repair_return_state.value
        if device.repair_return_state
        else None,
        "escalation_vendor_id": ids.vendors[device.escalation_vendor]
        if device.escalation_vendor
        else None,
        "version": len(device.events),
        "state_changed_at": device.state_changed_at,
        "created_at": first.occurred_at,
        "updated_at": last.occurred_at,
    }


async def _insert_devices(
    connection: AsyncConnection, devices: Sequence[PlannedDevice], ids: _Ids, counts: _Counts
) -> None:
    """Insert devices, link replaced and replacement units, then insert every event."""
    by_tag = await _insert_rows(
        connection, DEVICES, [_device_row(device, ids) for device in devices], "asset_tag"
    )

    links = [
        {
            "target_id": by_tag[device.asset_tag],
            "replaces_id": by_tag[device.replaces] if device.replaces else None,
            "replaced_by_id": by_tag[device.replaced_by] if device.replaced_by else None,
        }
        for device in devices
        if device.replaces or device.replaced_by
    ]
    if links:
        await connection.execute(
            update(DEVICES)
            .where(DEVICES.c.id == bindparam("target_id"))
            .values(
                replaces_device_id=bindparam("replaces_id"),
                replaced_by_device_id=bindparam("replaced_by_id"),
            ),
            links,
        )

    events = [
        row for device in devices for row in _event_rows(device, by_tag[device.asset_tag], ids)
    ]
    if events:
        await connection.execute(insert(EVENTS), events)
    coverages = [
        {
            "device_id": by_tag[device.asset_tag],
            "kind": "base",
            "start_date": device.warranty_start,
            "end_date": device.warranty_end,
            "created_at": device.events[0].occurred_at,
            "created_by": "demo",
        }
        for device in devices
    ]
    await connection.execute(insert(COVERAGES), coverages)
    escalations = [
        row
        for device in devices
        for row in _escalation_rows(device, by_tag[device.asset_tag], by_tag, ids)
    ]
    if escalations:
        await connection.execute(insert(ESCALATIONS), escalations)
    counts.devices += len(devices)
    counts.events += len(events)


_OUTCOMES = {"vendor_return": "repaired", "vendor_deny": "denied", "vendor_replace": "replaced"}


def _escalation_rows(
    device: PlannedDevice, device_id: int, by_tag: dict[str, int], ids: _Ids
) -> list[dict[str, Any]]:
    """Return an escalation for each `escalate` step, closed by the vendor step that ended it."""
    rows: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for event in device.events:
        if event.action == "escalate":
            current = {
                "device_id": device_id,
                "vendor_id": ids.vendors[event.data["vendor"]],
                "state": "open",
                "outcome": None,
                "problem": event.data["problem"],
                "parts_requested": [],
                "covered": "warranty_override_reason" not in event.data,
                "override_reason": event.data.get("warranty_override_reason"),
                "technician_id": ids.technicians[event.technician.employee_number]
                if event.technician
                else None,
                "rma_number": None,
                "tracking_number": None,
                "resolution": None,
                "replacement_device_id": None,
                "opened_at": event.occurred_at,
                "updated_at": event.occurred_at,
                "closed_at": None,
            }
            rows.append(current)
        elif current is not None and event.action == "vendor_acknowledge":
            current.update(
                state="acknowledged",
                rma_number=event.data["rma_number"],
                updated_at=event.occurred_at,
            )
        elif current is not None and event.action == "ship_to_vendor":
            current.update(
                state="shipped",
                tracking_number=event.data["tracking_number"],
                updated_at=event.occurred_at,
            )
        elif current is not None and event.action in _OUTCOMES:
            current.update(
                state="closed",
                outcome=_OUTCOMES[event.action],
                resolution=event.data.get("outcome") or event.data.get("reason"),
                replacement_device_id=by_tag.get(device.replaced_by or ""),
                updated_at=event.occurred_at,
                closed_at=event.occurred_at,
            )
            current = None
    return rows


def _event_rows(device: PlannedDevice, device_id: int, ids: _Ids) -> list[dict[str, Any]]:
    """Return the device's event rows, each hashed over its columns and the previous hash.

    The hash is the one the device service computes with `event_hash` when it records an
    event, so the demo histories pass the same chain check as recorded ones.
    """
    rows = []
    prev_hash: str | None = None
    for event in device.events:
        technician_id = (
            ids.technicians[event.technician.employee_number] if event.technician else None
        )
        site_id = ids.sites[event.site_code]
        row: dict[str, Any] = {
            "device_id": device_id,
            "sequence": event.sequence,
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "technician_id": technician_id,
            "technician_name": event.technician.name if event.technician else None,
            "site_id": site_id,
            "visit_id": ids.visits.visit_for(technician_id, site_id, event.occurred_at)
            if technician_id is not None
            else None,
            "occurred_at": event.occurred_at,
            # The demo pretends each step was recorded as it happened.
            "recorded_at": event.occurred_at,
            "notes": event.notes,
            "data": event.data,
        }
        # Columns left out (actor, actor_user_id, request_id, idempotency_key)
        # are stored as NULL, and event_hash reads a missing column as None.
        row["hash"] = event_hash(prev_hash, row)
        row["prev_hash"] = prev_hash
        prev_hash = row["hash"]
        rows.append(row)
    return rows
