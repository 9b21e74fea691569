"""The per-site open repair counts and oldest repairs equal the open repair rows.

They are kept with each event, recomputed by a rebuild and filled by migration 0009.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from inventory.db import Database
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.migrations import downgrade, upgrade_async
from inventory.reports import summary
from inventory.reports.models import ReportOpenRepair, ReportOpenRepairCount
from tests.factories import make_world, receive
from tests.test_reports import ENROLL, _drive_fleet


async def _kept_counts(db: Database) -> dict[int, tuple[int, datetime]]:
    async with db.read() as session:
        rows = await session.execute(
            select(
                ReportOpenRepairCount.site_id,
                ReportOpenRepairCount.repair_count,
                ReportOpenRepairCount.oldest_opened_at,
            )
        )
        return {site_id: (count, oldest) for site_id, count, oldest in rows if count}


async def _counted_rows(db: Database) -> dict[int, tuple[int, datetime]]:
    """Count report_open_repairs directly and find each site's oldest, without the summary."""
    async with db.read() as session:
        rows = list(
            await session.execute(select(ReportOpenRepair.site_id, ReportOpenRepair.opened_at))
        )
    counts = Counter(site_id for site_id, _opened_at in rows)
    oldest: dict[int, datetime] = {}
    for site_id, opened_at in rows:
        oldest[site_id] = min(opened_at, oldest.get(site_id, opened_at))
    return {site_id: (count, oldest[site_id]) for site_id, count in counts.items()}


async def _site_ids(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(text("SELECT code, id FROM sites"))
        return {code: site_id for code, site_id in rows}


async def _act(
    db: Database, tag: str, action: str, data: dict | None = None, at: datetime | None = None
) -> None:
    request = ActionRequest(action=action, technician="000123", data=data or {}, occurred_at=at)
    await apply_action(db, tag, request)


async def test_open_repair_counts_follow_rows(db: Database) -> None:
    await _drive_fleet(db, 5, steps=100)
    expected = await _counted_rows(db)
    assert sum(count for count, _oldest in expected.values()) > 0
    assert await _kept_counts(db) == expected
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild)
    assert await _kept_counts(db) == expected


async def test_open_repair_count_moves_with_transfer(db: Database) -> None:
    await make_world(db)
    sites = await _site_ids(db)
    north, south = sites["01M015"], sites["02M019"]
    opened = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    await receive(db, "T001", site="01M015", occurred_at=opened - timedelta(days=30))
    await _act(db, "T001", "enroll", ENROLL | {"operating_system": "ChromeOS"}, opened)
    await _act(db, "T001", "open_repair", {"problem": "cracked screen"}, opened)
    assert await _kept_counts(db) == {north: (1, opened)}

    await _act(db, "T001", "transfer", {"site": "02M019"})
    assert await _kept_counts(db) == {south: (1, opened)}
    assert await _counted_rows(db) == {south: (1, opened)}

    await _act(db, "T001", "complete_repair", {"resolution": "new screen", "parts_used": []})
    assert await _kept_counts(db) == {}
    assert await _counted_rows(db) == {}


async def test_oldest_repair_follows_closures(db: Database) -> None:
    await make_world(db)
    north = (await _site_ids(db))["01M015"]
    now = datetime.now(UTC).replace(microsecond=0)
    for tag, days in (("T001", 9), ("T002", 4)):
        await receive(db, tag, site="01M015", occurred_at=now - timedelta(days=30))
        await _act(
            db, tag, "enroll", ENROLL | {"operating_system": "ChromeOS"}, now - timedelta(days=20)
        )
        await _act(db, tag, "open_repair", {"problem": "no power"}, now - timedelta(days=days))
    assert await _kept_counts(db) == {north: (2, now - timedelta(days=9))}

    # Closing the oldest repair makes the next one the oldest.
    await _act(db, "T001", "complete_repair", {"resolution": "new board", "parts_used": []})
    assert await _kept_counts(db) == {north: (1, now - timedelta(days=4))}
    assert await _kept_counts(db) == await _counted_rows(db)


async def test_migration_0009_counts_stored_repairs(db: Database) -> None:
    if not db.settings.is_sqlite:
        pytest.skip("exercised on SQLite, where each test has its own file")
    await make_world(db)
    for tag, site in (("M001", "01M015"), ("M002", "01M015"), ("M003", "02M019")):
        await receive(db, tag, site=site)
        await _act(db, tag, "enroll", ENROLL | {"operating_system": "ChromeOS"})
        await _act(db, tag, "open_repair", {"problem": "no power"})
    expected = await _counted_rows(db)
    assert sorted(count for count, _oldest in expected.values()) == [1, 2]
    await db.dispose()
    await asyncio.to_thread(downgrade, db.settings.database_url, "0008")
    await upgrade_async(db.settings.database_url, "head")
    assert await _kept_counts(db) == expected
