"""Keep the report summary tables exact: one change per recorded event, or a full rebuild.

`record_event` runs inside the transaction that records a device's event, so the summary
and the device always agree. `rebuild` recomputes every summary row from the devices and
their events, for bulk loads that insert events directly and for existing databases.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.config import get_settings
from inventory.devices.models import Device, DeviceEvent
from inventory.lifecycle import State
from inventory.reports.figures import IN_SERVICE_STATES
from inventory.reports.models import (
    ReportDeviceCount,
    ReportOpenRepair,
    ReportOpenRepairCount,
    ReportOutcomeCount,
    ReportRepairTurnaround,
    ReportSiteModelCount,
    ReportStepCount,
)
from inventory.reports.years import YearChanges, rebuild_years

log = logging.getLogger(__name__)

# A repair is open while the device is in one of these states.
REPAIR_STATES = frozenset({"in_repair", "with_vendor"})
# Actions that end a repair with the device fixed or exchanged; only these give a
# turnaround. A repair ended by salvage or loss is closed without one.
TURNAROUND_ACTIONS = frozenset({"complete_repair", "vendor_replace"})

# Outcome names counted per month, keyed by (action, state after the action).
OUTCOMES = {
    ("open_repair", "in_repair"): "repair_opened",
    ("assess_salvage", "enrolled"): "reuse",
    ("assess_salvage", "harvested"): "harvest",
    ("assess_salvage", "recycle_pending"): "recycle",
    ("recycle", "recycled"): "recycled",
}
OUTCOME_LABELS = {
    "repair_opened": "Repairs opened",
    "reuse": "Assessed for reuse",
    "harvest": "Harvested for parts",
    "recycle": "Assessed for recycling",
    "recycled": "Recycled",
}
# Technician steps that these tables count as steps: every action except the export
# bookkeeping that inventory.escalations.batches inserts without this module.
UNCOUNTED_ACTIONS = frozenset({"escalation_export"})
NO_TECHNICIAN = 0
# Columns of report_site_model_counts, each with the device states it counts.
SITE_MODEL_COLUMNS: dict[str, frozenset[str]] = {
    "in_service": frozenset(IN_SERVICE_STATES),
    "deployed": frozenset({State.DEPLOYED.value}),
    "in_repair": frozenset({State.IN_REPAIR.value}),
    "with_vendor": frozenset({State.WITH_VENDOR.value}),
    "lost": frozenset({State.LOST.value}),
}

_DAY = timedelta(days=1)
_REBUILD_PAGE = 50_000


def district_zone() -> ZoneInfo:
    """Return the time zone whose calendar months the summary tables count in.

    NOTE: this is the process's INVENTORY_TIMEZONE setting. A process that serves another
    zone than the one that recorded the events must run `inventory report rebuild`.
    """
    return get_settings().zone


def month_of(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date().replace(day=1)


def turnaround_days(opened_at: datetime, closed_at: datetime) -> int:
    """Whole days from a repair's opening to its end, rounded down."""
    return max((closed_at - opened_at) // _DAY, 0)


def _device_key(site_id: int, state: str, model_id: int, operating_system: str | None) -> tuple:
    return (site_id, state, model_id, operating_system or "")


@lru_cache(maxsize=64)
def _upsert(dialect_name: str, table: Any, key_names: tuple[str, ...], column: str) -> Any:
    """Build an INSERT that adds the given `column` value to the row with the key, creating it.

    The statement is cached per table and database, because every device action runs a
    few of these and building them each time cost more than running them.
    """
    dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    statement = dialect_insert(table).values(
        {name: bindparam(name) for name in (*key_names, column)}
    )
    return statement.on_conflict_do_update(
        index_elements=list(key_names),
        set_={column: getattr(table.c, column) + getattr(statement.excluded, column)},
    )


async def _add(session: AsyncSession, model: Any, key: dict[str, Any], column: str, delta: int):
    dialect = session.get_bind().dialect.name
    statement = _upsert(dialect, model.__table__, tuple(key), column)
    await session.execute(statement, {**key, column: delta})


def sum_site_model_counts(
    device_counts: Iterable[tuple[int, str, int, int]],
) -> dict[tuple[int, int], Counter[str]]:
    """Add up (site_id, state, model_id, count) rows into report_site_model_counts columns.

    Counts may be negative changes. A (site, model) whose columns all add up to zero is left
    out, as when a device only changes its operating system.
    """
    totals: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for site_id, state, model_id, count in device_counts:
        for column, states in SITE_MODEL_COLUMNS.items():
            if state in states:
                totals[(site_id, model_id)][column] += count
    return {key: columns for key, columns in totals.items() if any(columns.values())}


@lru_cache(maxsize=4)
def _site_model_upsert(dialect_name: str) -> Any:
    """Build the INSERT that adds changes to every count of one site and model, cached."""
    table = ReportSiteModelCount.__table__
    dialect_insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    names = ("site_id", "model_id", *SITE_MODEL_COLUMNS)
    statement = dialect_insert(table).values({name: bindparam(name) for name in names})
    return statement.on_conflict_do_update(
        index_elements=["site_id", "model_id"],
        set_={
            column: getattr(table.c, column) + getattr(statement.excluded, column)
            for column in SITE_MODEL_COLUMNS
        },
    )


async def _add_site_model(
    session: AsyncSession, site_id: int, model_id: int, deltas: Counter[str]
) -> None:
    statement = _site_model_upsert(session.get_bind().dialect.name)
    values = {column: deltas[column] for column in SITE_MODEL_COLUMNS}
    await session.execute(statement, {"site_id": site_id, "model_id": model_id, **values})


async def record_event(session: AsyncSession, device: Device, event: DeviceEvent) -> None:
    """Apply one new event of `device` to the summary tables, in the caller's transaction.

    `device` contains the row as it was before the action's UPDATE (or the new row, for a
    receive); the row after it is read here.
    """
    assert device.id is not None
    if event.action in UNCOUNTED_ACTIONS:
        return
    if event.from_state is not None and device.state != event.from_state:
        raise RuntimeError(
            f"Device {device.asset_tag!r} was refreshed before its event was summarized "
            f"(state {device.state!r}, event from {event.from_state!r}); the report summary "
            "would drift."
        )
    after = (
        await session.execute(
            select(Device.site_id, Device.state, Device.model_id, Device.operating_system).where(
                Device.id == device.id
            )
        )
    ).one()
    before = None
    if event.from_state is not None:
        before = (device.site_id, device.state, device.model_id, device.operating_system)
    await record_bulk(
        session,
        [
            BulkEvent(
                device_id=device.id,
                before=before,
                after=tuple(after),
                site_id=event.site_id,
                occurred_at=event.occurred_at,
                technician_id=event.technician_id,
                action=event.action,
                from_state=event.from_state,
                to_state=event.to_state,
            )
        ],
    )


@dataclass(frozen=True)
class BulkEvent:
    """An event to summarize, with the device's (site_id, state, model_id, operating_system)
    before it (None for a new device) and after it."""

    device_id: int
    before: tuple[int, str, int, str | None] | None
    after: tuple[int, str, int, str | None]
    site_id: int
    occurred_at: datetime
    technician_id: int | None
    action: str
    from_state: str | None
    to_state: str


async def record_bulk(session: AsyncSession, events: Iterable[BulkEvent]) -> None:
    """Apply new events to the summary tables, in the caller's transaction.

    `record_event` passes one event. Recycling batches pass many, and the changes are added
    up first, so each summary row is written once.
    """
    changes = SummaryChanges()
    changes.add(events)
    await changes.write(session)


class SummaryChanges:
    """Changes to the summary tables added up over many events and written once by `write`.

    Imports add each chunk's events here and write once before they commit, so a summary
    row that many chunks change is written once per import.
    """

    def __init__(self) -> None:
        self.zone = district_zone()
        self.counts: Counter[tuple[Any, ...]] = Counter()
        self.steps: Counter[tuple[int, date, int, str]] = Counter()
        self.outcomes: Counter[tuple[int, date, str]] = Counter()
        self.repairs: list[BulkEvent] = []

    def add(self, events: Iterable[BulkEvent]) -> None:
        zone = self.zone
        for event in events:
            if event.action in UNCOUNTED_ACTIONS:
                continue
            before = None if event.before is None else _device_key(*event.before)
            after = _device_key(*event.after)
            if before != after:
                if before is not None:
                    self.counts[before] -= 1
                self.counts[after] += 1
            month = month_of(event.occurred_at, zone)
            technician_id = event.technician_id or NO_TECHNICIAN
            self.steps[(event.site_id, month, technician_id, event.action)] += 1
            outcome = OUTCOMES.get((event.action, event.to_state))
            if outcome is not None:
                self.outcomes[(event.site_id, month, outcome)] += 1
            if event.from_state in REPAIR_STATES or event.to_state in REPAIR_STATES:
                self.repairs.append(event)

    def add_new_devices(
        self,
        devices: Iterable[tuple[int, int, str, int, str | None]],
        *,
        occurred_at: datetime,
        technician_id: int | None,
        action: str,
    ) -> None:
        """Add one event per new device, all at one instant by one technician.

        Each device is (device_id, site_id, state, model_id, operating_system), its state
        being the event's to_state. The result is the same as `add` with a BulkEvent per
        device whose `before` and `from_state` are None.
        """
        if action in UNCOUNTED_ACTIONS:
            return
        month = month_of(occurred_at, self.zone)
        technician = technician_id or NO_TECHNICIAN
        per_key: Counter[tuple[int, str, int, str | None]] = Counter()
        for device_id, site_id, state, model_id, operating_system in devices:
            per_key[(site_id, state, model_id, operating_system)] += 1
            if state in REPAIR_STATES:
                self.repairs.append(
                    BulkEvent(
                        device_id=device_id,
                        before=None,
                        after=(site_id, state, model_id, operating_system),
                        site_id=site_id,
                        occurred_at=occurred_at,
                        technician_id=technician_id,
                        action=action,
                        from_state=None,
                        to_state=state,
                    )
                )
        for (site_id, state, model_id, operating_system), count in per_key.items():
            self.counts[_device_key(site_id, state, model_id, operating_system)] += count
            self.steps[(site_id, month, technician, action)] += count
            outcome = OUTCOMES.get((action, state))
            if outcome is not None:
                self.outcomes[(site_id, month, outcome)] += count

    async def write(self, session: AsyncSession) -> None:
        """Write the added changes in the caller's transaction and start over."""
        names = ("site_id", "state", "model_id", "operating_system")
        # Rows are changed in key order, so two transactions that move devices in opposite
        # directions (deploy and collect) lock them in the same order. Without the sort,
        # test_concurrent_moves_keep_counts deadlocks on PostgreSQL.
        for key, delta in sorted(self.counts.items()):
            if delta:
                row = dict(zip(names, key, strict=True))
                await _add(session, ReportDeviceCount, row, "device_count", delta)

        # After report_device_counts and also in key order, so every transaction takes these
        # row locks in one global order.
        changes = sum_site_model_counts(
            (site_id, state, model_id, delta)
            for (site_id, state, model_id, _system), delta in self.counts.items()
        )
        for (site_id, model_id), deltas in sorted(changes.items()):
            await _add_site_model(session, site_id, model_id, deltas)

        for (site_id, month, technician_id, action), count in sorted(self.steps.items()):
            step_key = {
                "site_id": site_id,
                "month": month,
                "technician_id": technician_id,
                "action": action,
            }
            await _add(session, ReportStepCount, step_key, "step_count", count)
        years = YearChanges()
        for (site_id, month, outcome), count in sorted(self.outcomes.items()):
            outcome_key = {"site_id": site_id, "month": month, "outcome": outcome}
            await _add(session, ReportOutcomeCount, outcome_key, "outcome_count", count)
            years.add_outcome(site_id, month, outcome, count)
        open_counts: Counter[int] = Counter()
        for event in self.repairs:
            month = month_of(event.occurred_at, self.zone)
            await _track_repair(session, event.device_id, event, month, open_counts, years)
        # In site order, as above, so concurrent transactions lock these rows in one order.
        # A site whose count did not change may still have a new oldest repair.
        for site_id, delta in sorted(open_counts.items()):
            await _add(session, ReportOpenRepairCount, {"site_id": site_id}, "repair_count", delta)
            await _update_oldest_repair(session, site_id)
        await years.write(session)

        self.counts.clear()
        self.steps.clear()
        self.outcomes.clear()
        self.repairs.clear()


async def _update_oldest_repair(session: AsyncSession, site_id: int) -> None:
    """Store when the site's oldest open repair was opened; the caller locks the count row first.

    On PostgreSQL that lock makes a concurrent repair change at the same site wait, so the
    minimum read after the lock includes that change once it is committed.
    """
    oldest = (
        select(func.min(ReportOpenRepair.opened_at))
        .where(ReportOpenRepair.site_id == site_id)
        .scalar_subquery()
    )
    await session.execute(
        update(ReportOpenRepairCount)
        .where(ReportOpenRepairCount.site_id == site_id)
        .values(oldest_opened_at=oldest)
    )


async def _track_repair(
    session: AsyncSession,
    device_id: int,
    event: DeviceEvent | BulkEvent,
    month: date,
    open_counts: Counter[int],
    years: YearChanges,
) -> None:
    """Open, move or close the device's open repair row.

    Changes to the open repairs per site are added to `open_counts` (a site gets a key even
    when its changes cancel out), and a closed repair's
    turnaround to `years`, for the caller to write.
    """
    was_open = event.from_state in REPAIR_STATES
    is_open = event.to_state in REPAIR_STATES
    if not was_open and is_open:
        await session.execute(
            insert(ReportOpenRepair).values(
                device_id=device_id, site_id=event.site_id, opened_at=event.occurred_at
            )
        )
        open_counts[event.site_id] += 1
        return
    if not was_open:
        return
    if is_open:
        row = (
            await session.execute(
                select(ReportOpenRepair.site_id).where(ReportOpenRepair.device_id == device_id)
            )
        ).one_or_none()
        if row is not None and row.site_id != event.site_id:
            await session.execute(
                update(ReportOpenRepair)
                .where(ReportOpenRepair.device_id == device_id)
                .values(site_id=event.site_id)
            )
            open_counts[row.site_id] -= 1
            open_counts[event.site_id] += 1
        return
    # The row is deleted and read in one statement, because closing a repair writes more
    # summary rows than any other action.
    row = (
        await session.execute(
            delete(ReportOpenRepair)
            .where(ReportOpenRepair.device_id == device_id)
            .returning(ReportOpenRepair.site_id, ReportOpenRepair.opened_at)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if row is None:
        log.warning(
            "repair closed without an open repair row; run `inventory report rebuild`",
            extra={"device_id": device_id, "action": event.action},
        )
    else:
        open_counts[row.site_id] -= 1
        if event.action in TURNAROUND_ACTIONS:
            days = turnaround_days(row.opened_at, event.occurred_at)
            key = {"site_id": event.site_id, "month": month, "turnaround_days": days}
            await _add(session, ReportRepairTurnaround, key, "repair_count", 1)
            years.add_turnaround(event.site_id, month, days)


class SummaryBuilder:
    """Summary rows computed from events read in order of device and sequence."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.steps: Counter[tuple[int, date, int, str]] = Counter()
        self.outcomes: Counter[tuple[int, date, str]] = Counter()
        self.turnarounds: Counter[tuple[int, date, int]] = Counter()
        self.open_repairs: dict[int, tuple[int, datetime]] = {}

    def _month(self, instant: datetime) -> date:
        # UTC offsets stay within 14 hours. So an instant from the 2nd to the 27th of a UTC
        # month falls in the same month in every zone, and only the others need converting.
        utc = instant.astimezone(UTC)
        if 2 <= utc.day <= 27:
            return date(utc.year, utc.month, 1)
        return month_of(instant, self.zone)

    def add(
        self,
        device_id: int,
        site_id: int,
        occurred_at: datetime,
        technician_id: int | None,
        action: str,
        from_state: str | None,
        to_state: str,
    ) -> None:
        if action in UNCOUNTED_ACTIONS:
            return
        month = self._month(occurred_at)
        self.steps[(site_id, month, technician_id or NO_TECHNICIAN, action)] += 1
        outcome = OUTCOMES.get((action, to_state))
        if outcome is not None:
            self.outcomes[(site_id, month, outcome)] += 1
        was_open = from_state in REPAIR_STATES
        is_open = to_state in REPAIR_STATES
        if not was_open and is_open:
            self.open_repairs[device_id] = (site_id, occurred_at)
        elif was_open and is_open:
            opened = self.open_repairs.get(device_id)
            if opened is not None:
                self.open_repairs[device_id] = (site_id, opened[1])
        elif was_open:
            opened = self.open_repairs.pop(device_id, None)
            if opened is not None and action in TURNAROUND_ACTIONS:
                days = turnaround_days(opened[1], occurred_at)
                self.turnarounds[(site_id, month, days)] += 1


def _insert_chunks(connection: Connection, table: Any, rows: Iterable[dict[str, Any]]) -> None:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == 5000:
            connection.execute(insert(table), chunk)
            chunk = []
    if chunk:
        connection.execute(insert(table), chunk)


def site_model_rows(
    device_counts: Iterable[tuple[int, str, int, int]],
) -> list[dict[str, Any]]:
    """Build the report_site_model_counts rows from (site_id, state, model_id, count) rows."""
    return [
        {"site_id": site_id, "model_id": model_id, **{c: columns[c] for c in SITE_MODEL_COLUMNS}}
        for (site_id, model_id), columns in sorted(sum_site_model_counts(device_counts).items())
    ]


def rebuild_site_model_counts(connection: Connection) -> None:
    """Recompute report_site_model_counts from the devices, in the caller's transaction."""
    connection.execute(delete(ReportSiteModelCount.__table__))
    counts = connection.execute(
        select(Device.site_id, Device.state, Device.model_id, func.count()).group_by(
            Device.site_id, Device.state, Device.model_id
        )
    )
    _insert_chunks(
        connection,
        ReportSiteModelCount.__table__,
        site_model_rows((site_id, state, model_id, n) for site_id, state, model_id, n in counts),
    )


def rebuild(
    connection: Connection, zone: ZoneInfo | None = None, *, later_tables: bool = True
) -> None:
    """Recompute every summary row from the devices and their events.

    Runs on a synchronous connection inside the caller's transaction; from async code use
    `await connection.run_sync(rebuild)`. Reads the events once, in device order. Migration
    0005 passes `later_tables=False`, because the tables of migrations 0008 to 0010 do not
    exist yet at its revision.
    """
    zone = zone or district_zone()
    if later_tables:
        rebuild_site_model_counts(connection)
    for model in (
        ReportDeviceCount,
        ReportStepCount,
        ReportOutcomeCount,
        ReportRepairTurnaround,
        ReportOpenRepair,
    ):
        connection.execute(delete(model.__table__))

    operating_system = func.coalesce(Device.operating_system, "")
    counts = connection.execute(
        select(
            Device.site_id, Device.state, Device.model_id, operating_system, func.count()
        ).group_by(Device.site_id, Device.state, Device.model_id, operating_system)
    )
    _insert_chunks(
        connection,
        ReportDeviceCount.__table__,
        (
            {
                "site_id": site_id,
                "state": state,
                "model_id": model_id,
                "operating_system": system,
                "device_count": count,
            }
            for site_id, state, model_id, system, count in counts
        ),
    )

    builder = SummaryBuilder(zone)
    # Pages by (device, sequence) rather than one server-side cursor: on PostgreSQL an open
    # cursor on device_events would block later DDL on the table in the same transaction,
    # as when a migration adds an index after this rebuild.
    after = (0, 0)
    while True:
        rows = connection.execute(
            select(
                DeviceEvent.device_id,
                DeviceEvent.sequence,
                DeviceEvent.site_id,
                DeviceEvent.occurred_at,
                DeviceEvent.technician_id,
                DeviceEvent.action,
                DeviceEvent.from_state,
                DeviceEvent.to_state,
            )
            .where(
                or_(
                    DeviceEvent.device_id > after[0],
                    and_(DeviceEvent.device_id == after[0], DeviceEvent.sequence > after[1]),
                )
            )
            .order_by(DeviceEvent.device_id, DeviceEvent.sequence)
            .limit(_REBUILD_PAGE)
        ).all()
        for device_id, _sequence, *rest in rows:
            builder.add(device_id, *rest)
        if len(rows) < _REBUILD_PAGE:
            break
        after = (rows[-1][0], rows[-1][1])
    write_summary(connection, builder, later_tables=later_tables)


def write_summary(
    connection: Connection, builder: SummaryBuilder, *, later_tables: bool = True
) -> None:
    """Insert the event-based summary rows that `builder` counted.

    With `later_tables=False` the tables of migrations 0009 and 0010 are left alone, for
    migration 0005. Otherwise they are recomputed: report_open_repair_counts from the
    builder, and the fiscal-year tables from the monthly rows just inserted.
    """
    _insert_chunks(
        connection,
        ReportStepCount.__table__,
        (
            {
                "site_id": site_id,
                "month": month,
                "technician_id": technician_id,
                "action": action,
                "step_count": count,
            }
            for (site_id, month, technician_id, action), count in builder.steps.items()
        ),
    )
    _insert_chunks(
        connection,
        ReportOutcomeCount.__table__,
        (
            {"site_id": site_id, "month": month, "outcome": outcome, "outcome_count": count}
            for (site_id, month, outcome), count in builder.outcomes.items()
        ),
    )
    _insert_chunks(
        connection,
        ReportRepairTurnaround.__table__,
        (
            {"site_id": site_id, "month": month, "turnaround_days": days, "repair_count": count}
            for (site_id, month, days), count in builder.turnarounds.items()
        ),
    )
    _insert_chunks(
        connection,
        ReportOpenRepair.__table__,
        (
            {"device_id": device_id, "site_id": site_id, "opened_at": opened_at}
            for device_id, (site_id, opened_at) in builder.open_repairs.items()
        ),
    )
    if not later_tables:
        return
    connection.execute(delete(ReportOpenRepairCount.__table__))
    open_counts: Counter[int] = Counter()
    oldest: dict[int, datetime] = {}
    for site_id, opened_at in builder.open_repairs.values():
        open_counts[site_id] += 1
        if site_id not in oldest or opened_at < oldest[site_id]:
            oldest[site_id] = opened_at
    _insert_chunks(
        connection,
        ReportOpenRepairCount.__table__,
        (
            {"site_id": site_id, "repair_count": count, "oldest_opened_at": oldest[site_id]}
            for site_id, count in sorted(open_counts.items())
        ),
    )
    rebuild_years(connection)
