"""Faults: SIGTERM with a request in flight, SIGKILL during writes, a database that goes away."""

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
