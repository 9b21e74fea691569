"""Asset tags reserved ahead of delivery, so labels can be printed before devices arrive."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device, TagReservation
from inventory.errors import InvalidInputError
from inventory.identifiers import identifier_problem, normalize_identifier
from inventory.sites.service import find_site
from inventory.types import utc_now

log = logging.getLogger(__name__)

MAX_RESERVED = 5000


@dataclass(frozen=True)
class ReservationBatch:
    batch: str
    site: str | None
    tags: list[str]


@dataclass(frozen=True)
class ReservationInfo:
    asset_tag: str
    batch: str
    site: str | None
    reserved_at: datetime
    reserved_by: str | None


async def reserve_tags(
    db: Database,
    *,
    count: int,
    prefix: str,
    digits: int = 6,
    site: str | None = None,
    actor: Principal | None = None,
) -> ReservationBatch:
    """Reserve `count` new tags `{prefix}{number}`, continuing after the highest one in use.

    Numbers are zero-padded to `digits`. A tag already on a device or in another
    reservation is skipped, so a batch never collides with a real device.
    """
    prefix = normalize_identifier(prefix)
    if not 1 <= count <= MAX_RESERVED:
        raise InvalidInputError(f"count {count} is out of range; reserve 1 to {MAX_RESERVED}.")
    if not 1 <= digits <= 12:
        raise InvalidInputError(f"digits {digits} is out of range; use 1 to 12.")
    problem = identifier_problem(prefix + "0" * digits) if prefix else None
    if problem:
        raise InvalidInputError(f"Prefix {prefix!r} cannot start an asset tag: it {problem}.")
    pattern = re.compile(rf"^{re.escape(prefix)}(\d{{{digits}}})$")
    now = utc_now()
    batch = f"{prefix or 'tags'}-{now:%Y%m%d%H%M%S}"
    async with db.write() as session:
        site_id = None
        if site:
            site_id = (await find_site(session, site, actor)).id
        start = await _highest_number(session, prefix, pattern) + 1
        if start + count > 10**digits:
            raise InvalidInputError(
                f"Prefix {prefix!r} with {digits} digits has no room for {count} more tags; "
                "use more digits or another prefix."
            )
        tags = [f"{prefix}{number:0{digits}d}" for number in range(start, start + count)]
        for tag in tags:
            session.add(
                TagReservation(
                    asset_tag=tag,
                    batch=batch,
                    site_id=site_id,
                    reserved_at=now,
                    reserved_by=actor.username if actor else None,
                )
            )
    log.info("asset tags reserved", extra={"batch": batch, "count": count, "first": tags[0]})
    return ReservationBatch(batch=batch, site=site, tags=tags)


async def _highest_number(session: AsyncSession, prefix: str, pattern: re.Pattern[str]) -> int:
    highest = 0
    for model in (Device, TagReservation):
        rows = await session.execute(
            select(model.asset_tag).where(
                model.asset_tag.startswith(prefix, autoescape=True)  # type: ignore[call-arg]
            )
        )
        for (tag,) in rows:
            match = pattern.match(tag)
            if match:
                highest = max(highest, int(match.group(1)))
    return highest


async def batch_tags(db: Database, batch: str, *, unused_only: bool = True) -> list[str]:
    query = select(TagReservation.asset_tag).where(TagReservation.batch == batch.strip())
    if unused_only:
        query = query.where(TagReservation.used_at.is_(None))
    async with db.read() as session:
        return list((await session.execute(query.order_by(TagReservation.asset_tag))).scalars())


async def find_reservation(db: Database, asset_tag: str) -> ReservationInfo | None:
    from inventory.sites.models import Site

    async with db.read() as session:
        row = (
            await session.execute(
                select(TagReservation, Site.code)
                .outerjoin(Site, Site.id == TagReservation.site_id)
                .where(
                    TagReservation.asset_tag == asset_tag.strip(),
                    TagReservation.used_at.is_(None),
                )
            )
        ).first()
    if row is None:
        return None
    reservation, site_code = row
    return ReservationInfo(
        asset_tag=reservation.asset_tag,
        batch=reservation.batch,
        site=site_code,
        reserved_at=reservation.reserved_at,
        reserved_by=reservation.reserved_by,
    )


async def mark_used(session: AsyncSession, asset_tag: str) -> str | None:
    """Mark the tag's reservation used, in the caller's transaction; return its batch."""
    reservation = await session.get(TagReservation, asset_tag)
    if reservation is None or reservation.used_at is not None:
        return None
    reservation.used_at = utc_now()
    return reservation.batch
