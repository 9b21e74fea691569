"""The reads every request makes give the same rows through the bare driver as through
SQLAlchemy, on both databases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import date
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Select

from inventory.accounts import service as accounts
from inventory.accounts.service import create_token, create_user, login
from inventory.config import Settings
from inventory.db import Database, DatabaseUnavailableError
from inventory.devices import service as devices
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.escalations import warranty
from inventory.escalations.schemas import CoverageCreate
from tests.factories import make_world, receive


@pytest.fixture
async def plain(settings: Settings):
    """The same database without a pool: `fetch` then runs through SQLAlchemy."""
    database = Database(settings, pool=False)
    yield database
    await database.dispose()


async def _both(db: Database, plain: Database, statement: Select, **values: Any) -> list:
    through_driver = await db.fetch(statement, **values)
    through_sqlalchemy = await plain.fetch(statement, **values)
    assert [tuple(row) for row in through_driver] == [tuple(row) for row in through_sqlalchemy]
    assert through_driver, "the comparison needs at least one row"
    return through_driver


async def test_reads_match_sqlalchemy(db: Database, plain: Database) -> None:
    assert db._driver_pool is not None
    assert plain._driver_pool is None
    await make_world(db)
    await receive(db, "A100")
    await receive(db, "A101", warranty_start=None, warranty_end=None)
    await apply_action(
        db,
        "A100",
        ActionRequest(
            action="enroll",
            technician="000123",
            data={
                "operating_system": "ChromeOS 138",
                "management_profile": "students",
                "user_profile_kind": "student",
            },
        ),
    )
    await apply_action(
        db, "A100", ActionRequest(action="deploy", technician="000123", data={"room": "12"})
    )
    await warranty.add_device_coverage(
        db,
        "A100",
        CoverageCreate(kind="extended", vendor="acer", start=date(2028, 8, 1), months=12),
        None,
    )
    await create_user(db, "ana", "technician", None, technician="000123")
    await create_user(db, "office", "site", "a long enough password 1", sites=["01M015", "02M019"])
    token, _info = await create_token(db, "ana")
    cookie = await login(db, "office", "a long enough password 1", "127.0.0.1")

    today = date(2026, 12, 5)
    device = (await _both(db, plain, devices._DEVICE_BY_TAG, asset_tag="A100", today=today))[0]
    assert (device.state, device.room, device.covered) == ("deployed", "12", True)
    assert device.state_changed_at.tzinfo is not None
    bare = (await _both(db, plain, devices._DEVICE_BY_TAG, asset_tag="A101", today=today))[0]
    assert (bare.warranty_end, bare.covered) == (None, False)

    owner = (await _both(db, plain, devices._HISTORY_DEVICE_BY_TAG, asset_tag="A100"))[0]
    events = await _both(
        db, plain, devices._EVENTS_OF_DEVICE, device_id=owner.id, after=0, limit=10
    )
    assert [event.action for event in events] == ["receive", "enroll", "deploy"]
    assert (events[2].data, events[2].employee_number) == ({"room": "12"}, "000123")

    coverages = await _both(db, plain, warranty._COVERAGES_BY_TAG, asset_tag="A100")
    assert [(row.kind, row.vendor) for row in coverages] == [("base", None), ("extended", "acer")]

    by_token = (await _both(db, plain, accounts._BY_TOKEN, digest=accounts._digest(token)))[0]
    assert (by_token.username, by_token.employee_number) == ("ana", "000123")
    by_session = (await _both(db, plain, accounts._BY_SESSION, digest=accounts._digest(cookie)))[0]
    assert by_session.username == "office"
    site_ids = await _both(db, plain, accounts._SITES_OF_USER, user_id=by_session.id)
    assert len(site_ids) == 2

    assert await db.fetch(devices._DEVICE_BY_TAG, asset_tag="NOPE", today=today) == []


async def test_read_connections_cannot_write(db: Database) -> None:
    await make_world(db)
    pool = db._driver_pool
    assert pool is not None
    await db.fetch(accounts._SITES_OF_USER, user_id=1)
    if db.is_sqlite:
        assert pool._inline is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            pool._inline.execute("DELETE FROM sites")
        return
    assert pool._postgres is not None
    async with pool._postgres.acquire() as connection:
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await connection.execute("DELETE FROM sites")


async def test_locked_sqlite_read_moves_to_thread(db: Database) -> None:
    """A read that finds the database locked goes on in aiosqlite's thread."""
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    await make_world(db)
    pool = db._driver_pool
    assert pool is not None
    await db.fetch(accounts._SITES_OF_USER, user_id=1)
    assert pool._inline is not None
    assert pool._sqlite is None

    class LockedConnection:
        """The inline connection as it fails while another process holds the lock."""

        def __init__(self, code: int) -> None:
            self.code = code

        def execute(self, *_args: Any) -> Any:
            error = sqlite3.OperationalError("database is locked")
            error.sqlite_errorcode = self.code
            raise error

        def close(self) -> None:
            pass

    pool._inline = LockedConnection(sqlite3.SQLITE_BUSY)  # type: ignore[assignment]
    sites = await db.fetch(accounts._SITES_OF_USER, user_id=1)
    assert sites == []
    assert pool._sqlite is not None

    # Any other error reaches the caller.
    pool._inline = LockedConnection(sqlite3.SQLITE_IOERR)
    with pytest.raises(DatabaseUnavailableError, match="database is locked"):
        await db.fetch(accounts._SITES_OF_USER, user_id=1)


async def test_concurrent_reads_each_get_their_own_rows(db: Database) -> None:
    """Reads sharing the few connections, many at once, each get the rows they asked for."""
    await make_world(db)
    tags = [f"C{number:03d}" for number in range(5)]
    for tag in tags:
        await receive(db, tag)
    today = date(2026, 9, 1)
    asked = tags * 20
    found = await asyncio.gather(
        *(db.fetch(devices._DEVICE_BY_TAG, asset_tag=tag, today=today) for tag in asked)
    )
    assert [rows[0].asset_tag for rows in found] == asked


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InternalClientError("cannot switch to state 12; another operation is in progress"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        sqlite3.OperationalError("database is locked"),
    ],
)
async def test_read_connection_error_unavailable(
    db: Database, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """An error of a dropped or broken connection becomes DatabaseUnavailableError (a 503)."""
    await make_world(db)
    pool = db._driver_pool
    assert pool is not None

    async def broken(*_args: Any) -> list[Any]:
        raise error

    monkeypatch.setattr(pool, "fetch", broken)
    with pytest.raises(DatabaseUnavailableError):
        await db.fetch(accounts._SITES_OF_USER, user_id=1)
