"""Import a device file in one transaction: every row is created, updated, left unchanged or
rejected, and nothing is written unless no row is rejected.

The file is read in chunks. Each chunk is checked against the rows before it and against the
database, and its rows are built and handed to the database while the next chunks are read
and checked. The database steps (the lookups of a chunk, its writes, the rare queries of a
check) run one after another on the transaction's connection, in the order they were asked
for (`_Turns`). The lookups of a chunk are asked for before the writes of the chunk before
it, so that they are done when the chunk is checked. The rows of that chunk are not in the
database yet when they run, so they are checked from memory. Once a row is rejected, later
chunks are only checked, so the report still covers every row, and the transaction is
rolled back at the end. A process killed halfway leaves an uncommitted transaction, which
the database discards.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sqlite3
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache, partial
from itertools import islice
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.audit import EventHasher, encode_value
from inventory.db import Database
from inventory.devices import service as device_service
from inventory.devices.models import Device, DeviceEvent, DeviceModel, TagReservation
from inventory.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    ServiceError,
    StorageFullError,
)
from inventory.escalations.service import CoverageInput, coverage_input
from inventory.imports import values
from inventory.imports.bulk import COVERAGE_COLUMNS, DEVICE_COLUMNS, EVENT_COLUMNS, BulkWriter
from inventory.imports.device_rows import DeviceRow, DeviceRowParser, RowRules
from inventory.imports.formats import device_format, map_columns
from inventory.imports.reading import Table
from inventory.imports.report import (
    CREATED,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportReport,
    RowResult,
)
from inventory.lifecycle import State
from inventory.logs import request_id_var
from inventory.reports import summary as report_summary
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.technicians.service import find_active_technician
from inventory.timeutil import district_today
from inventory.types import utc_now

log = logging.getLogger(__name__)

# A file names few models and manufacturers over many rows, so their match keys are cached.
_model_key = lru_cache(maxsize=4096)(device_service.model_match_key)
_name_key = lru_cache(maxsize=4096)(device_service.normalize_name)

CHUNK_ROWS = 10_000
# Bulk rows go through the driver, so its own constraint errors arrive unwrapped.
_INTEGRITY_ERRORS = (
    IntegrityError,
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)
# Errors a write may fail with, from the driver or wrapped by SQLAlchemy.
_WRITE_ERRORS = (DBAPIError, sqlite3.Error, asyncpg.PostgresError)


def _database_error(exc: BaseException) -> str:
    """Return the first line of a database error, with PostgreSQL's detail line naming the
    key."""
    lines = str(exc).splitlines()
    detail = next((line.strip() for line in lines if line.startswith("DETAIL:")), None)
    first = lines[0] if lines else type(exc).__name__
    return f"{first}; {detail.removeprefix('DETAIL:').strip()}" if detail else first


def _disk_full(exc: BaseException) -> bool:
    """Tell whether a write failed because the database's disk is full."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, asyncpg.DiskFullError) or getattr(cause, "sqlstate", None) == "53100":
        return True
    # SQLite reports it as an OperationalError, which covers other failures too.
    return isinstance(cause, sqlite3.OperationalError) and "disk is full" in str(cause)


_RECEIVED = State.RECEIVED.value


@dataclass(frozen=True)
class DeviceImportOptions:
    format: str = "auto"
    # Site code every row is imported at, in place of the file's own site column.
    site: str | None = None
    # A strptime format for dates that are not YYYY-MM-DD, such as %m/%d/%y.
    date_format: str | None = None
    # "tag" or "serial": update the device with that asset tag or serial number.
    update_by: str | None = None
    dry_run: bool = False
    # Prefix of generated asset tags for rows that have none.
    generate_tags: str | None = None
    # Employee number of the technician the events name.
    technician: str | None = None


class _Rollback(Exception):
    """Raised inside the transaction to discard everything it wrote."""


@dataclass
class _Existing:
    id: int
    asset_tag: str
    serial_number: str
    manufacturer_key: str
    model_id: int
    site_id: int
    state: str
    room: str | None
    assignee: str | None
    purchase_date: date | None
    warranty_start: date | None
    warranty_end: date | None
    operating_system: str | None
    version: int


@dataclass
class _Context:
    """Reference data the rows are checked against: sites, models, earlier rows, the people."""

    sites: dict[str, int]
    models: dict[str, tuple[int, str]]
    technician: Technician
    actor_name: str
    actor_user_id: int | None
    options: DeviceImportOptions
    format_name: str
    source: str
    now: datetime
    today: date
    is_sqlite: bool
    # Rows written into the open transaction are found again by the database lookups, so
    # only accepted rows that were not written (a dry run, or rows after a rejection) are
    # kept here, with their line, to find later duplicates.
    # NOTE: a dry run keeps every row's asset tag and serial number here, and so does an
    # import for the rows after its first rejected one. Only a written import stays flat.
    seen_tags: dict[str, int] = field(default_factory=dict)
    seen_serials: dict[tuple[str, str], int] = field(default_factory=dict)
    # Tags and serial keys of the last chunks handed to the database. A chunk's lookups run
    # before the chunk before it is written, so they cannot find its rows.
    recent: deque[tuple[dict[str, int], dict[tuple[str, str], int]]] = field(
        default_factory=lambda: deque(maxlen=2)
    )
    # For each chunk handed to the database, in order, whether it updates devices.
    writes: list[bool] = field(default_factory=list)
    # Ids of the devices this import created, as runs of consecutive ids by their first and
    # last id. Another import drawing from the sequence at the same time takes ids between
    # them, so runs, not the lowest and highest id, tell the two imports' devices apart.
    created_firsts: list[int] = field(default_factory=list)
    created_lasts: list[int] = field(default_factory=list)
    # The devices this import updated, with the line that did.
    updated_lines: dict[int, int] = field(default_factory=dict)
    # The asset tag and serial key each device updated by this import has after it.
    renamed: dict[int, tuple[str, tuple[str, str]]] = field(default_factory=dict)

    def add_created(self, ids: list[int]) -> None:
        firsts, lasts = self.created_firsts, self.created_lasts
        for device_id in sorted(ids):
            if lasts and device_id == lasts[-1] + 1:
                lasts[-1] = device_id
            elif not lasts or device_id > lasts[-1]:
                firsts.append(device_id)
                lasts.append(device_id)
            else:
                # Ids drawn later are larger; this keeps the runs in order if one is not.
                index = bisect_left(firsts, device_id)
                firsts.insert(index, device_id)
                lasts.insert(index, device_id)

    def created_here(self, device_id: int) -> bool:
        index = bisect_right(self.created_firsts, device_id) - 1
        return index >= 0 and device_id <= self.created_lasts[index]

    def still_has(
        self, device: _Existing, tag: str | None, serial_key: tuple[str, str] | None
    ) -> bool:
        """Return whether `device` still has the tag or serial key it was found by, after the
        updates this import planned so far."""
        now = self.renamed.get(device.id)
        if now is None:
            return True
        return now[0] == tag if tag is not None else now[1] == serial_key

    def earlier_tag(self, tag: str) -> int | None:
        for tags, _ in self.recent:
            if tag in tags:
                return tags[tag]
        return self.seen_tags.get(tag)

    def earlier_serial(self, key: tuple[str, str]) -> int | None:
        for _, serials in self.recent:
            if key in serials:
                return serials[key]
        return self.seen_serials.get(key)

    new_models: list[str] = field(default_factory=list)
    next_model_id: int = -1
    # Summary table changes of the chunks written so far, written once before the commit.
    summary: report_summary.SummaryChanges = field(default_factory=report_summary.SummaryChanges)


# A chunk's rows as (line, checked row or None, key, problems).
_Parsed = list[tuple[int, DeviceRow | None, str, list[str]]]
# Rows parsed or built between two turns of the event loop, so that a database step waiting
# to send its next statement gets to it within a few milliseconds.
_SLICE_ROWS = 200


async def _parse_chunk(rows: Iterator[tuple[int, list[Any]]], parser: DeviceRowParser) -> _Parsed:
    """Read and check the next chunk of rows; an empty list at the end of the file.

    The rows are parsed in slices with a turn of the event loop between them, so a write
    sends each statement as soon as the database has finished the one before, and a serving
    worker handles other requests meanwhile. PostgreSQL
    runs the statements in its own process and aiosqlite in its own thread, so parsing and
    writing can use two cores at once.
    """
    parse = parser.parse
    parsed: _Parsed = []
    while len(parsed) < CHUNK_ROWS:
        size = min(_SLICE_ROWS, CHUNK_ROWS - len(parsed))
        part = [(line, *parse(line, cells)) for line, cells in islice(rows, size)]
        if not part:
            break
        parsed.extend(part)
        await asyncio.sleep(0)
    return parsed


_T = TypeVar("_T")


class _Turns:
    """Runs the import's database steps one at a time, in the order they were asked for.

    The transaction's connection takes one statement at a time. A step asked for while
    others wait starts when the last of them ends; if that one failed, the step raises its
    error instead. So every later step, and every caller awaiting one, sees the first failure.
    """

    def __init__(self) -> None:
        self._last: asyncio.Task[Any] | None = None

    def start(self, step: Callable[[], Awaitable[_T]]) -> asyncio.Task[_T]:
        previous = self._last

        async def run() -> _T:
            if previous is not None:
                await asyncio.wait([previous])
                if previous.cancelled():
                    raise asyncio.CancelledError
                error = previous.exception()
                if error is not None:
                    raise error
            return await step()

        task = asyncio.create_task(run())
        self._last = task
        return task

    @staticmethod
    async def wait(task: asyncio.Task[_T]) -> _T:
        """Await a step. Cancelling the caller does not cancel the step: it keeps the
        connection until its statement ends, and `settle` waits for it."""
        return await asyncio.shield(task)

    async def run(self, step: Callable[[], Awaitable[_T]]) -> _T:
        return await self.wait(self.start(step))

    async def finish(self) -> None:
        """Wait for every step asked for, and raise the first failure among them."""
        if self._last is not None:
            await self.wait(self._last)

    async def settle(self) -> None:
        """Wait for every step asked for, so the connection is idle for the rollback.

        A failure in hand is the one raised, so the last step's own error is only
        retrieved, which keeps asyncio from logging it.
        """
        last = self._last
        if last is not None:
            await asyncio.wait([last])
            if not last.cancelled():
                last.exception()


async def _acting(
    session: AsyncSession, actor: Principal | None, requested: str | None
) -> tuple[Technician, str, int | None]:
    """Return the technician the events name and the importing user's name and id."""
    if actor is not None and actor.role is Role.TECHNICIAN:
        if requested and requested.strip() != actor.technician_number:
            raise ForbiddenError(
                f"Technicians import as themselves; user {actor.username!r} is technician "
                f"{actor.technician_number!r}, not {requested.strip()!r}."
            )
        requested = actor.technician_number
    elif actor is not None and not actor.is_admin:
        raise ForbiddenError("Only admins and technicians may import devices.")
    if not requested:
        raise InvalidInputError(
            "Name the technician who took this inventory (their employee number); every "
            "imported device's first event records it.",
            fields={"technician": "required"},
        )
    technician = await find_active_technician(session, requested)
    if actor is not None:
        return technician, actor.username, actor.user_id
    return technician, f"{getpass.getuser()} (command line)", None


async def _load_context(
    session: AsyncSession,
    db: Database,
    options: DeviceImportOptions,
    actor: Principal | None,
    format_name: str,
    source: str,
) -> _Context:
    technician, actor_name, actor_user_id = await _acting(session, actor, options.technician)
    sites = {code: site_id for site_id, code in await session.execute(select(Site.id, Site.code))}
    if options.site is not None and options.site.strip() not in sites:
        raise InvalidInputError(
            f"Site {options.site.strip()!r} not found; create it or import the sites first.",
            site=options.site.strip(),
        )
    models = {
        key: (model_id, manufacturer)
        for model_id, key, manufacturer in await session.execute(
            select(DeviceModel.id, DeviceModel.match_key, DeviceModel.manufacturer)
        )
    }
    now = utc_now()
    return _Context(
        sites=sites,
        models=models,
        technician=technician,
        actor_name=actor_name,
        actor_user_id=actor_user_id,
        options=options,
        format_name=format_name,
        source=source,
        now=now,
        today=district_today(db.settings.zone, now),
        is_sqlite=db.is_sqlite,
    )


# Columns of _Existing, in its field order.
_EXISTING_COLUMNS: list[Any] = [
    Device.id,
    Device.asset_tag,
    Device.serial_number,
    Device.manufacturer_key,
    Device.model_id,
    Device.site_id,
    Device.state,
    Device.room,
    Device.assignee,
    Device.purchase_date,
    Device.warranty_start,
    Device.warranty_end,
    Device.operating_system,
    Device.version,
]


def _one_of(column: Any, keys: list[Any], is_sqlite: bool) -> Any:
    """Build `column IN (keys)` with all keys in one bound parameter.

    A chunk's thousands of keys would otherwise be one parameter each, which SQLAlchemy
    renders again on every execution and which exceed SQLite's parameter limit. SQLite
    reads the keys from a JSON array with json_each, PostgreSQL from an array with = ANY.
    """
    if is_sqlite:
        values = func.json_each(literal(json.dumps(keys))).table_valued("value")
        return column.in_(select(values.c.value))
    return column == any_(literal(keys, ARRAY(column.type)))


async def _existing_devices(
    session: AsyncSession, column: Any, keys: list[str], is_sqlite: bool
) -> list[_Existing]:
    if not keys:
        return []
    rows = await session.execute(select(*_EXISTING_COLUMNS).where(_one_of(column, keys, is_sqlite)))
    return [_Existing(*row) for row in rows]


@dataclass
class _Found:
    """Devices the database has for one chunk's rows, and ids for the devices it may create."""

    by_tag: dict[str, _Existing]
    by_serial: dict[tuple[str, str], _Existing]
    ids: list[int]
    # Chunks handed to the database before these lookups were asked for.
    writes_before: int


async def _look_up(
    session: AsyncSession,
    context: _Context,
    writer: BulkWriter,
    parsed: _Parsed,
    writes_before: int,
    new_ids: bool,
) -> _Found:
    """Find the devices a chunk's rows name, by asset tag and by serial number.

    With `new_ids`, ids are also drawn for the rows whose asset tag no device has.
    """
    rows = [row for _, row, _, _ in parsed if row is not None]
    by_tag = {
        device.asset_tag: device
        for device in await _existing_devices(
            session, Device.asset_tag, sorted({row.asset_tag for row in rows}), context.is_sqlite
        )
    }
    serials = await _existing_devices(
        session,
        Device.serial_number,
        sorted({row.serial_number for row in rows}),
        context.is_sqlite,
    )
    ids: list[int] = []
    if new_ids:
        # A row whose tag a device has updates it or is rejected, so this is the maximum.
        ids = await writer.allocate_device_ids(
            sum(1 for row in rows if row.asset_tag not in by_tag)
        )
    return _Found(
        by_tag=by_tag,
        by_serial={(device.manufacturer_key, device.serial_number): device for device in serials},
        ids=ids,
        writes_before=writes_before,
    )


async def _model_id(session: AsyncSession, turns: _Turns, context: _Context, row: DeviceRow) -> int:
    """Return the row's model id, creating the model the first time it is named."""
    key = _model_key(row.manufacturer, row.model)
    known = context.models.get(key)
    if known is not None:
        return known[0]
    if context.options.dry_run:
        model_id = context.next_model_id
        context.next_model_id -= 1
    else:
        model = DeviceModel(
            manufacturer=row.manufacturer,
            model=row.model,
            match_key=key,
            device_type=row.device_type or "other",
            operating_system=row.operating_system,
            end_of_support=row.end_of_support,
            end_of_support_precision="day" if row.end_of_support else None,
        )
        session.add(model)
        await turns.run(session.flush)
        assert model.id is not None
        model_id = model.id
    context.models[key] = (model_id, row.manufacturer)
    context.new_models.append(f"{row.manufacturer} {row.model}")
    return model_id


def _coverage(row: DeviceRow, today: date) -> CoverageInput | None:
    if row.warranty_end is None and row.warranty_months is None:
        return None
    start = row.warranty_start or row.purchase_date or today
    return _base_coverage(start, row.warranty_end, row.warranty_months)


# Rows of a file repeat a few warranty periods, and CoverageInput is immutable.
@lru_cache(maxsize=4096)
def _base_coverage(start: date, end: date | None, months: int | None) -> CoverageInput:
    return coverage_input("base", start, end, months)


@dataclass
class _Planned:
    """Rows of one chunk ready to be written."""

    creates: list[tuple[DeviceRow, int, int, str, CoverageInput | None]] = field(
        default_factory=list
    )
    updates: list[tuple[DeviceRow, _Existing, dict[str, Any], CoverageInput | None]] = field(
        default_factory=list
    )
    # Asset tags and serial keys accepted in this chunk, and the devices it updates, by line.
    tags: dict[str, int] = field(default_factory=dict)
    serials: dict[tuple[str, str], int] = field(default_factory=dict)
    updated_lines: dict[int, int] = field(default_factory=dict)


def _written_earlier(context: _Context, device_id: int) -> bool:
    return context.created_here(device_id) or device_id in context.updated_lines


async def _line_of(
    session: AsyncSession, turns: _Turns, context: _Context, device_id: int
) -> int | None:
    """Return the file line that created or updated a device earlier in this import.

    None when the device is not this import's: on PostgreSQL another writer's device may
    take an id inside the range this import drew from the sequence.
    """
    if device_id in context.updated_lines:
        return context.updated_lines[device_id]
    query = select(DeviceEvent.data).where(
        DeviceEvent.device_id == device_id, DeviceEvent.sequence == 1
    )
    data = await turns.run(partial(session.scalar, query))
    return (data or {}).get("line")


def _changes(
    row: DeviceRow, existing: _Existing, model_id: int, site_id: int, manufacturer_key: str
) -> dict[str, Any]:
    """Return the fields the row changes, as {name: new value}; empty cells change nothing."""
    row_values: dict[str, Any] = {
        "asset_tag": row.asset_tag,
        "serial_number": row.serial_number,
        "manufacturer_key": manufacturer_key,
        "model_id": model_id,
        "site_id": site_id,
        "room": row.room,
        "assignee": row.assignee,
        "purchase_date": row.purchase_date,
        "operating_system": row.operating_system,
    }
    return {
        name: value
        for name, value in row_values.items()
        if value is not None and value != getattr(existing, name)
    }


async def _plan_chunk(
    session: AsyncSession,
    turns: _Turns,
    context: _Context,
    parsed: _Parsed,
    found: _Found,
    report: ImportReport,
) -> _Planned:
    by_tag = found.by_tag
    by_serial = found.by_serial
    planned = _Planned()
    local_tags = planned.tags
    local_serials = planned.serials
    update_by = context.options.update_by
    file_site = context.options.site.strip() if context.options.site else None
    for number, (line, row, key, problems) in enumerate(parsed, start=1):
        if number % _SLICE_ROWS == 0:
            # A turn of the event loop lets a write of an earlier chunk send its next
            # statement.
            await asyncio.sleep(0)
        if row is None:
            report.add(RowResult(line, key, REJECTED, tuple(problems)))
            continue
        site_code = file_site or row.site
        site_id = context.sites.get(site_code or "")
        if site_id is None:
            problems.append(
                f"site {site_code!r} not found; import the sites first or give one site for "
                "the whole file."
                if site_code
                else "site is missing; give one site for the whole file or fill the column."
            )
        manufacturer_key = _name_key(row.manufacturer)
        known_model = context.models.get(_model_key(row.manufacturer, row.model))
        if known_model is not None:
            # Serial numbers are unique per manufacturer as the catalog spells it.
            manufacturer_key = _name_key(known_model[1])
        serial_key = (manufacturer_key, row.serial_number)

        earlier_tag = local_tags.get(row.asset_tag) or context.earlier_tag(row.asset_tag)
        earlier_serial = local_serials.get(serial_key) or context.earlier_serial(serial_key)
        same_tag = by_tag.get(row.asset_tag)
        same_serial = by_serial.get(serial_key)
        # A device that an earlier row gave a new tag or serial number no longer has the old one.
        if same_tag is not None and not context.still_has(same_tag, row.asset_tag, None):
            same_tag = None
        if same_serial is not None and not context.still_has(same_serial, None, serial_key):
            same_serial = None
        # A row without a tag that updates the device with its serial number keeps that
        # device's tag; the tag generated for it names nothing.
        keeps_tag = row.tag_generated and update_by == "serial" and same_serial is not None
        if keeps_tag:
            same_tag = None
            earlier_tag = None
        # A device this import wrote or updated earlier is an earlier line of the file.
        if same_tag is not None and _written_earlier(context, same_tag.id):
            line_before = await _line_of(session, turns, context, same_tag.id)
            if line_before is not None:
                earlier_tag = earlier_tag or line_before
                same_tag = None
        if same_serial is not None and _written_earlier(context, same_serial.id):
            line_before = await _line_of(session, turns, context, same_serial.id)
            if line_before is not None:
                earlier_serial = earlier_serial or line_before
                same_serial = None
        if earlier_tag is not None:
            problems.append(f"asset tag {row.asset_tag!r} is also on line {earlier_tag}.")
        if earlier_serial is not None:
            problems.append(
                f"serial number {row.serial_number!r} is also on line {earlier_serial}."
            )

        target = None
        if update_by == "tag":
            target = same_tag
        elif update_by == "serial":
            target = same_serial
        if same_tag is not None and (target is None or same_tag.id != target.id):
            if row.tag_generated:
                problems.append(
                    f"generated asset tag {row.asset_tag!r} is already used by the device with "
                    f"serial number {same_tag.serial_number!r}; choose another prefix."
                )
            else:
                hint = "" if update_by else "; import with update by tag to update it"
                problems.append(
                    f"asset tag {row.asset_tag!r} is already used by the device with serial "
                    f"number {same_tag.serial_number!r}{hint}."
                )
        if same_serial is not None and (target is None or same_serial.id != target.id):
            hint = "" if update_by else "; import with update by serial to update it"
            problems.append(
                f"serial number {row.serial_number!r} is already recorded on the device with "
                f"asset tag {same_serial.asset_tag!r}{hint}."
            )
        if target is not None and row.state is not None and row.state.value != target.state:
            problems.append(
                f"state {row.state.value!r} differs from the device's state {target.state!r}; "
                "record lifecycle actions to change it."
            )
        coverage = None
        try:
            coverage = _coverage(row, context.today)
        except InvalidInputError as exc:
            problems.append(exc.detail)

        if problems:
            report.add(RowResult(line, key, REJECTED, tuple(problems)))
            continue
        assert site_id is not None
        if not keeps_tag:
            local_tags[row.asset_tag] = line
        local_serials[serial_key] = line
        if known_model is not None:
            model_id = known_model[0]
        else:
            model_id = await _model_id(session, turns, context, row)
        if target is None:
            planned.creates.append((row, model_id, site_id, manufacturer_key, coverage))
            report.add(RowResult(line, key, CREATED))
            continue
        changes = _changes(row, target, model_id, site_id, manufacturer_key)
        if keeps_tag:
            changes.pop("asset_tag", None)
        if coverage is not None and (
            coverage.start != target.warranty_start or coverage.end != target.warranty_end
        ):
            changes["warranty"] = [coverage.start.isoformat(), coverage.end.isoformat()]
        else:
            coverage = None
        if not changes:
            report.add(RowResult(line, key, UNCHANGED))
            continue
        planned.updates.append((row, target, changes, coverage))
        planned.updated_lines[target.id] = line
        if "asset_tag" in changes or "serial_number" in changes or "manufacturer_key" in changes:
            context.renamed[target.id] = (
                changes.get("asset_tag", target.asset_tag),
                (
                    changes.get("manufacturer_key", target.manufacturer_key),
                    changes.get("serial_number", target.serial_number),
                ),
            )
        report.add(RowResult(line, key, UPDATED, (f"changed: {', '.join(sorted(changes))}",)))
    return planned


class _EventRows:
    """Builds the event rows of one action of this import, with their hashes.

    EventHasher encodes the columns that every event of the import shares once. Its digest
    is the one `inventory.audit.event_hash` computes for the same columns.
    """

    VARYING = ("device_id", "sequence", "from_state", "to_state", "site_id", "notes", "data")

    def __init__(self, context: _Context, writer: BulkWriter, action: str) -> None:
        technician = context.technician
        self.action = action
        self.shared = (
            technician.id,
            technician.name,
            context.actor_name,
            context.actor_user_id,
        )
        self.request_id = request_id_var.get()
        self.stored_now = writer.instant(context.now)
        self.hasher = EventHasher(
            {
                "action": action,
                "technician_id": technician.id,
                "technician_name": technician.name,
                "actor": context.actor_name,
                "actor_user_id": context.actor_user_id,
                "visit_id": None,
                "occurred_at": context.now,
                "recorded_at": context.now,
                "request_id": self.request_id,
                "idempotency_key": None,
            },
            self.VARYING,
        )

    def row(
        self,
        *,
        device_id: int,
        sequence: int,
        from_state: str | None,
        to_state: str,
        site_id: int,
        notes: str | None,
        data: dict[str, Any],
        prev_hash: str | None,
    ) -> tuple:
        """Return the values of EVENT_COLUMNS for one event.

        The data document is stored as the JSON text the hash covers, so it is encoded once.
        """
        document = encode_value(data)
        digest = self.hasher.hash_encoded(
            prev_hash,
            (
                int.__repr__(device_id),
                int.__repr__(sequence),
                encode_value(from_state),
                encode_value(to_state),
                int.__repr__(site_id),
                encode_value(notes),
                document,
            ),
        )
        now = self.stored_now
        return (
            device_id,
            sequence,
            self.action,
            from_state,
            to_state,
            *self.shared,
            site_id,
            None,
            now,
            now,
            notes,
            document,
            self.request_id,
            None,
            prev_hash,
            digest,
        )


def _coverage_row(
    device_id: int, coverage: CoverageInput, writer: BulkWriter, created_at: Any, actor: str
) -> tuple:
    """Return the values of COVERAGE_COLUMNS, with `created_at` already in the driver's form."""
    return (
        device_id,
        coverage.kind.value,
        coverage.vendor_id,
        writer.day(coverage.start),
        writer.day(coverage.end),
        coverage.months,
        coverage.reference,
        created_at,
        actor,
    )


@dataclass
class _Batch:
    """The rows of the devices one chunk creates, built before they are written."""

    devices: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    coverages: list[tuple] = field(default_factory=list)


async def _build_creates(
    writer: BulkWriter, context: _Context, planned: _Planned, ids: list[int]
) -> _Batch:
    """Build the device, import event and warranty coverage rows of the devices created.

    A turn of the event loop every few hundred rows lets the database steps proceed.
    """
    batch = _Batch()
    if not planned.creates:
        return batch
    ids = ids[: len(planned.creates)]
    context.add_created(ids)
    now = writer.instant(context.now)
    day = writer.day
    event_rows = _EventRows(context, writer, "import")
    actor = context.actor_name
    source = context.source
    format_name = context.format_name
    devices, events, coverages = batch.devices, batch.events, batch.coverages
    for number, (device_id, (row, model_id, site_id, manufacturer_key, coverage)) in enumerate(
        zip(ids, planned.creates, strict=True), start=1
    ):
        state = row.state.value if row.state is not None else _RECEIVED
        devices.append(
            (
                device_id,
                row.asset_tag,
                row.serial_number,
                manufacturer_key,
                model_id,
                site_id,
                state,
                row.room,
                row.assignee,
                day(row.purchase_date),
                day(coverage.start) if coverage else None,
                day(coverage.end) if coverage else None,
                row.operating_system,
                1,
                now,
                now,
                now,
            )
        )
        data: dict[str, Any] = {
            "serial_number": row.serial_number,
            "manufacturer": row.manufacturer,
            "model": row.model,
            "source": source,
            "format": format_name,
            "line": row.line,
        }
        if row.purchase_cost is not None:
            data["purchase_cost"] = str(row.purchase_cost)
        events.append(
            event_rows.row(
                device_id=device_id,
                sequence=1,
                from_state=None,
                to_state=state,
                site_id=site_id,
                notes=row.notes,
                data=data,
                prev_hash=None,
            )
        )
        if coverage is not None:
            coverages.append(_coverage_row(device_id, coverage, writer, now, actor))
        if number % _SLICE_ROWS == 0:
            await asyncio.sleep(0)
    context.summary.add_new_devices(
        ((device[0], device[5], device[6], device[4], device[12]) for device in devices),
        occurred_at=context.now,
        technician_id=context.technician.id,
        action="import",
    )
    return batch


async def _last_hashes(
    session: AsyncSession, devices: list[_Existing], is_sqlite: bool
) -> dict[int, str]:
    versions = {device.id: device.version for device in devices}
    rows = await session.execute(
        select(DeviceEvent.device_id, DeviceEvent.sequence, DeviceEvent.hash).where(
            _one_of(DeviceEvent.device_id, sorted(versions), is_sqlite)
        )
    )
    return {
        device_id: digest for device_id, sequence, digest in rows if versions[device_id] == sequence
    }


async def _write_updates(
    session: AsyncSession, writer: BulkWriter, context: _Context, planned: _Planned
) -> None:
    if not planned.updates:
        return
    hashes = await _last_hashes(
        session, [existing for _, existing, _, _ in planned.updates], context.is_sqlite
    )
    updates, events, coverages = [], [], []
    event_rows = _EventRows(context, writer, "import_update")
    for row, existing, changes, coverage in planned.updates:
        new = {name: changes.get(name, getattr(existing, name)) for name in vars(existing)}
        if coverage is not None:
            starts = [day for day in (existing.warranty_start, coverage.start) if day]
            ends = [day for day in (existing.warranty_end, coverage.end) if day]
            new["warranty_start"], new["warranty_end"] = min(starts), max(ends)
            coverages.append(
                _coverage_row(
                    existing.id, coverage, writer, event_rows.stored_now, context.actor_name
                )
            )
        version = existing.version + 1
        updates.append(
            (
                new["asset_tag"],
                new["serial_number"],
                new["manufacturer_key"],
                new["model_id"],
                new["site_id"],
                new["room"],
                new["assignee"],
                new["purchase_date"],
                new["warranty_start"],
                new["warranty_end"],
                new["operating_system"],
                version,
                context.now,
                existing.id,
                existing.version,
            )
        )
        before = {name: _plain(getattr(existing, name, None)) for name in changes}
        after = {name: _plain(value) for name, value in changes.items()}
        events.append(
            event_rows.row(
                device_id=existing.id,
                sequence=version,
                from_state=existing.state,
                to_state=existing.state,
                site_id=new["site_id"],
                notes=row.notes,
                data={
                    "before": before,
                    "after": after,
                    "source": context.source,
                    "format": context.format_name,
                    "line": row.line,
                },
                prev_hash=hashes.get(existing.id),
            )
        )
    await writer.update_devices(updates)
    await writer.insert("device_events", EVENT_COLUMNS, events)
    await writer.insert("warranty_coverages", COVERAGE_COLUMNS, coverages)
    context.summary.add(
        (
            report_summary.BulkEvent(
                device_id=existing.id,
                before=(
                    existing.site_id,
                    existing.state,
                    existing.model_id,
                    existing.operating_system,
                ),
                after=(update[4], existing.state, update[3], update[10]),
                site_id=update[4],
                occurred_at=context.now,
                technician_id=context.technician.id,
                action="import_update",
                from_state=existing.state,
                to_state=existing.state,
            )
            for (_row, existing, _changes, _coverage), update in zip(
                planned.updates, updates, strict=True
            )
        )
    )


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


async def _mark_reserved(
    session: AsyncSession, writer: BulkWriter, context: _Context, planned: _Planned
) -> None:
    tags = [row.asset_tag for row, *_ in planned.creates]
    if not tags:
        return
    reserved = await session.scalars(
        select(TagReservation.asset_tag).where(
            _one_of(TagReservation.asset_tag, tags, context.is_sqlite),
            TagReservation.used_at.is_(None),
        )
    )
    await writer.mark_reservations_used(list(reserved), utc_now())


async def _write_chunk(
    session: AsyncSession,
    writer: BulkWriter,
    context: _Context,
    planned: _Planned,
    batch: _Batch,
    written: Callable[[], None] | None,
) -> None:
    # Updates first: a new device may take the tag or serial number an update gives up.
    await _write_updates(session, writer, context, planned)
    await writer.insert("devices", DEVICE_COLUMNS, batch.devices)
    await writer.insert("device_events", EVENT_COLUMNS, batch.events)
    await writer.insert("warranty_coverages", COVERAGE_COLUMNS, batch.coverages)
    await _mark_reserved(session, writer, context, planned)
    if written is not None:
        written()


async def _import_rows(
    session: AsyncSession,
    turns: _Turns,
    writer: BulkWriter,
    context: _Context,
    rows: Iterator[tuple[int, list[Any]]],
    parser: DeviceRowParser,
    report: ImportReport,
    progress: Callable[[int, bool], None] | None,
) -> None:
    """Check every chunk of `rows` and hand the chunks to the database while none is rejected.

    Two chunks are read ahead: while the database writes chunk n, chunk n+1 is checked with
    lookups that ran before that write, and the lookups of chunk n+2 wait behind it.
    """
    dry_run = context.options.dry_run

    def look_up(parsed: _Parsed) -> asyncio.Task[_Found] | None:
        if not parsed:
            return None
        step = partial(
            _look_up,
            session,
            context,
            writer,
            parsed,
            len(context.writes),
            not dry_run and not report.counts[REJECTED],
        )
        return turns.start(step)

    parsed = await _parse_chunk(rows, parser)
    lookup = look_up(parsed)
    ahead = await _parse_chunk(rows, parser)
    ahead_lookup = look_up(ahead)
    while parsed:
        assert lookup is not None
        found = await turns.wait(lookup)
        if any(context.writes[found.writes_before :]):
            # A chunk written since these lookups ran changed devices they may have found,
            # so they are run again behind that write.
            again = look_up(parsed)
            assert again is not None
            found = await turns.wait(again)
        planned = await _plan_chunk(session, turns, context, parsed, found, report)
        written = not dry_run and not report.counts[REJECTED]
        if written:
            ids = found.ids
            if len(ids) < len(planned.creates):
                # A row may create a device with a tag that the lookups found on a device
                # an earlier row gave it up from.
                more = partial(writer.allocate_device_ids, len(planned.creates) - len(ids))
                ids = ids + await turns.run(more)
            batch = await _build_creates(writer, context, planned, ids)
            context.updated_lines.update(planned.updated_lines)
            context.recent.append((planned.tags, planned.serials))
            context.writes.append(bool(planned.updates))
            # Progress counts the chunk once its rows are in the open transaction.
            done = None if progress is None else partial(progress, len(parsed), True)
            turns.start(partial(_write_chunk, session, writer, context, planned, batch, done))
        else:
            context.seen_tags.update(planned.tags)
            context.seen_serials.update(planned.serials)
            if progress is not None:
                progress(len(parsed), False)
        further = await _parse_chunk(rows, parser)
        parsed, lookup = ahead, ahead_lookup
        ahead, ahead_lookup = further, look_up(further)
    # The last writes have no later step to pass their failure on.
    await turns.finish()


def _check_tag_prefix(prefix: str, update_by: str | None) -> None:
    """Refuse a prefix of generated tags that makes tags the service cannot use."""
    if update_by == "tag":
        raise InvalidInputError(
            "Generated tags name new devices only, so they cannot find devices to update by "
            "tag. Fill the tag column of the rows that update devices, or update by serial.",
            generate_tags=prefix,
            update_by=update_by,
        )
    # The longest tag the prefix makes for a file under 100 million lines: line numbers
    # have at least 7 digits, and 8 from line 10,000,000.
    sample = f"{prefix}00000001"
    try:
        checked = values.identifier(sample, "generated asset tag")
    except values.ValueProblem as exc:
        raise InvalidInputError(
            f"The prefix {prefix!r} makes unusable tags: {exc} Choose another prefix.",
            generate_tags=prefix,
        ) from None
    if checked != sample:
        raise InvalidInputError(
            f"The prefix {prefix!r} has spaces or characters that change when tags are read "
            "back; choose a prefix of plain letters, digits and dashes.",
            generate_tags=prefix,
        )


async def import_devices(
    db: Database,
    table: Table,
    options: DeviceImportOptions,
    *,
    actor: Principal | None = None,
    source: str = "upload",
    report: ImportReport | None = None,
    progress: Callable[[int, bool], None] | None = None,
) -> ImportReport:
    """Import the devices of `table` in one transaction and return the report of every row.

    `progress` is called for each chunk with the number of rows in it and whether they were
    written to the open transaction: after the writes for a written chunk, after the
    checks for one that is not written.
    """
    if options.update_by not in (None, "tag", "serial"):
        raise InvalidInputError(
            f"update_by {options.update_by!r} is not tag or serial.", update_by=options.update_by
        )
    if options.generate_tags is not None:
        _check_tag_prefix(options.generate_tags, options.update_by)
    fmt = device_format(options.format, table.header)
    required = ["serial_number", "model"]
    if options.generate_tags is None:
        required.append("asset_tag")
    if fmt.name != "google":
        required.append("manufacturer")
    if options.site is None:
        required.append("site")
    columns = map_columns(table.header, fmt.aliases, tuple(required))
    report = report or ImportReport(kind="devices")
    report.source = source
    report.format_label = f"{fmt.label}; {table.describe()}"
    report.mapping = columns.lines()
    if options.site is not None:
        report.mapping.append(f"every row -> site {options.site.strip()!r}")
    report.warnings.extend(table.warnings)
    report.dry_run = options.dry_run
    parser = DeviceRowParser(
        columns, RowRules(fmt.name, options.date_format, options.generate_tags)
    )

    try:
        async with db.write() as session:
            context = await _load_context(session, db, options, actor, fmt.name, source)
            writer = BulkWriter(session, db.is_sqlite)
            turns = _Turns()
            try:
                await _import_rows(
                    session, turns, writer, context, iter(table.rows), parser, report, progress
                )
            finally:
                await turns.settle()
            report.new_models = context.new_models
            if options.dry_run or report.counts[REJECTED]:
                raise _Rollback
            await context.summary.write(session)
    except _Rollback:
        pass
    except ServiceError:
        raise
    except _INTEGRITY_ERRORS as exc:
        log.warning("device import failed", extra={"source": source, "error": str(exc)})
        raise ConflictError(
            "The import failed a uniqueness or reference check in the database "
            f"({_database_error(exc)}), so nothing was written. Another user may have "
            "added the same device meanwhile: check the value named and run it again.",
        ) from exc
    except _WRITE_ERRORS as exc:
        if not _disk_full(exc):
            raise
        log.warning("device import failed", extra={"source": source, "error": str(exc)})
        raise StorageFullError(
            "The database ran out of disk space during the import, so nothing was written. "
            "Free space where the database keeps its files and run the import again.",
        ) from exc
    else:
        report.committed = True
        log.info(
            "devices imported",
            extra={
                "source": source,
                "user": context.actor_name,
                "technician": context.technician.employee_number,
                # Under one key: "created" would clash with the log record's own field.
                "rows": dict(report.counts),
            },
        )
    return report
