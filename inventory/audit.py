"""The hash chain that makes each device's history tamper-evident. Pure: no I/O.

Each event's hash is SHA-256 over the previous event's hash of the same device and a
canonical JSON text of the event's own columns. Chains are per device, so writes to
different devices never wait on each other. A change to a stored event, or a removed event,
makes its hash (or the next one's) stop matching.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

# Columns covered by the hash, in a fixed order. Adding one needs a new chain version.
HASHED_COLUMNS = (
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
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} in a hashed event")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return value


def event_hash(prev_hash: str | None, columns: dict[str, Any]) -> str:
    """Return the hex SHA-256 of an event given its columns and the previous hash."""
    content = {name: _canonical(columns.get(name)) for name in HASHED_COLUMNS}
    text = json.dumps(
        {"prev": prev_hash, "event": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()
