"""The fiscal-year summary tables: kept with each event and filled by migration 0010."""

from __future__ import annotations

import asyncio

import pytest

from inventory.db import Database
from inventory.migrations import downgrade, upgrade_async
from inventory.reports import summary
from inventory.reports.years import OUTCOME_COLUMNS
from tests.test_reports import _drive_fleet, _summary_rows

YEAR_TABLES = ("report_site_years", "report_region_turnarounds")


async def _year_rows(db: Database) -> dict[str, list[tuple]]:
    rows = await _summary_rows(db)
    return {table: rows[table] for table in YEAR_TABLES}


def test_outcome_columns_are_the_outcomes() -> None:
    assert tuple(summary.OUTCOMES.values()) == OUTCOME_COLUMNS


async def test_migration_0010_adds_up_stored_months(db: Database) -> None:
    if not db.settings.is_sqlite:
        pytest.skip("exercised on SQLite, where each test has its own file")
    await _drive_fleet(db, 13, steps=80)
    kept = await _year_rows(db)
    assert kept["report_site_years"]
    assert kept["report_region_turnarounds"]
    await db.dispose()
    await asyncio.to_thread(downgrade, db.settings.database_url, "0009")
    await upgrade_async(db.settings.database_url, "head")
    assert await _year_rows(db) == kept
