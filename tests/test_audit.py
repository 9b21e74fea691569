"""The tamper-evident history and `inventory audit verify`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlalchemy import delete, select, update

from inventory.audit import EventHasher, event_hash
from inventory.devices.audit import verify_chains
from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from tests.factories import make_world, receive, run_cli

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


async def _history(db) -> None:
    await make_world(db)
    for tag in ("0001", "0002"):
        await receive(db, tag)
        await apply_action(
            db, tag, ActionRequest(action="enroll", technician="000123", data=ENROLL)
        )
        await apply_action(
            db,
            tag,
            ActionRequest(
                action="deploy", technician="000456", data={"room": "12"}, notes="cart B"
            ),
        )


async def _event(db, tag_sequence: int):
    async with db.read() as session:
        return await session.scalar(
            select(DeviceEvent)
            .where(DeviceEvent.sequence == tag_sequence)
            .order_by(DeviceEvent.device_id.desc())
        )


async def test_untouched_history_verifies(db) -> None:
    await _history(db)
    result = await verify_chains(db)
    assert result.ok
    assert result.checked == 6


async def test_each_event_links_to_previous(db) -> None:
    await _history(db)
    async with db.read() as session:
        events = list(
            (
                await session.execute(
                    select(DeviceEvent).order_by(DeviceEvent.device_id, DeviceEvent.sequence)
                )
            ).scalars()
        )
    for previous, event in pairwise(events):
        if event.device_id == previous.device_id:
            assert event.prev_hash == previous.hash
        else:
            assert event.prev_hash is None


async def test_one_changed_byte_is_named(db) -> None:
    await _history(db)
    target = await _event(db, 3)
    async with db.write() as session:
        await session.execute(
            update(DeviceEvent).where(DeviceEvent.id == target.id).values(notes="cart C")
        )
    result = await verify_chains(db)
    assert not result.ok
    assert result.first.event_id == target.id
    assert result.first.asset_tag == "0002"
    assert result.first.sequence == 3
    assert result.broken_chains == 1
    # The other device's chain is still checked.
    assert result.checked == 3 + 2


async def test_removed_event_is_found(db) -> None:
    await _history(db)
    target = await _event(db, 2)
    async with db.write() as session:
        await session.execute(delete(DeviceEvent).where(DeviceEvent.id == target.id))
    result = await verify_chains(db)
    assert not result.ok
    assert result.first.sequence == 3


async def test_rehashed_event_breaks_next_link(db) -> None:
    await _history(db)
    target = await _event(db, 2)
    async with db.write() as session:
        await session.execute(
            update(DeviceEvent).where(DeviceEvent.id == target.id).values(hash="0" * 64)
        )
    result = await verify_chains(db)
    assert result.first.event_id == target.id


async def test_audit_verify_command(db, database_url: str) -> None:
    await _history(db)
    ok = run_cli(database_url, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "All 6 events verified." in ok.stdout

    target = await _event(db, 2)
    async with db.write() as session:
        await session.execute(
            update(DeviceEvent).where(DeviceEvent.id == target.id).values(data={"room": "13"})
        )
    broken = run_cli(database_url, "audit", "verify")
    assert broken.returncode == 1
    assert f"Event {target.id} (device 0002, sequence 2)" in broken.stderr


SHARED = {
    "action": "import",
    "technician_id": 7,
    "technician_name": 'Ana "Tech" Núñez',
    "actor": "ana",
    "actor_user_id": None,
    "visit_id": None,
    "occurred_at": datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
    "recorded_at": datetime(2026, 3, 1, 17, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    "request_id": "req-1",
    "idempotency_key": None,
}
VARYING = ("device_id", "sequence", "from_state", "to_state", "site_id", "notes", "data")
# Values of the varying columns, including text that JSON escapes and values it converts.
VARYING_CASES = [
    (1, 1, None, "received", 3, None, {"line": 2, "model": "C722"}),
    (2**40, 2, "enrolled", "enrolled", 0, 'line\nbreak "quoted" \\ \t', {}),
    (3, 5, "deployed", "lost", -1, "日本語 \u2028 \x7f \x00", {"é": ["a", 1.5, None]}),
    (4, 1, None, "received", 9, "", {"cost": Decimal("12.50"), "day": date(2024, 8, 1)}),
    (5, 1, None, "received", 9, "x", {"flag": True, "zero": False, "nested": {"b": 1, "a": 2}}),
    (6, 1, None, "received", True, "x", {"when": datetime(2026, 1, 2, tzinfo=UTC)}),
]


def test_event_hasher_matches_event_hash() -> None:
    hasher = EventHasher(SHARED, VARYING)
    for values in VARYING_CASES:
        columns = {**SHARED, **dict(zip(VARYING, values, strict=True))}
        for prev_hash in (None, "0" * 64, 'odd "prev"'):
            assert hasher.hash(prev_hash, values) == event_hash(prev_hash, columns), values


def test_event_hasher_rejects_unknown_columns() -> None:
    with pytest.raises(ValueError, match="not hashed event columns"):
        EventHasher(SHARED, ("device_id", "color"))
