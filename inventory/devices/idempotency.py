"""Replay of requests retried with the same Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import IdempotencyRecord
from inventory.errors import ConflictError, InvalidInputError, ServiceError
from inventory.lifecycle import LifecycleError

MAX_KEY_LENGTH = 200


def request_fingerprint(method: str, path: str, body: Any, principal: Principal | None) -> str:
    """Hash what makes two requests the same: user, method, path and body."""
    user = principal.user_id if principal else None
    canonical = json.dumps(
        {"user": user, "body": body}, sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInputError(
            f"Invalid Idempotency-Key {key[:40]!r}: use 1 to {MAX_KEY_LENGTH} printable "
            "characters, such as a UUID.",
        )
    return key


async def _stored(db: Database, key: str, fingerprint: str) -> tuple[int, dict] | None:
    async with db.read() as session:
        record = await session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise InvalidInputError(
            f"Idempotency-Key {key.partition(':')[2]!r} was already used for a different "
            "request; use a new key for a new request.",
        )
    return record.status_code, record.response


async def run_once(
    db: Database,
    key: str | None,
    fingerprint: str,
    operation: Callable[[AsyncSession], Awaitable[tuple[int, dict]]],
    principal: Principal | None = None,
) -> tuple[int, dict]:
    """Run a write operation once per key and return its status code and body.

    Keys belong to the user who sent them, so two users' keys never meet. The operation
    and the record of its response commit in one transaction, so a retry finds either both
    or neither. Without a key the operation simply runs.
    """
    if key is not None:
        key = f"{principal.user_id if principal else '-'}:{key}"
        replay = await _stored(db, key, fingerprint)
        if replay is not None:
            return replay
    try:
        async with db.write() as session:
            status_code, body = await operation(session)
            if key is not None:
                session.add(
                    IdempotencyRecord(
                        key=key, fingerprint=fingerprint, status_code=status_code, response=body
                    )
                )
        return status_code, body
    except (IntegrityError, ServiceError, LifecycleError) as exc:
        # Two requests with one key ran at once and the other committed first: this one
        # lost the race on the device row or on the key (and may have seen the device
        # already changed), so it replays the winner's response.
        if key is not None:
            replay = await _stored(db, key, fingerprint)
            if replay is not None:
                return replay
        if isinstance(exc, IntegrityError):
            # A concurrent request took the same asset tag or serial number first.
            raise ConflictError(
                "The request conflicts with a change made at the same moment; reload and "
                "try again.",
            ) from exc
        raise
