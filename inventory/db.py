"""Async engine, sessions and transactions; SQLite pragmas; the migration check."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Select, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from inventory.config import PROJECT_ROOT, Settings
from inventory.driver_pool import CompiledRead, DriverPool

log = logging.getLogger(__name__)


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


ALEMBIC_DIR = PROJECT_ROOT / "alembic"


class DatabaseNotMigratedError(RuntimeError):
    """The database schema is missing or older than the code."""


class DatabaseUnavailableError(RuntimeError):
    """The database cannot be reached."""


def _sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions on its own, so that `begin` below decides
        # between a deferred and an immediate transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes the write lock at BEGIN. A deferred transaction that reads
    # first and writes later fails at once with "database is locked" when another writer
    # committed in between, and the busy timeout does not help in that case.
    options = connection.get_execution_options()
    if options.get("sqlite_autocommit", False):
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate") else "BEGIN")


class Database:
    """The engine of one process and the transactions services run in."""

    def __init__(self, settings: Settings, *, pool: bool = True) -> None:
        self.settings = settings
        self.url = make_url(settings.database_url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(pool=pool)
        # The same pool, for single statements that need no transaction around them.
        self._autocommit_engine = self.engine.execution_options(
            **({"sqlite_autocommit": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"})
        )
        # A worker's bare driver connections for `fetch`. One-off commands (no pool) have
        # none, nor has an in-memory SQLite database, which another connection cannot see.
        self._driver_pool: DriverPool | None = None
        if pool and self.url.database not in (None, "", ":memory:"):
            self._driver_pool = DriverPool(
                self.url, settings.db_pool_size, settings.sqlite_busy_timeout_ms
            )
        self._compiled: dict[Select, CompiledRead] = {}

    def _create_engine(self, *, pool: bool) -> AsyncEngine:
        options: dict[str, Any] = {}
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": self.settings.sqlite_busy_timeout_ms / 1000}
        elif pool:
            options["pool_size"] = self.settings.db_pool_size
            options["max_overflow"] = self.settings.db_pool_size
            options["pool_pre_ping"] = True
        if not pool:
            options["poolclass"] = NullPool
        if not self.is_sqlite:
            # Set, not left to the server's default: the reference triggers on PostgreSQL
            # catch a delete racing a new reference only under READ COMMITTED.
            options["isolation_level"] = "READ COMMITTED"

        engine = create_async_engine(self.url, **options)
        if self.is_sqlite:
            event.listen(
                engine.sync_engine,
                "connect",
                _sqlite_pragmas(self.settings.sqlite_busy_timeout_ms),
            )
            event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reading; nothing it does is committed."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            yield session

    async def fetch(self, statement: Select, **values: Any) -> list[Any]:
        """Run one SELECT outside any transaction and return its rows.

        For the reads every request makes (who is signed in, the device a scan names).
        `statement` must be built once, at import, with `bindparam` for each of `values`:
        it is compiled once per database. A serving worker runs it through its bare driver
        connections (inventory.driver_pool), anything else through SQLAlchemy; the rows
        have the same values either way. Use `read` when several statements must agree.
        """
        if self._driver_pool is None:
            async with self._autocommit_engine.connect() as connection:
                return list(await connection.execute(statement, values))
        read = self._compiled.get(statement)
        if read is None:
            read = self._compiled[statement] = CompiledRead(statement, self.engine.dialect)
        try:
            return await self._driver_pool.fetch(read, values)
        except (
            OSError,
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            # Seen once on a pooled connection whose server process had been terminated.
            asyncpg.InternalClientError,
        ) as exc:
            raise DatabaseUnavailableError(_first_line(exc)) from exc
        except asyncpg.exceptions.OperatorInterventionError as exc:
            # The server is shutting down or not yet accepting connections.
            raise DatabaseUnavailableError(_first_line(exc)) from exc
        except sqlite3.OperationalError as exc:
            # "database is locked" past the busy timeout, or the file cannot be opened.
            raise DatabaseUnavailableError(_first_line(exc)) from exc
        except asyncpg.DataError as exc:
            raise DataError(read.sql, None, exc) from exc

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Open a transaction that commits when the block ends and rolls back on any error."""
        async with self.engine.connect() as connection:
            if self.is_sqlite:
                await connection.execution_options(sqlite_immediate=True)
            session = AsyncSession(bind=connection, expire_on_commit=False)
            async with session, session.begin():
                yield session

    async def dispose(self) -> None:
        if self._driver_pool is not None:
            await self._driver_pool.close()
        await self.engine.dispose()

    async def ping(self) -> None:
        """Run one query, and raise DatabaseUnavailableError when the database does not respond."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (OSError, OperationalError, DBAPIError) as exc:
            raise DatabaseUnavailableError(str(exc).splitlines()[0]) from exc

    async def check_migrated(self) -> None:
        """Raise DatabaseNotMigratedError unless the schema is at the newest migration."""
        from inventory.migrations import current_revision, head_revision

        head = head_revision()
        current = await current_revision(self.engine)
        if current != head:
            where = self.settings.database_url
            if self.url.password:
                where = self.url.render_as_string(hide_password=True)
            state = "has no schema" if current is None else f"is at revision {current}"
            raise DatabaseNotMigratedError(
                f"The database {where} {state}, but the code needs revision {head}. "
                "Run `inventory db upgrade` first."
            )
