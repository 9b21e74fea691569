"""Scan lookup and lifecycle action, through the service and through the bare driver.

Run with `make bench` or `python -m bench [--devices N] [--postgres URL]`. The database is
built in a temporary SQLite file (and, with --postgres, in a new database on that server,
dropped afterwards), so nothing of the project's own data is touched.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import asyncpg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action, get_device
from inventory.migrations import upgrade
from inventory.sites.models import Site
from inventory.technicians.models import Technician

LOOKUP_SQL = """
SELECT d.asset_tag, d.serial_number, d.state, d.room, d.assignee, d.warranty_start,
       d.warranty_end, m.manufacturer, m.model, m.device_type, m.end_of_support, s.code, s.name
FROM devices d JOIN device_models m ON m.id = d.model_id JOIN sites s ON s.id = d.site_id
WHERE d.asset_tag = {placeholder}
"""


async def _fill(db: Database, devices: int) -> None:
    now = datetime.now(UTC)
    rng = random.Random(7)
    async with db.write() as session:
        await session.execute(
            insert(Site),
            [
                {"code": f"S{n:04d}", "name": f"Site {n}", "kind": "school", "created_at": now}
                for n in range(200)
            ],
        )
        await session.execute(
            insert(DeviceModel),
            [
                {
                    "manufacturer": "Acer",
                    "model": f"Model {n}",
                    "match_key": f"acer|model {n}",
                    "device_type": "chromebook",
                    "created_at": now,
                }
                for n in range(50)
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
    batch = 20_000
    for start in range(0, devices, batch):
        rows = [
            {
                "id": n + 1,
                "asset_tag": f"{n:08d}",
                "serial_number": f"SN{n:010d}",
                "manufacturer_key": "acer",
                "model_id": rng.randint(1, 50),
                "site_id": rng.randint(1, 200),
                "state": "enrolled",
                "version": 1,
                "state_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(start, min(start + batch, devices))
        ]
        events = []
        for row in rows:
            event = {
                "device_id": row["id"],
                "sequence": 1,
                "action": "receive",
                "to_state": "enrolled",
                "site_id": row["site_id"],
                "occurred_at": now,
                "recorded_at": now,
                "data": {},
            }
            events.append({**event, "hash": event_hash(None, event)})
        async with db.write() as session:
            await session.execute(insert(Device), rows)
            await session.execute(insert(DeviceEvent), events)


async def _timed(samples: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    timings = []
    for index in range(samples):
        started = time.perf_counter()
        await call(index)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _report(name: str, service: list[float], raw: list[float]) -> None:
    def percentile(values: list[float], share: float) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * share))]

    service_p50, raw_p50 = statistics.median(service), statistics.median(raw)
    print(
        f"  {name:<28} service p50 {service_p50:7.3f} ms  p95 {percentile(service, 0.95):7.3f} ms"
        f" | raw driver p50 {raw_p50:7.3f} ms  p95 {percentile(raw, 0.95):7.3f} ms"
        f" | ratio {service_p50 / raw_p50:5.1f}x"
    )


async def _prepare(url: str, devices: int) -> Database:
    await asyncio.to_thread(upgrade, url)
    db = Database(Settings(database_url=url, environment="test"))
    started = time.perf_counter()
    await _fill(db, devices)
    print(f"  built {devices:,} devices in {time.perf_counter() - started:.1f} s")
    return db


async def _bench(db: Database, devices: int, samples: int, raw_lookup) -> None:
    rng = random.Random(11)
    tags = [f"{rng.randrange(devices):08d}" for _ in range(samples)]

    service = await _timed(samples, lambda i: get_device(db, tags[i]))
    raw = await _timed(samples, lambda i: raw_lookup(tags[i]))
    _report("scan lookup by asset tag", service, raw)

    # Each action moves a different device enrolled -> deployed; the raw baseline does the
    # same two statements (conditional update, event insert) in one transaction.
    action_tags = [f"{n:08d}" for n in range(samples)]
    request = ActionRequest(action="deploy", technician="000001", data={"room": "101"})
    service = await _timed(samples, lambda i: apply_action(db, action_tags[i], request))
    await db.dispose()
    raw_tags = [f"{n:08d}" for n in range(samples, 2 * samples)]
    raw = await _timed(samples, lambda i: raw_lookup(raw_tags[i], write=True))
    _report("action (deploy) with event", service, raw)


async def _sqlite(devices: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        print(f"SQLite ({devices:,} devices, {samples} samples)")
        db = await _prepare(f"sqlite+aiosqlite:///{path}", devices)
        async with aiosqlite.connect(path, isolation_level=None) as connection:
            sql = LOOKUP_SQL.format(placeholder="?")

            async def raw(tag: str, write: bool = False) -> object:
                if not write:
                    async with connection.execute(sql, (tag,)) as cursor:
                        return await cursor.fetchone()
                await connection.execute("BEGIN IMMEDIATE")
                await connection.execute(
                    "UPDATE devices SET state='deployed', version=version+1 "
                    "WHERE asset_tag=? AND state='enrolled' AND version=1",
                    (tag,),
                )
                await connection.execute(
                    "INSERT INTO device_events (device_id, sequence, action, from_state, "
                    "to_state, site_id, occurred_at, recorded_at, data, hash) SELECT id, 2, "
                    "'deploy', 'enrolled', 'deployed', site_id, ?, ?, '{}', 'x' FROM devices "
                    "WHERE asset_tag=?",
                    (datetime.now(UTC).isoformat(), datetime.now(UTC).isoformat(), tag),
                )
                await connection.execute("COMMIT")
                return None

            await _bench(db, devices, samples, raw)


async def _postgres(server_url: str, devices: int, samples: int) -> None:
    parsed = make_url(server_url)
    name = f"inventory_bench_{uuid.uuid4().hex[:8]}"
    params = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password,
    }
    admin = await asyncpg.connect(database=parsed.database or "postgres", **params)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        print(f"PostgreSQL ({devices:,} devices, {samples} samples)")
        db = await _prepare(url, devices)
        connection = await asyncpg.connect(database=name, **params)
        sql = LOOKUP_SQL.format(placeholder="$1")

        async def raw(tag: str, write: bool = False) -> object:
            if not write:
                return await connection.fetchrow(sql, tag)
            async with connection.transaction():
                await connection.execute(
                    "UPDATE devices SET state='deployed', version=version+1 "
                    "WHERE asset_tag=$1 AND state='enrolled' AND version=1",
                    tag,
                )
                await connection.execute(
                    "INSERT INTO device_events (device_id, sequence, action, from_state, "
                    "to_state, site_id, occurred_at, recorded_at, data, hash) SELECT id, 2, "
                    "'deploy', 'enrolled', 'deployed', site_id, now(), now(), '{}', 'x' "
                    "FROM devices WHERE asset_tag=$1",
                    tag,
                )
            return None

        await _bench(db, devices, samples, raw)
        await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=100_000, help="devices to generate")
    parser.add_argument("--samples", type=int, default=500, help="timed calls per figure")
    parser.add_argument("--postgres", help="asyncpg URL of a server to also run on")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"Python {platform.python_version()}"
    )
    asyncio.run(_sqlite(args.devices, args.samples))
    if args.postgres:
        asyncio.run(_postgres(args.postgres, args.devices, args.samples))


if __name__ == "__main__":
    main()
