"""Faults: SIGTERM with a request in flight, SIGKILL during writes and during an import, a
database that goes away."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.load import (
    LoadResult,
    build_fleet,
    run_load,
    serving,
    stored_event_ids,
)
from inventory.db import Database
from inventory.imports.devices import CHUNK_ROWS
from tests.conftest import token_for
from tests.factories import make_world, receive, run_cli
from tests.tcp_proxy import TcpProxy

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


class WriteLock:
    """Hold the database's write lock on devices from outside the server."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: asyncpg.Connection | None = None

    async def acquire(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            self._sqlite = sqlite3.connect(self.url.database, isolation_level=None)
            self._sqlite.execute("BEGIN IMMEDIATE")
            return
        self._postgres = await asyncpg.connect(
            host=self.url.host,
            port=self.url.port,
            user=self.url.username,
            password=self.url.password,
            database=self.url.database,
        )
        await self._postgres.execute("BEGIN")
        await self._postgres.execute("LOCK TABLE devices IN EXCLUSIVE MODE")

    async def release(self) -> None:
        """Roll back and close; a second call does nothing."""
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        if self._postgres is not None:
            await self._postgres.execute("ROLLBACK")
            await self._postgres.close()
            self._postgres = None


async def test_sigterm_lets_request_in_flight_finish(db: Database, database_url: str) -> None:
    await make_world(db)
    await receive(db, "0042")
    token = await token_for(db, "ana", "technician", technician="000123")
    lock = WriteLock(database_url)
    with serving(database_url) as (base_url, process):
        await lock.acquire()
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                request = asyncio.create_task(
                    http.post(
                        "/api/v1/devices/0042/actions",
                        json={"action": "enroll", "data": ENROLL},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                )
                # The action now waits for the lock inside the server.
                await asyncio.sleep(1.0)
                assert not request.done()
                process.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.5)
                await lock.release()
                response = await request
        finally:
            await lock.release()
        assert response.status_code == 200, response.text
        assert response.json()["device"]["state"] == "enrolled"
        # uvicorn (0.55) raises the caught SIGTERM again after its graceful shutdown.
        assert await asyncio.to_thread(process.wait, 60) == -signal.SIGTERM
    async with db.read() as session:
        actions = (await session.scalars(text("SELECT action FROM device_events"))).all()
    assert actions == ["receive", "enroll"]


async def test_sigkill_during_writes_loses_nothing(db: Database, database_url: str) -> None:
    fleet = await build_fleet(db, clients=6)
    result = LoadResult()
    with serving(database_url, workers=2) as (base_url, process):
        load = asyncio.create_task(run_load(base_url, fleet, 60, result))
        while len(result.acknowledged) < 20 and not load.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        await load
    assert not load.exception()

    # A restarted server serves the same data.
    with serving(database_url) as (base_url, _process):
        health = await asyncio.to_thread(httpx.get, f"{base_url}/health", timeout=10)
        assert health.status_code == 200

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    verify = run_cli(database_url, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    stored = await stored_event_ids(db) - fleet.setup_event_ids
    assert result.acknowledged <= stored
    # Only requests cut off before their response may have been stored unacknowledged.
    assert len(stored - result.acknowledged) <= len(result.failures)


def _wait_for_status(url: str, headers: dict[str, str], expected: int, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    status = 0
    while time.monotonic() < deadline:
        status = httpx.get(url, headers=headers, timeout=30).status_code
        if status == expected:
            return status
        time.sleep(0.2)
    return status


async def test_database_outage_gives_503_then_recovers(db: Database, database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        pytest.skip("an SQLite file cannot become unreachable; the outage is a network one")
    await make_world(db)
    await receive(db, "0042")
    token = await token_for(db, "ana", "technician", technician="000123")
    headers = {"Authorization": f"Bearer {token}"}
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port)
    try:
        with serving(through_proxy.render_as_string(hide_password=False)) as (base_url, _p):
            device = f"{base_url}/api/v1/devices/0042"
            before = await asyncio.to_thread(httpx.get, device, headers=headers, timeout=10)
            assert before.status_code == 200

            proxy.stop()
            response = await asyncio.to_thread(httpx.get, device, headers=headers, timeout=30)
            assert response.status_code == 503
            error = response.json()
            assert error["status_code"] == 503
            assert "database" in error["detail"]
            assert "Try again" in error["detail"]
            health = await asyncio.to_thread(httpx.get, f"{base_url}/health", timeout=30)
            assert health.status_code == 503
            action = await asyncio.to_thread(
                httpx.post,
                f"{device}/actions",
                json={"action": "enroll", "data": ENROLL},
                headers=headers,
                timeout=30,
            )
            assert action.status_code == 503

            proxy.start()
            status = await asyncio.to_thread(_wait_for_status, device, headers, 200, 30)
            assert status == 200
    finally:
        proxy.close()
    async with db.read() as session:
        actions = (await session.scalars(text("SELECT action FROM device_events"))).all()
    assert actions == ["receive"]


# Rows of the import that is killed: eight chunks of 5,000, so that it is still writing
# when the kill comes during its first chunks.
IMPORT_ROWS = 40_000
IMPORT_PREFIX = "IMP"


def _import_body(rows: int) -> bytes:
    lines = ["asset_tag,serial_number,manufacturer,model,site,purchase_date,warranty_end"]
    lines.extend(
        f"{IMPORT_PREFIX}{number:06d},SN-{IMPORT_PREFIX}{number:06d},Acer,"
        "Chromebook 311 (C722),01M015,2025-08-01,2028-07-31"
        for number in range(rows)
    )
    return ("\n".join(lines) + "\n").encode()


async def _wait_for_import_writing(
    database_url: str, upload: asyncio.Task, timeout_s: float
) -> None:
    """Return once the import's transaction is writing; fail if it ends or never starts.

    On PostgreSQL the import has drawn the device ids of its third chunk from the
    sequence, which other transactions see before it commits. The lookups that draw them
    run behind the first chunk's writes, so that chunk is written. On SQLite its
    transaction has held the write lock for a second without a break, which an action does
    for a few milliseconds.
    """
    url = make_url(database_url)
    deadline = time.monotonic() + timeout_s
    if url.get_backend_name() == "sqlite":
        locked_since: float | None = None
        while time.monotonic() < deadline and not upload.done():
            probe = sqlite3.connect(url.database, timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                locked_since = None
            except sqlite3.OperationalError:
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since >= 1.0:
                    return
            finally:
                probe.close()
            await asyncio.sleep(0.05)
    else:
        connection = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database
        )
        try:
            fleet_ids = await connection.fetchval("SELECT max(id) FROM devices")
            sequence = "SELECT last_value FROM devices_id_seq"
            while time.monotonic() < deadline and not upload.done():
                if await connection.fetchval(sequence) > fleet_ids + 2 * CHUNK_ROWS:
                    return
                await asyncio.sleep(0.05)
        finally:
            await connection.close()
    assert not upload.done(), "the import ended before the server was killed"
    pytest.fail(f"the import did not start writing within {timeout_s} s")


async def _check_postgres_indexes(database_url: str) -> None:
    """Check every B-tree index of the tables the import writes against its table."""
    url = make_url(database_url)
    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await connection.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = await connection.fetch(
            "SELECT i.indexrelid::regclass::text AS name FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND t.relname = "
            "ANY($1::text[])",
            ["devices", "device_events", "warranty_coverages", "tag_reservations"],
        )
        assert indexes
        for index in indexes:
            # Raises on a damaged index or a row that is missing from it.
            await connection.execute("SELECT bt_index_check($1::regclass, true)", index["name"])
    finally:
        await connection.close()


async def _row_counts(db: Database) -> dict[str, int]:
    counts = {}
    async with db.read() as session:
        for table in ("devices", "warranty_coverages"):
            counts[table] = await session.scalar(text(f"SELECT count(*) FROM {table}"))
    return counts


async def test_sigkill_during_import_keeps_none_of_it(db: Database, database_url: str) -> None:
    fleet = await build_fleet(db, clients=2)
    counts_before = await _row_counts(db)
    admin = await token_for(db, "importer", "admin")
    body = _import_body(IMPORT_ROWS)
    result = LoadResult()
    with serving(database_url) as (base_url, process):
        # Actions acknowledged before the import, then beside it until the kill.
        await run_load(base_url, fleet, 8, result)
        acknowledged_before = len(result.acknowledged)
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
            upload = asyncio.create_task(
                http.post(
                    "/api/v1/imports/devices",
                    params={"technician": "000001", "filename": "fleet.csv"},
                    content=body,
                    headers={"Authorization": f"Bearer {admin}", "Content-Type": "text/csv"},
                )
            )
            load = asyncio.create_task(run_load(base_url, fleet, 400, result))
            await _wait_for_import_writing(database_url, upload, timeout_s=60)
            os.killpg(process.pid, signal.SIGKILL)
            await load
            outcome = await asyncio.gather(upload, return_exceptions=True)
    assert acknowledged_before > 0
    assert not load.exception()
    assert isinstance(outcome[0], httpx.TransportError), outcome[0]

    # The audit runs while the server restarts, because each spends seconds starting Python.
    verify = asyncio.create_task(asyncio.to_thread(run_cli, database_url, "audit", "verify"))
    with serving(database_url) as (base_url, _process):
        health = await asyncio.to_thread(httpx.get, f"{base_url}/health", timeout=10)
        assert health.status_code == 200
    verified = await verify
    assert verified.returncode == 0, verified.stderr

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    else:
        await _check_postgres_indexes(database_url)

    async with db.read() as session:
        imported = await session.scalar(
            text("SELECT count(*) FROM devices WHERE asset_tag LIKE :prefix"),
            {"prefix": f"{IMPORT_PREFIX}%"},
        )
        import_events = await session.scalar(
            text("SELECT count(*) FROM device_events WHERE action = 'import'")
        )
    assert imported == 0
    assert import_events == 0
    assert await _row_counts(db) == counts_before
    stored = await stored_event_ids(db) - fleet.setup_event_ids
    assert result.acknowledged <= stored
    # Only requests cut off before their response may have been stored unacknowledged.
    assert len(stored - result.acknowledged) <= len(result.failures)
