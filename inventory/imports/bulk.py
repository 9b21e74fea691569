"""Bulk writes of devices, events and warranty coverages inside the session's transaction.

Rows go to the database driver as plain tuples, not ORM objects: SQLite gets one
`executemany` per table and chunk, PostgreSQL gets asyncpg's binary COPY
(`copy_records_to_table`). Both run on the connection of the caller's open transaction, so
a rollback removes them like any other write. Device ids are taken before the rows are
written, because each event's hash covers its device id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

DEVICE_COLUMNS = (
    "id",
    "asset_tag",
    "serial_number",
    "manufacturer_key",
    "model_id",
    "site_id",
    "state",
    "room",
    "assignee",
    "purchase_date",
    "warranty_start",
    "warranty_end",
    "operating_system",
    "version",
    "state_changed_at",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = (
    "device_id",
    "sequence",
    "action",
    "from_state",
    "to_state",
    "technician_id",
    "technician_name",
    "actor",
    "actor_user_id",
    "site_id",
    "visit_id",
    "occurred_at",
    "recorded_at",
    "notes",
    "data",
    "request_id",
    "idempotency_key",
    "prev_hash",
    "hash",
)
COVERAGE_COLUMNS = (
    "device_id",
    "kind",
    "vendor_id",
    "start_date",
    "end_date",
    "months",
    "reference",
    "created_at",
    "created_by",
)
# Columns an import may change on an existing device, then its version and the row's id.
UPDATE_COLUMNS = (
    "asset_tag",
    "serial_number",
    "manufacturer_key",
    "model_id",
    "site_id",
    "room",
    "assignee",
    "purchase_date",
    "warranty_start",
    "warranty_end",
    "operating_system",
    "version",
    "updated_at",
)


def _sqlite_value(value: Any) -> Any:
    # The same text SQLAlchemy's SQLite types store: naive UTC instants with microseconds,
    # ISO dates, and JSON documents as text.
    if isinstance(value, datetime):
        return sqlite_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return value


def sqlite_instant(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


@lru_cache(maxsize=4096)
def _iso_day(value: date) -> str:
    # Imports repeat a few purchase and warranty dates over many rows.
    return value.isoformat()


class BulkWriter:
    """Writes plain rows through the driver connection of an open transaction."""

    def __init__(self, session: AsyncSession, is_sqlite: bool) -> None:
        self.session = session
        self.is_sqlite = is_sqlite
        # Name of the PostgreSQL sequence behind devices.id, looked up on first use.
        self._device_sequence: str | None = None
        # On SQLite, the next free device id, once read.
        self._next_device_id: int | None = None

    # Converters of values to what the driver takes, applied while rows are built so that
    # `insert` passes them on untouched.

    def instant(self, value: datetime) -> Any:
        return sqlite_instant(value) if self.is_sqlite else value

    def day(self, value: date | None) -> Any:
        if value is None or not self.is_sqlite:
            return value
        return _iso_day(value)

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def allocate_device_ids(self, count: int) -> list[int]:
        """Reserve `count` new device ids.

        On SQLite the transaction holds the write lock from its start, so the ids above the
        largest one are free, and ids drawn earlier need not be written yet. On PostgreSQL
        they come from the table's sequence.
        """
        if count == 0:
            return []
        if self.is_sqlite:
            if self._next_device_id is None:
                largest = await self.session.scalar(
                    text("SELECT coalesce(max(id), 0) FROM devices")
                )
                self._next_device_id = int(largest or 0) + 1
            first = self._next_device_id
            self._next_device_id += count
            return list(range(first, first + count))
        if self._device_sequence is None:
            self._device_sequence = await self.session.scalar(
                text("SELECT pg_get_serial_sequence('devices', 'id')")
            )
        # The sequence is bound as a regclass parameter, which is converted once, because
        # pg_get_serial_sequence in the query would run for every id. The ids come back as
        # one array, because thousands of rows would each go through result handling.
        driver = await self._driver()
        ids = await driver.fetchval(
            "SELECT array_agg(nextval($1::regclass)) FROM generate_series(1, $2)",
            self._device_sequence,
            count,
        )
        return list(ids)

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert rows whose values went through `instant`, `day` and `document` already."""
        if not rows:
            return
        driver = await self._driver()
        if self.is_sqlite:
            placeholders = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608 (fixed names)
            await driver.executemany(sql, rows)
            return
        await driver.copy_records_to_table(table, records=rows, columns=list(columns))

    async def update_devices(self, rows: list[tuple]) -> None:
        """Apply UPDATE_COLUMNS values, each row ending with the device id and its old version.

        A device changed by someone else since it was read has a newer version, so its update
        matches no row, and the import's event for it then collides with that change's event
        on (device_id, sequence), which fails the whole import.
        """
        if not rows:
            return
        driver = await self._driver()
        if self.is_sqlite:
            assignments = ", ".join(f"{name} = ?" for name in UPDATE_COLUMNS)
            sql = f"UPDATE devices SET {assignments} WHERE id = ? AND version = ?"  # noqa: S608 (fixed names)
            await driver.executemany(sql, [tuple(map(_sqlite_value, row)) for row in rows])
            return
        assignments = ", ".join(
            f"{name} = ${number}" for number, name in enumerate(UPDATE_COLUMNS, start=1)
        )
        count = len(UPDATE_COLUMNS)
        sql = f"UPDATE devices SET {assignments} WHERE id = ${count + 1} AND version = ${count + 2}"  # noqa: S608 (fixed names)
        await driver.executemany(sql, rows)

    async def mark_reservations_used(self, tags: list[str], used_at: datetime) -> None:
        """Mark reserved asset tags as used, as receiving a device one at a time does."""
        if not tags:
            return
        await self.session.execute(
            text(
                "UPDATE tag_reservations SET used_at = :used_at "
                "WHERE asset_tag = :tag AND used_at IS NULL"
            ),
            [
                {"used_at": _sqlite_value(used_at) if self.is_sqlite else used_at, "tag": tag}
                for tag in tags
            ],
        )
