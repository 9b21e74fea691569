"""A vendor export of many escalations, streamed as CSV, against the bare driver.

Run with `python -m bench.escalations [--rows N]` (run by `make bench`). It builds a
temporary SQLite database with N devices in `with_vendor`, each with an open escalation, and
times making the batch. Then it times the CSV download through the service's stream (first
chunk and whole file) against aiosqlite reading the same rows into `csv.writer`. Memory is
the peak Python allocation while streaming, for N/5 rows and for N rows.

Targets: 50,000 rows with the first chunk within 300 ms, the whole file within 3 s, at least
half the speed of the bare driver, and memory that does not grow with the row count.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import platform
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
from sqlalchemy import insert, update

from bench.__main__ import _fill
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device
from inventory.escalations import batches
from inventory.escalations.exports import csv_chunks
from inventory.escalations.models import Escalation
from inventory.escalations.profiles import get_profile
from inventory.migrations import upgrade
from inventory.vendors.models import Vendor


async def _prepare(url: str, rows: int) -> Database:
    await asyncio.to_thread(upgrade, url)
    db = Database(Settings(database_url=url, environment="test"))
    await _fill(db, rows)
    now = datetime.now(UTC)
    async with db.write() as session:
        await session.execute(insert(Vendor), [{"code": "acer", "name": "Acer", "created_at": now}])
        await session.execute(update(Device).values(state="with_vendor", escalation_vendor_id=1))
        await session.execute(
            insert(Escalation),
            [
                {
                    "device_id": n,
                    "vendor_id": 1,
                    "state": "open",
                    "problem": f"Does not power on, unit {n}",
                    "troubleshooting": "Reseated the battery; tried another charger",
                    "parts_requested": ["mainboard"],
                    "covered": True,
                    "opened_at": now,
                    "updated_at": now,
                }
                for n in range(1, rows + 1)
            ],
        )
    return db


async def _stream(db: Database, batch_id: int) -> tuple[float, float, int]:
    profile = get_profile("generic")
    start = time.perf_counter()
    first = None
    size = 0
    async for chunk in csv_chunks(profile, batches.batch_pages(db, batch_id)):
        if first is None:
            first = time.perf_counter() - start
        size += len(chunk)
    return first or 0.0, time.perf_counter() - start, size


async def _bare(path: Path, batch_id: int) -> float:
    profile = get_profile("generic")
    start = time.perf_counter()
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(profile.headers)
    async with aiosqlite.connect(path) as connection:
        cursor = await connection.execute(
            "SELECT content FROM export_batch_rows WHERE batch_id = ? ORDER BY position",
            (batch_id,),
        )
        async for (content,) in cursor:
            writer.writerow(profile.row(json.loads(content)))
            if buffer.tell() > 1 << 20:
                buffer.seek(0)
                buffer.truncate()
    return time.perf_counter() - start


async def _peak(db: Database, batch_id: int) -> int:
    tracemalloc.start()
    await _stream(db, batch_id)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


async def _run(rows: int) -> None:
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        db = await _prepare(f"sqlite+aiosqlite:///{path}", rows)
        try:
            start = time.perf_counter()
            batch = await batches.create_batch(db, "acer", None)
            creation_seconds = time.perf_counter() - start
            print(
                f"batch of {batch.row_count:,} escalations made (rows, states, events): "
                f"{creation_seconds:.2f} s"
            )
            bare = min([await _bare(path, batch.id) for _ in range(3)])
            runs = [await _stream(db, batch.id) for _ in range(3)]
            first = min(run[0] for run in runs)
            total = min(run[1] for run in runs)
            size = runs[0][2]
            print(f"bare aiosqlite + csv.writer: {bare:.2f} s")
            print(
                f"service CSV stream: first chunk {first * 1000:.0f} ms, whole file {total:.2f} s "
                f"({size / 1e6:.1f} MB); speed {bare / total:.2f} of the bare driver"
            )
            print(
                f"  targets: first chunk <= 300 ms {'met' if first <= 0.3 else 'MISSED'}; "
                f"whole <= 3 s {'met' if total <= 3 else 'MISSED'}; "
                f"speed >= 0.5 {'met' if bare / total >= 0.5 else 'MISSED'}"
            )
            whole = await _peak(db, batch.id)
        finally:
            await db.dispose()
        small_path = Path(folder) / "small.sqlite3"
        small = await _prepare(f"sqlite+aiosqlite:///{small_path}", rows // 5)
        try:
            small_batch = await batches.create_batch(small, "acer", None)
            part = await _peak(small, small_batch.id)
        finally:
            await small.dispose()
    print(
        f"peak memory while streaming: {part / 1e6:.1f} MB for {rows // 5:,} rows, "
        f"{whole / 1e6:.1f} MB for {rows:,} rows (ratio {whole / part:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="escalations in the batch")
    args = parser.parse_args()
    asyncio.run(_run(args.rows))


if __name__ == "__main__":
    main()
