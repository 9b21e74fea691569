"""Verification of every device's event hash chain."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, tuple_

from inventory.audit import HASHED_COLUMNS, event_hash
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent

_BATCH = 5000


@dataclass(frozen=True)
class AuditResult:
    checked: int
    # The first event that does not match, or None when every chain verified.
    broken_event_id: int | None = None
    broken_asset_tag: str | None = None
    broken_sequence: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_event_id is None


async def verify_chains(db: Database) -> AuditResult:
    """Walk every device's events in sequence and recompute each hash.

    Reads in batches ordered by (device, sequence), so memory stays flat at any size.
    """
    checked = 0
    after: tuple[int, int] = (0, 0)
    previous_device: int | None = None
    previous_hash: str | None = None
    expected_sequence = 1
    columns = [getattr(DeviceEvent, name) for name in HASHED_COLUMNS]
    query = select(
        DeviceEvent.id, DeviceEvent.prev_hash, DeviceEvent.hash, Device.asset_tag, *columns
    ).join(Device, Device.id == DeviceEvent.device_id)
    while True:
        async with db.read() as session:
            rows = list(
                await session.execute(
                    query.where(tuple_(DeviceEvent.device_id, DeviceEvent.sequence) > after)
                    .order_by(DeviceEvent.device_id, DeviceEvent.sequence)
                    .limit(_BATCH)
                )
            )
        if not rows:
            return AuditResult(checked=checked)
        for row in rows:
            event_id, stored_prev, stored_hash, asset_tag, *values = row
            content = dict(zip(HASHED_COLUMNS, values, strict=True))
            if content["device_id"] != previous_device:
                previous_device, previous_hash, expected_sequence = content["device_id"], None, 1

            problem = None
            if content["sequence"] != expected_sequence:
                problem = f"expected sequence {expected_sequence}, found {content['sequence']}"
            elif stored_prev != previous_hash:
                problem = "its previous hash does not match the event before it"
            elif event_hash(previous_hash, content) != stored_hash:
                problem = "its content does not match its hash"
            if problem is not None:
                return AuditResult(
                    checked=checked,
                    broken_event_id=event_id,
                    broken_asset_tag=asset_tag,
                    broken_sequence=content["sequence"],
                    reason=problem,
                )
            checked += 1
            previous_hash = stored_hash
            expected_sequence += 1
        last = rows[-1]
        after = (last.device_id, last.sequence)
