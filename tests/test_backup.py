"""`inventory db backup` and `restore`: an online SQLite copy taken while technicians write."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from bench.load import LoadResult, build_fleet, run_load, serving, stored_event_ids
from inventory.config import Settings
from inventory.db import Database
from tests.factories import make_world, receive, run_cli


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_backup_during_writes_restores_everything(
    tmp_path: Path, sqlite_template: Path
) -> None:
    live = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, live)
    url = _sqlite_url(live)
    db = Database(Settings(database_url=url, environment="test"))
    try:
        fleet = await build_fleet(db, clients=4)
        backup_file = tmp_path / "backup.sqlite3"
        result = LoadResult()
        with serving(url, workers=2) as (base_url, _process):
            load = asyncio.create_task(run_load(base_url, fleet, 40, result))
            # Poll the shared result, so the backup starts while the clients are writing.
            while len(result.acknowledged) < 10 and not load.done():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            acknowledged_before = set(result.acknowledged)
            backup = await asyncio.to_thread(run_cli, url, "db", "backup", str(backup_file))
            await load
        assert backup.returncode == 0, backup.stderr
        assert "Backed up" in backup.stdout
        live_events = await stored_event_ids(db)
    finally:
        await db.dispose()

    restored = tmp_path / "restored.sqlite3"
    restored_url = _sqlite_url(restored)
    restore = run_cli(restored_url, "db", "restore", str(backup_file))
    assert restore.returncode == 0, restore.stderr
    with sqlite3.connect(restored) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        events = {row[0] for row in connection.execute("SELECT id FROM device_events")}
        devices = connection.execute("SELECT count(*) FROM devices").fetchone()[0]
    assert fleet.setup_event_ids <= events
    assert acknowledged_before <= events
    assert events <= live_events
    assert devices == len({tag for tags in fleet.tags for tag in tags})
    verify = run_cli(restored_url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr


async def test_backup_refuses_existing_file(tmp_path: Path, sqlite_template: Path) -> None:
    live = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, live)
    existing = tmp_path / "backup.sqlite3"
    existing.write_bytes(b"keep me")
    result = run_cli(_sqlite_url(live), "db", "backup", str(existing))
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert "--overwrite" in result.stderr
    assert existing.read_bytes() == b"keep me"


async def test_restore_over_devices_needs_replace(tmp_path: Path, sqlite_template: Path) -> None:
    live = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, live)
    url = _sqlite_url(live)
    backup_file = tmp_path / "backup.sqlite3"
    assert run_cli(url, "db", "backup", str(backup_file)).returncode == 0
    db = Database(Settings(database_url=url, environment="test"))
    try:
        await make_world(db)
        await receive(db, "0042")
    finally:
        await db.dispose()

    refused = run_cli(url, "db", "restore", str(backup_file))
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    with sqlite3.connect(live) as connection:
        assert connection.execute("SELECT count(*) FROM devices").fetchone() == (1,)

    replaced = run_cli(url, "db", "restore", str(backup_file), "--replace")
    assert replaced.returncode == 0, replaced.stderr
    with sqlite3.connect(live) as connection:
        assert connection.execute("SELECT count(*) FROM devices").fetchone() == (0,)


async def test_restore_rejects_file_that_is_not_a_backup(
    tmp_path: Path, sqlite_template: Path
) -> None:
    live = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, live)
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    result = run_cli(_sqlite_url(live), "db", "restore", str(junk), "--replace")
    assert result.returncode == 1
    assert "not a readable SQLite database" in result.stderr


def test_backup_of_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/inventory"
    result = run_cli(url, "db", "backup", str(tmp_path / "x.sqlite3"))
    assert result.returncode == 1
    assert "pg_dump" in result.stderr
