"""Verification of every device's event hash chain."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, tuple_

from inventory.audit import HASHED_COLUMNS, event_hash
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent

_BATCH = 5000


@dataclass(frozen=True)
class BrokenEvent:
    event_id: int
    asset_tag: str
    sequence: int
    reason: str


# Broken events listed in a result; the walk goes on and counts the rest.
MAX_LISTED = 100


@dataclass
class AuditResult:
    checked: int = 0
    broken_chains: int = 0
    broken: list[BrokenEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken_chains == 0

    @property
    def first(self) -> BrokenEvent | None:
        return self.broken[0] if self.broken else None


async def verify_chains(db: Database) -> AuditResult:
    """Walk every device's events in sequence and recompute each hash.

    Reads in batches ordered by (device, sequence), so memory stays flat at any size. A
    broken chain is reported at its first bad event, and the walk goes on with the next
    device, so one bad chain cannot hide another.
    """
    result = AuditResult()
    after: tuple[int, int] = (0, 0)
    current_device: int | None = None
    previous_hash: str | None = None
    expected_sequence = 1
    chain_broken = False
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
            return result
        for row in rows:
            event_id, stored_prev, stored_hash, asset_tag, *values = row
            content = dict(zip(HASHED_COLUMNS, values, strict=True))
            if content["device_id"] != current_device:
                current_device, previous_hash, expected_sequence = content["device_id"], None, 1
                chain_broken = False
            if chain_broken:
                continue
            problem = None
            if content["sequence"] != expected_sequence:
                problem = f"expected sequence {expected_sequence}, found {content['sequence']}"
            elif stored_prev != previous_hash:
                problem = "its previous hash does not match the event before it"
            elif event_hash(previous_hash, content) != stored_hash:
                problem = "its content does not match its hash"
            if problem is not None:
                chain_broken = True
                result.broken_chains += 1
                if len(result.broken) < MAX_LISTED:
                    result.broken.append(
                        BrokenEvent(event_id, asset_tag, content["sequence"], problem)
                    )
                continue
            result.checked += 1
            previous_hash = stored_hash
            expected_sequence += 1
        last = rows[-1]
        after = (last.device_id, last.sequence)
