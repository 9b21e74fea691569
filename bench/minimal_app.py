"""The baseline of the HTTP scan benchmark: one Litestar route running the lookup query
through the bare driver (aiosqlite or asyncpg), with no ORM, access rules or middleware.

Served by bench/scan_http.py with `uvicorn bench.minimal_app:app`; the database comes from
BENCH_DATABASE_URL (an SQLAlchemy-style URL, as the service takes).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from sqlalchemy.engine import make_url

from bench.__main__ import LOOKUP_SQL

COLUMNS = [
    "asset_tag",
    "serial_number",
    "state",
    "room",
    "assignee",
    "warranty_start",
    "warranty_end",
    "manufacturer",
    "model",
    "device_type",
    "end_of_support",
    "site_code",
    "site_name",
]


@asynccontextmanager
async def _connect(app: Litestar) -> AsyncIterator[None]:
    url = make_url(os.environ["BENCH_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        app.state.sqlite = await aiosqlite.connect(url.database)
        app.state.sql = LOOKUP_SQL.format(placeholder="?")
        try:
            yield
        finally:
            await app.state.sqlite.close()
        return
    app.state.pool = await asyncpg.create_pool(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        min_size=4,
        max_size=10,
    )
    app.state.sql = LOOKUP_SQL.format(placeholder="$1")
    try:
        yield
    finally:
        await app.state.pool.close()


@get("/raw/{asset_tag:str}")
async def lookup(state: State, asset_tag: str) -> dict[str, Any]:
    if "sqlite" in state:
        async with state.sqlite.execute(state.sql, (asset_tag,)) as cursor:
            row = await cursor.fetchone()
    else:
        row = await state.pool.fetchrow(state.sql, asset_tag)
    if row is None:
        raise NotFoundException(f"Device {asset_tag} not found.")
    return dict(zip(COLUMNS, tuple(row), strict=True))


app = Litestar(route_handlers=[lookup], lifespan=[_connect])
