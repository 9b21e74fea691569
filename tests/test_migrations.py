"""The migrations build exactly the schema the models declare, and start-up checks for it."""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from inventory.app import create_app
from inventory.config import Settings
from inventory.db import Database, DatabaseNotMigratedError
from inventory.migrations import downgrade, head_revision, include_object, upgrade_async


def _differences(connection) -> list:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_object": include_object(connection.dialect.name)},
    )
    return compare_metadata(context, SQLModel.metadata)


async def test_models_match_migrations(db: Database) -> None:
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_migrated_database_is_at_head(db: Database) -> None:
    await db.check_migrated()


async def test_downgrade_then_upgrade(settings: Settings) -> None:
    if not settings.is_sqlite:
        pytest.skip("exercised on SQLite, where each test has its own file")
    await asyncio.to_thread(downgrade, settings.database_url, "base")
    db = Database(settings)
    with pytest.raises(DatabaseNotMigratedError):
        await db.check_migrated()
    await upgrade_async(settings.database_url, "head")
    await db.check_migrated()
    await db.dispose()


async def test_unmigrated_database_refused(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    db = Database(settings)
    with pytest.raises(DatabaseNotMigratedError) as raised:
        await db.check_migrated()
    await db.dispose()
    assert "inventory db upgrade" in str(raised.value)
    assert str(head_revision()) in str(raised.value)


# Litestar's test client leaves a stream of the failed start-up to the garbage collector.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
async def test_app_refuses_to_start_unmigrated(tmp_path: Path) -> None:
    from litestar.testing import AsyncTestClient

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}")
    # The test client's task group may wrap the start-up error in an exception group.
    with pytest.raises((DatabaseNotMigratedError, BaseExceptionGroup)) as raised:
        async with AsyncTestClient(app=create_app(settings)):
            pass
    assert "inventory db upgrade" in "".join(traceback.format_exception(raised.value))
    del raised
    gc.collect()


def test_serve_command_refuses_unmigrated(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "inventory db upgrade" in result.stderr


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = {**os.environ, "INVENTORY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"}
    upgrade = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    check = subprocess.run(
        [sys.executable, "-m", "inventory.cli", "db", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr


async def test_sqlite_pragmas(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    async with db.engine.connect() as connection:
        journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
        timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
    assert journal == "wal"
    assert keys == 1
    assert timeout == 5000
