"""The tamper-evident history and `inventory audit verify`."""

from __future__ import annotations

from itertools import pairwise

from sqlalchemy import delete, select, update

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
