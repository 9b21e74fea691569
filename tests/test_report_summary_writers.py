"""The report summary stays exact when imports and recycling batches write events in bulk.

Each test compares the summary they leave with a rebuild from the devices and events.
"""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from inventory.db import Database
from inventory.reports import summary
from tests.factories import make_world
from tests.test_imports import GENERIC, _import
from tests.test_recycling import BATCH, make_pending
from tests.test_reports import _summary_rows


async def _rebuilt(db: Database) -> dict[str, list[tuple]]:
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild)
    return await _summary_rows(db)


async def test_closing_a_recycling_batch_keeps_the_summary(
    client: AsyncTestClient, db: Database
) -> None:
    await make_world(db)
    for tag in ("0042", "0043", "0044"):
        await make_pending(db, tag)
    batch = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()
    await client.put(
        f"/api/v1/recycling/batches/{batch['id']}/certificate",
        json={"certificate_number": "GCR-1"},
    )
    closed = await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close", json={"technician": "000456"}
    )
    assert closed.status_code == 200, closed.text
    kept = await _summary_rows(db)
    recycled = [row for row in kept["report_device_counts"] if "recycled" in row]
    assert recycled, kept["report_device_counts"]
    assert kept == await _rebuilt(db)


async def test_device_imports_keep_the_summary(db: Database) -> None:
    await make_world(db)
    created, _rows = await _import(
        db,
        GENERIC
        + "000201,SN21,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        + "000202,SN22,Acer,Chromebook 311 (C722),01M015,deployed,Room 9,,,\n"
        + "000203,SN23,Acer,Chromebook 311 (C722),02M019,lost,,,,\n",
    )
    assert created.committed, [row.reasons for row in _rows if row.outcome == "rejected"]
    assert await _summary_rows(db) == await _rebuilt(db)
    # Moving a device to another site by an update changes the counts of both sites.
    updated, _rows = await _import(
        db,
        GENERIC + "000202,SN22,Acer,Chromebook 311 (C722),02M019,,Room 9,,,\n",
        update_by="tag",
    )
    assert updated.committed
    assert updated.counts["updated"] == 1
    assert await _summary_rows(db) == await _rebuilt(db)
