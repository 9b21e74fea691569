"""The per-site, per-model counts behind the district view stay equal to the devices.

They are kept with each event, recomputed by a rebuild and filled by migration 0008.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select, text

from inventory.db import Database
from inventory.devices.models import Device
from inventory.migrations import downgrade, upgrade_async
from inventory.reports import summary
from inventory.reports.figures import IN_SERVICE_STATES
from tests.factories import make_world, receive
from tests.test_reports import _drive_fleet

COLUMNS = ("in_service", "deployed", "in_repair", "with_vendor", "lost")


async def _summary_counts(db: Database) -> dict[tuple[int, int], tuple[int, ...]]:
    async with db.read() as session:
        result = await session.execute(
            text(
                "SELECT site_id, model_id, in_service, deployed, in_repair, with_vendor, lost "
                "FROM report_site_model_counts"
            )
        )
        return {(row[0], row[1]): tuple(row[2:]) for row in result if any(row[2:])}


async def _from_devices(db: Database) -> dict[tuple[int, int], tuple[int, ...]]:
    """Count the devices table directly, without the summary module."""
    counts: dict[tuple[int, int], Counter[str]] = {}
    async with db.read() as session:
        devices = await session.execute(select(Device.site_id, Device.model_id, Device.state))
        for site_id, model_id, state in devices:
            columns = counts.setdefault((site_id, model_id), Counter())
            if state in IN_SERVICE_STATES:
                columns["in_service"] += 1
            if state in COLUMNS:
                columns[state] += 1
    return {
        key: tuple(columns[name] for name in COLUMNS)
        for key, columns in counts.items()
        if any(columns.values())
    }


async def test_site_model_counts_follow_devices(db: Database) -> None:
    await _drive_fleet(db, 5, steps=100)
    summary_counts = await _summary_counts(db)
    expected = await _from_devices(db)
    assert summary_counts == expected
    assert sum(row[COLUMNS.index("deployed")] for row in summary_counts.values()) > 0
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild)
    assert await _summary_counts(db) == expected


def test_site_model_count_changes_add_up() -> None:
    changes = summary.sum_site_model_counts(
        [
            # A deploy at site 1: enrolled -1, deployed +1.
            (1, "enrolled", 7, -1),
            (1, "deployed", 7, 1),
            # A recycled device leaves service; a lost one is counted apart from it.
            (2, "recycle_pending", 7, -1),
            (2, "recycled", 7, 1),
            (2, "lost", 8, 1),
            # Two rows of one state that cancel out, as when only the operating system changes.
            (3, "enrolled", 7, -1),
            (3, "enrolled", 7, 1),
        ]
    )
    assert changes[(1, 7)] == Counter({"deployed": 1})
    assert changes[(2, 7)] == Counter({"in_service": -1})
    assert changes[(2, 8)] == Counter({"lost": 1})
    assert (3, 7) not in changes


async def test_migration_0008_counts_stored_devices(db: Database) -> None:
    if not db.settings.is_sqlite:
        pytest.skip("exercised on SQLite, where each test has its own file")
    await make_world(db)
    for tag, site in (("M001", "01M015"), ("M002", "01M015"), ("M003", "02M019")):
        await receive(db, tag, site=site)
    expected = await _from_devices(db)
    assert sorted(row[0] for row in expected.values()) == [1, 2]
    await db.dispose()
    await asyncio.to_thread(downgrade, db.settings.database_url, "0007")
    await upgrade_async(db.settings.database_url, "head")
    assert await _summary_counts(db) == expected
