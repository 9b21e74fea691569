"""Bare driver connections for the reads every request makes.

Who is signed in, and the device a scan names, are looked up on every request. Through an
SQLAlchemy connection each lookup cost about half a millisecond of Python around a query
that takes a tenth of that, so a worker served a quarter of what the framework can. These
reads go straight to sqlite3, on the event loop's thread, or to asyncpg instead. The SELECT
is still written with SQLAlchemy and compiled once per database. Its parameters and results
go through the type conversions SQLAlchemy applies, so callers get the same values either
way.

The connections here only read. On SQLite each one is opened with `query_only`, on
PostgreSQL with `default_transaction_read_only`. Errors
come out as the driver raises them; inventory.db turns them into the service's own.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.engine import URL, Dialect
from sqlalchemy.sql import Select

# How long a read on the event loop's thread waits for a locked SQLite database before it
# moves to a connection thread, where it waits up to the configured busy timeout.
INLINE_BUSY_TIMEOUT_S = 0.05


class CompiledRead:
    """A SELECT compiled for one database, with the conversions of its parameters and columns."""

    def __init__(self, statement: Select, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        binds = compiled.binds
        # Each parameter's name, whether the caller must give it, its value when the
        # statement fixed one (a literal that SQLAlchemy made a parameter), and its conversion.
        self._parameters: list[tuple[str, bool, Any, Callable[[Any], Any] | None]] = [
            (
                name,
                binds[name].required,
                binds[name].effective_value,
                binds[name].type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name in compiled.positiontup or []
        ]
        columns = list(statement.selected_columns)
        self._row: Any = namedtuple("Row", [column.key for column in columns])  # type: ignore[misc]
        results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        # Only the columns that need a conversion are touched in each row.
        self._conversions = [
            (index, convert) for index, convert in enumerate(results) if convert is not None
        ]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        arguments = []
        for name, required, fixed, convert in self._parameters:
            value = values[name] if required else values.get(name, fixed)
            arguments.append(convert(value) if convert else value)
        return arguments

    def row(self, raw: Sequence[Any]) -> Any:
        if not self._conversions:
            return self._row._make(raw)
        values = list(raw)
        for index, convert in self._conversions:
            values[index] = convert(values[index])
        return self._row._make(values)


async def _decode_json(connection: asyncpg.Connection) -> None:
    # SQLAlchemy's asyncpg dialect has the driver decode JSON columns and its JSON type
    # passes them on unchanged, so these connections decode them the same way.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


async def _keep_session(connection: asyncpg.Connection) -> None:
    # asyncpg resets a connection's session (locks, cursors, settings) each time it goes
    # back to the pool, one more round trip per read. These connections run single
    # read-only SELECTs, which leave nothing to reset.
    del connection


class DriverPool:
    """Read-only driver connections of one worker, opened when first needed.

    On SQLite, one sqlite3 connection for reads on the event loop's thread, and one aiosqlite
    connection for reads that find the database locked. On PostgreSQL, a pool of at most
    `size` connections.
    """

    def __init__(self, url: URL, size: int, busy_timeout_ms: int) -> None:
        self.url = url
        self.size = size
        self.is_sqlite = url.get_backend_name() == "sqlite"
        self._busy_timeout_s = busy_timeout_ms / 1000
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inline: sqlite3.Connection | None = None
        self._sqlite: aiosqlite.Connection | None = None
        self._postgres: asyncpg.Pool | None = None
        self._starting = asyncio.Lock()

    def _bind_to_running_loop(self) -> None:
        # The connections belong to one event loop, so a Database used from another loop (a
        # second asyncio.run in a command) starts over.
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._close_inline()
            self._sqlite = None
            self._postgres = None
            self._starting = asyncio.Lock()

    async def fetch(self, read: CompiledRead, values: dict[str, Any]) -> list[Any]:
        self._bind_to_running_loop()
        arguments = read.arguments(values)
        if self.is_sqlite:
            raw_rows = await self._fetch_sqlite(read.sql, arguments)
        else:
            raw_rows = await self._fetch_postgres(read.sql, arguments)
        return [read.row(raw) for raw in raw_rows]

    async def _fetch_sqlite(self, sql: str, arguments: list[Any]) -> list[Any]:
        # The reads here look up a few rows by index, in a fraction of a millisecond, so they
        # run on the event loop's thread. With 32 clients on a 2-core machine, a worker served
        # 1.7 times the lookups that it served when each read went to aiosqlite's thread.
        if self._inline is None:
            self._inline = self._open_inline()
        try:
            return self._inline.execute(sql, arguments).fetchall()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        # The database was locked for longer than a read may hold up the event loop, as while
        # another connection recovers the WAL after a crash. The read waits on aiosqlite's
        # thread instead, up to the busy timeout. All of these reads share one connection.
        if self._sqlite is None:
            async with self._starting:
                if self._sqlite is None:
                    self._sqlite = await self._open_sqlite()
        return list(await self._sqlite.execute_fetchall(sql, arguments))

    def _open_inline(self) -> sqlite3.Connection:
        # check_same_thread is off because close() may run on a thread other than the reads'.
        connection = sqlite3.connect(
            self.url.database or "",
            timeout=INLINE_BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            connection.execute("PRAGMA query_only=ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def _close_inline(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None

    async def _open_sqlite(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(
            self.url.database or "", timeout=self._busy_timeout_s, isolation_level=None
        )
        try:
            await connection.execute("PRAGMA query_only=ON")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _fetch_postgres(self, sql: str, arguments: list[Any]) -> list[Any]:
        if self._postgres is None:
            async with self._starting:
                if self._postgres is None:
                    # The URL's query (sslmode and the like) carries over in the DSN.
                    dsn = self.url.set(drivername="postgresql").render_as_string(
                        hide_password=False
                    )
                    self._postgres = await asyncpg.create_pool(
                        dsn,
                        min_size=1,
                        max_size=self.size,
                        init=_decode_json,
                        reset=_keep_session,
                        server_settings={"default_transaction_read_only": "on"},
                    )
        return list(await self._postgres.fetch(sql, *arguments))

    async def close(self) -> None:
        self._close_inline()
        if self._sqlite is not None:
            await self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()
        self._sqlite = None
        self._postgres = None
        self._loop = None
