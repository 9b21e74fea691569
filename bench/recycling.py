"""Closing a recycling batch of many devices, against a bare UPDATE of the same rows.

Run with `python -m bench.recycling [--devices N] [--postgres URL]` (run by `make bench`).
It builds a temporary SQLite database (and, with --postgres, a new database on that server,
dropped afterwards) with N devices in recycle_pending, each with its first event, and
gathers them into one batch. It then times, on the same rows and in the same run:

- the bare driver (aiosqlite or asyncpg) running one UPDATE that moves the rows to
  recycled, rolled back;
- the bare driver running that UPDATE and inserting one event row per device, rolled back;
- the service's `close_batch`, which also checks the lifecycle, reads each device's last
  event hash, hashes each new event and commits.

Target: 10,000 devices closed within 3 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite
import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.migrations import upgrade
from inventory.salvage import recycling
from inventory.salvage.schemas import BatchClose, BatchCreate
from inventory.sites.models import Site
from inventory.technicians.models import Technician

TARGET_SECONDS = 3.0
_CHUNK = 5_000


async def _fill(db: Database, devices: int) -> None:
    """Insert one site, model and technician, and `devices` devices in recycle_pending."""
    now = datetime.now(UTC)
    async with db.write() as session:
        await session.execute(
            insert(Site),
            [{"code": "S0001", "name": "Bench School", "kind": "school", "created_at": now}],
        )
        await session.execute(
            insert(DeviceModel),
            [
                {
                    "manufacturer": "Acer",
                    "model": "Bench 1",
                    "match_key": "acer|bench 1",
                    "device_type": "chromebook",
                    "created_at": now,
                }
            ],
        )
        await session.execute(
            insert(Technician),
            [
                {
                    "employee_number": "000001",
                    "name": "Bench Tech",
                    "active": True,
                    "created_at": now,
                }
            ],
        )
    for start in range(0, devices, _CHUNK):
        rows = [
            {
                "id": n + 1,
                "asset_tag": f"R{n:08d}",
                "serial_number": f"SN{n:010d}",
                "manufacturer_key": "acer",
                "model_id": 1,
                "site_id": 1,
                "state": "recycle_pending",
                "version": 1,
                "state_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + _CHUNK, devices))
        ]
        events = []
        for row in rows:
            event = {
                "device_id": row["id"],
                "sequence": 1,
                "action": "receive",
                "to_state": "recycle_pending",
                "site_id": 1,
                "occurred_at": now,
                "recorded_at": now,
                "data": {},
            }
            events.append({**event, "hash": event_hash(None, event)})
        async with db.write() as session:
            await session.execute(insert(Device), rows)
            await session.execute(insert(DeviceEvent), events)


_UPDATE = (
    "UPDATE devices SET state = 'recycled', version = version + 1, "
    "state_changed_at = {now}, updated_at = {now} "
    "WHERE id IN (SELECT device_id FROM recycling_batch_devices WHERE batch_id = 1) "
    "AND state = 'recycle_pending'"
)
_EVENT_COLUMNS = (
    "device_id, sequence, action, from_state, to_state, site_id, occurred_at, recorded_at, "
    "data, hash"
)


def _event_rows(devices: int, now: datetime) -> list[tuple]:
    return [
        (
            n,
            2,
            "recycle",
            "recycle_pending",
            "recycled",
            1,
            now,
            now,
            '{"recycling_batch":"1"}',
            "h",
        )
        for n in range(1, devices + 1)
    ]


async def _bare_sqlite(path: Path, devices: int, with_events: bool) -> float:
    now = datetime.now(UTC).replace(tzinfo=None)
    async with aiosqlite.connect(path) as connection:
        started = time.perf_counter()
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute(_UPDATE.format(now="?"), (now, now))
        if with_events:
            await connection.executemany(
                f"INSERT INTO device_events ({_EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                _event_rows(devices, now),
            )
        elapsed = time.perf_counter() - started
        await connection.rollback()
    return elapsed


async def _bare_postgres(url: str, devices: int, with_events: bool) -> float:
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    now = datetime.now(UTC)
    try:
        transaction = connection.transaction()
        started = time.perf_counter()
        await transaction.start()
        await connection.execute(_UPDATE.format(now="$1"), now)
        if with_events:
            await connection.executemany(
                f"INSERT INTO device_events ({_EVENT_COLUMNS}) "
                "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9::jsonb,$10)",
                _event_rows(devices, now),
            )
        elapsed = time.perf_counter() - started
        await transaction.rollback()
    finally:
        await connection.close()
    return elapsed


async def _measure(name: str, url: str, devices: int, bare) -> None:
    await asyncio.to_thread(upgrade, url)
    db = Database(Settings(database_url=url, environment="test"))
    try:
        await _fill(db, devices)
        created = time.perf_counter()
        batch = await recycling.create_batch(
            db,
            BatchCreate(site="S0001", recycler="Bench Recycling", pickup_date=date.today()),
            None,
        )
        create_seconds = time.perf_counter() - created
        update_only = await bare(devices, False)
        update_and_events = await bare(devices, True)
        started = time.perf_counter()
        await recycling.close_batch(
            db, batch.id, BatchClose(technician="000001", certificate_number="BENCH-1"), None
        )
        close_seconds = time.perf_counter() - started
    finally:
        await db.dispose()
    met = "met" if close_seconds <= TARGET_SECONDS else "NOT met"
    print(f"  {name}: {devices:,} devices, batch made in {create_seconds:.2f} s")
    print(f"    bare UPDATE                     {update_only * 1000:9.1f} ms")
    print(f"    bare UPDATE + event INSERTs     {update_and_events * 1000:9.1f} ms")
    print(
        f"    close_batch                     {close_seconds * 1000:9.1f} ms"
        f"  ratio {close_seconds / update_only:6.1f}x the bare UPDATE,"
        f" {close_seconds / update_and_events:5.1f}x UPDATE + INSERTs"
        f"  (target {TARGET_SECONDS:.0f} s: {met})"
    )
    print(
        "    result "
        + json.dumps(
            {
                "database": name,
                "devices": devices,
                "close_seconds": round(close_seconds, 3),
                "bare_update_seconds": round(update_only, 4),
                "bare_update_and_events_seconds": round(update_and_events, 4),
            }
        )
    )


async def _admin(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


async def _run(devices: int, postgres: str | None) -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        await _measure(
            "SQLite",
            f"sqlite+aiosqlite:///{path}",
            devices,
            lambda count, events: _bare_sqlite(path, count, events),
        )
    if postgres:
        name = f"inventory_bench_{uuid.uuid4().hex[:10]}"
        admin = await _admin(postgres)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = make_url(postgres).set(database=name).render_as_string(hide_password=False)
        try:
            await _measure(
                "PostgreSQL",
                url,
                devices,
                lambda count, events: _bare_postgres(url, count, events),
            )
        finally:
            admin = await _admin(postgres)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000, help="Devices in the batch.")
    parser.add_argument("--postgres", help="asyncpg URL of a server to run on as well.")
    options = parser.parse_args()
    asyncio.run(_run(options.devices, options.postgres))


if __name__ == "__main__":
    main()
