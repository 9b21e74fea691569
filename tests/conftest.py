"""Fixtures: every database test runs on a migrated SQLite file and on PostgreSQL.

PostgreSQL tests use INVENTORY_TEST_POSTGRES_URL (an asyncpg URL of a database the tests may
connect to as a user who can create databases). Each test session creates its own database
beside it, migrates it once, empties it before each test and drops it at the end. Without the
variable the PostgreSQL half is skipped, unless CI is set, where its absence is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import inventory.models  # noqa: F401
from inventory.accounts.service import create_token, create_user
from inventory.app import create_app
from inventory.config import Settings
from inventory.db import Database
from inventory.migrations import upgrade

POSTGRES_URL = os.environ.get("INVENTORY_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"]


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        environment="test",
        base_url="https://inventory.example.org",
        log_format="json",
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _admin_connection(url: str) -> asyncpg.Connection:
    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    if not POSTGRES_URL:
        yield None
        return
    name = f"inventory_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await _admin_connection(POSTGRES_URL)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await _admin_connection(POSTGRES_URL)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(create())
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(drop())


_TABLES = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "inventory.sqlite3"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if postgres_url is None:
        if os.environ.get("CI"):
            pytest.fail("INVENTORY_TEST_POSTGRES_URL is not set; CI must test PostgreSQL")
        pytest.skip("PostgreSQL not configured: set INVENTORY_TEST_POSTGRES_URL")
    database = Database(_settings(postgres_url), pool=False)
    async with database.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    await database.dispose()
    return postgres_url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return _settings(database_url)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
def app(settings: Settings) -> Litestar:
    # Litestar's test client runs the app on an event loop in another thread, so the app
    # opens its own engine there; `db` is the test's own engine on the same database.
    return create_app(settings)


async def token_for(db: Database, username: str, role: str = "admin", **scope) -> str:
    """Create a user with `role` (and its technician, sites or vendor) and return a token."""
    await create_user(db, username, role, None, **scope)
    token, _info = await create_token(db, username, name="test")
    return token


@pytest.fixture
async def client(app: Litestar, db: Database) -> AsyncIterator[AsyncTestClient]:
    """A test client that calls the API as an admin."""
    token = await token_for(db, "test-admin")
    async with AsyncTestClient(app=app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


PASSWORD = "correct horse battery"


async def sign_in(client: AsyncTestClient, username: str, password: str = PASSWORD):
    """Sign in through the form, with the CSRF token the sign-in page hands out."""
    await client.get("/login")
    return await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "_csrf_token": client.cookies.get("inventory_csrf", ""),
        },
        follow_redirects=False,
    )


@pytest.fixture
async def page_client(app: Litestar, db: Database) -> AsyncIterator[AsyncTestClient]:
    """A test client signed in to the pages as an admin."""
    await create_user(db, "page-admin", "admin", PASSWORD)
    # HTTPS, because the settings' base URL is HTTPS and so the cookies are Secure.
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as test_client:
        response = await sign_in(test_client, "page-admin")
        assert response.status_code == 303, response.text
        yield test_client


@pytest.fixture
async def anonymous_client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(database_url: str) -> Iterator[str]:
    """Serve the app with uvicorn in a child process on a loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "inventory.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {process.stderr.read().decode()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stderr.close()
