"""Instants and calendar days in the district's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from inventory.errors import InvalidInputError

# A clock on a technician's phone may run a little ahead of the server's.
_FUTURE_TOLERANCE = timedelta(minutes=5)


def district_today(zone: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone).date()


def occurred_instant(
    value: datetime | None, zone: ZoneInfo, *, field: str = "occurred_at"
) -> datetime:
    """Return when an action happened, in UTC; a time without an offset is district time.

    Raises InvalidInputError for a time in the future.
    """
    now = datetime.now(UTC)
    if value is None:
        return now
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        instant = value.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidInputError(
            f"{field} {value.isoformat()} is out of range; give the time the step happened.",
            **{field: value.isoformat()},
        ) from exc
    if instant > now + _FUTURE_TOLERANCE:
        raise InvalidInputError(
            f"{field} {value.isoformat()} is in the future; give the time the step happened.",
            **{field: value.isoformat()},
        )
    return instant
