"""The hash chain that makes each device's history tamper-evident. Pure: no I/O.

Each event's hash is SHA-256 over the previous event's hash of the same device and a
canonical JSON text of the event's own columns. Chains are per device, so writes to
different devices never wait on each other. A change to a stored event, or a removed event,
makes its hash (or the next one's) stop matching.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
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


# The encoder and string encoder json.dumps uses with event_hash's options, kept so that
# EventHasher writes the same text without building a new encoder per value.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_encode_string = json.encoder.encode_basestring


def encode_value(value: Any) -> str:
    """Encode one column's value as it appears inside event_hash's JSON text.

    The text of a document (an event's data) is valid JSON of the same value, so a writer
    may store it as the column's value too.
    """
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    return _ENCODER.encode(_canonical(value))


class EventHasher:
    """Hashes events that share most column values, with the result of `event_hash`.

    The JSON text of the shared columns is built once. Each `hash` call encodes only the
    `varying` columns and the previous hash, and joins them into the same text that
    `event_hash` builds, so the two give the same digest for the same event.
    """

    def __init__(self, shared: Mapping[str, Any], varying: Sequence[str]) -> None:
        unknown = set(varying) - set(HASHED_COLUMNS)
        if unknown:
            raise ValueError(f"{sorted(unknown)} are not hashed event columns")
        position = {name: index for index, name in enumerate(varying)}
        # The text between the varying values, and for each slot the index of its value
        # in the `values` given to `hash`. json.dumps with sort_keys orders the outer keys
        # "event" before "prev" and the columns by name.
        self._pieces: list[str] = []
        self._slots: list[int] = []
        text = '{"event":{'
        for number, name in enumerate(sorted(HASHED_COLUMNS)):
            separator = "," if number else ""
            text += f"{separator}{_encode_string(name)}:"
            if name in position:
                self._pieces.append(text)
                self._slots.append(position[name])
                text = ""
            else:
                text += encode_value(shared.get(name))
        self._pieces.append(text + '},"prev":')
        self._count = len(varying)

    def hash(self, prev_hash: str | None, values: Sequence[Any]) -> str:
        """Return the event's hex SHA-256, given the varying columns in their order."""
        return self.hash_encoded(prev_hash, [encode_value(value) for value in values])

    def hash_encoded(self, prev_hash: str | None, encoded: Sequence[str]) -> str:
        """Return the event's hex SHA-256, given the `encode_value` texts of the varying
        columns in their order."""
        if len(encoded) != self._count:
            raise ValueError(f"expected {self._count} varying values, got {len(encoded)}")
        parts: list[str] = []
        for piece, slot in zip(self._pieces, self._slots, strict=False):
            parts.append(piece)
            parts.append(encoded[slot])
        parts.append(self._pieces[-1])
        parts.append("null" if prev_hash is None else _encode_string(prev_hash))
        parts.append("}")
        return hashlib.sha256("".join(parts).encode()).hexdigest()
