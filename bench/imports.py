"""Device import, end to end, against bare inserts of the same rows in the same run.

Run with `python -m bench.imports [--rows N] [--postgres URL] [--memory]` (`make bench` runs
it). A generic-template CSV of N devices is imported through `import_devices` (read, parse,
check, write devices, events and warranty coverages, commit). The baseline inserts the same
device, event and coverage rows, already built, into an empty copy of the schema in one
transaction: `executemany` through aiosqlite, or asyncpg's COPY on PostgreSQL.

--memory imports 100,000 and then 1,000,000 rows with `inventory import devices` in child
processes and prints each one's peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url

from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.catalog import create_device_model
from inventory.devices.schemas import DeviceModelCreate
from inventory.imports.bulk import COVERAGE_COLUMNS, DEVICE_COLUMNS, EVENT_COLUMNS, _sqlite_value
from inventory.imports.devices import DeviceImportOptions, import_devices
from inventory.imports.reading import open_path
from inventory.migrations import upgrade
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from inventory.technicians.schemas import TechnicianCreate
from inventory.technicians.service import create_technician

HEADER = "asset_tag,serial_number,manufacturer,model,site,purchase_date,warranty_end\n"
SITES = 50


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for number in range(rows):
            handle.write(
                f"{number:08d},SN{number:010d},Acer,Chromebook 311 (C722),S{number % SITES:03d},"
                "2024-08-01,2027-07-31\n"
            )


async def prepare(url: str) -> Database:
    await asyncio.to_thread(upgrade, url)
    db = Database(Settings(database_url=url, environment="test", log_level="ERROR"))
    for number in range(SITES):
        await create_site(db, SiteCreate(code=f"S{number:03d}", name=f"School {number}"))
    await create_technician(db, TechnicianCreate(employee_number="000001", name="Bench Tech"))
    await create_device_model(
        db,
        DeviceModelCreate(
            manufacturer="Acer", model="Chromebook 311 (C722)", device_type="chromebook"
        ),
    )
    return db


def baseline_rows(rows: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """Build the rows the import writes, with their hashes, before the timed inserts."""
    now = datetime.now(UTC)
    devices, events, coverages = [], [], []
    for number in range(rows):
        device_id = number + 1
        site_id = number % SITES + 1
        devices.append(
            (
                device_id,
                f"{number:08d}",
                f"SN{number:010d}",
                "acer",
                1,
                site_id,
                "received",
                None,
                None,
                date(2024, 8, 1),
                date(2024, 8, 1),
                date(2027, 7, 31),
                None,
                1,
                now,
                now,
                now,
            )
        )
        columns = {
            "device_id": device_id,
            "sequence": 1,
            "action": "import",
            "from_state": None,
            "to_state": "received",
            "technician_id": 1,
            "technician_name": "Bench Tech",
            "actor": "bench",
            "actor_user_id": None,
            "site_id": site_id,
            "visit_id": None,
            "occurred_at": now,
            "recorded_at": now,
            "notes": None,
            "data": {"serial_number": f"SN{number:010d}", "line": number + 2},
            "request_id": None,
            "idempotency_key": None,
        }
        events.append((*columns.values(), None, event_hash(None, columns)))
        coverages.append(
            (device_id, "base", None, date(2024, 8, 1), date(2027, 7, 31), None, None, now, "b")
        )
    return devices, events, coverages


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


async def raw_sqlite(path: Path, rows: int) -> float:
    devices, events, coverages = baseline_rows(rows)
    started = time.perf_counter()
    async with aiosqlite.connect(path, isolation_level=None) as connection:
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        await connection.execute("PRAGMA foreign_keys=ON")
        await connection.execute("BEGIN IMMEDIATE")
        for table, columns, values in (
            ("devices", DEVICE_COLUMNS, devices),
            ("device_events", EVENT_COLUMNS, events),
            ("warranty_coverages", COVERAGE_COLUMNS, coverages),
        ):
            await connection.executemany(
                _insert_sql(table, columns), [tuple(map(_sqlite_value, row)) for row in values]
            )
        await connection.execute("COMMIT")
    return time.perf_counter() - started


async def raw_postgres(url: str, rows: int) -> float:
    devices, events, coverages = baseline_rows(rows)
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database,
    )
    started = time.perf_counter()
    try:
        async with connection.transaction():
            events = [
                (*row[:14], "{}" if isinstance(row[14], dict) else row[14], *row[15:])
                for row in events
            ]
            for table, columns, values in (
                ("devices", DEVICE_COLUMNS, devices),
                ("device_events", EVENT_COLUMNS, events),
                ("warranty_coverages", COVERAGE_COLUMNS, coverages),
            ):
                await connection.copy_records_to_table(table, records=values, columns=list(columns))
    finally:
        await connection.close()
    return time.perf_counter() - started


async def timed_import(db: Database, source: Path) -> float:
    started = time.perf_counter()
    table = open_path(source)
    try:
        report = await import_devices(
            db, table, DeviceImportOptions(technician="000001"), source=source.name
        )
    finally:
        table.close()
    elapsed = time.perf_counter() - started
    assert report.committed, report.text()
    return elapsed


def report_line(name: str, rows: int, service: float, raw: float, target: str) -> None:
    print(
        f"  {name:<12} import {service:6.2f} s ({rows / service:9,.0f} rows/s) | bare inserts "
        f"{raw:6.2f} s ({rows / raw:9,.0f} rows/s) | ratio {service / raw:4.1f}x | {target}"
    )


async def run_sqlite(folder: Path, source: Path, rows: int) -> None:
    db = await prepare(f"sqlite+aiosqlite:///{folder / 'import.sqlite3'}")
    service = await timed_import(db, source)
    await db.dispose()
    raw_db = await prepare(f"sqlite+aiosqlite:///{folder / 'raw.sqlite3'}")
    await raw_db.dispose()
    raw = await raw_sqlite(folder / "raw.sqlite3", rows)
    report_line("SQLite", rows, service, raw, "target: within 10 s and at most 4x")


async def run_postgres(server_url: str, source: Path, rows: int) -> None:
    parsed = make_url(server_url)
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    names = [f"inventory_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        urls = []
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
            urls.append(parsed.set(database=name).render_as_string(hide_password=False))
        db = await prepare(urls[0])
        service = await timed_import(db, source)
        await db.dispose()
        raw_db = await prepare(urls[1])
        await raw_db.dispose()
        raw = await raw_postgres(urls[1], rows)
        report_line("PostgreSQL", rows, service, raw, "target: at least 20,000 rows/s")
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def peak_memory(folder: Path, rows: int) -> tuple[float, int]:
    """Import `rows` rows with the command in a child process; return seconds and peak KiB."""
    url = f"sqlite+aiosqlite:///{folder / f'memory-{rows}.sqlite3'}"
    asyncio.run(_prepare_only(url))
    source = folder / f"memory-{rows}.csv"
    write_file(source, rows)
    env = {**os.environ, "INVENTORY_DATABASE_URL": url, "INVENTORY_LOG_LEVEL": "ERROR"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inventory.cli",
            "import",
            "devices",
            str(source),
            "--technician",
            "000001",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"import of {rows} rows failed with status {status}")
    source.unlink()
    return elapsed, usage.ru_maxrss


async def _prepare_only(url: str) -> None:
    db = await prepare(url)
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="device rows to import")
    parser.add_argument("--postgres", help="asyncpg URL of a server to also run on")
    parser.add_argument(
        "--memory", action="store_true", help="measure peak memory at 100,000 and 1,000,000 rows"
    )
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"Device import ({args.rows:,} rows)")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        source = folder / "devices.csv"
        write_file(source, args.rows)
        asyncio.run(run_sqlite(folder, source, args.rows))
        if args.postgres:
            asyncio.run(run_postgres(args.postgres, source, args.rows))
        if args.memory:
            small_time, small = peak_memory(folder, 100_000)
            large_time, large = peak_memory(folder, 1_000_000)
            print(
                f"  memory       100,000 rows: {small / 1024:6.1f} MiB in {small_time:5.1f} s | "
                f"1,000,000 rows: {large / 1024:6.1f} MiB in {large_time:5.1f} s | ratio "
                f"{large / small:4.2f}x | target: at most 2x"
            )


if __name__ == "__main__":
    main()
