"""Printing QR asset labels for devices: which devices, and the sheet the labels package renders."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

import labels
from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device
from inventory.devices.reservations import batch_tags
from inventory.devices.service import scope_devices
from inventory.errors import InvalidInputError, NotFoundError
from inventory.lifecycle import State
from inventory.sites.models import Site
from inventory.sites.service import find_site

# Labels in one request; a school's whole fleet fits, a district's should be split by site.
MAX_LABELS = 20_000


@dataclass(frozen=True)
class LabelRun:
    pdf: bytes
    labels: int
    pages: int
    warnings: list[str]


async def _specs(
    db: Database,
    principal: Principal | None,
    *,
    site: str | None,
    state: str | None,
    tags: list[str] | None,
) -> list[labels.LabelSpec]:
    query = scope_devices(select(Device.asset_tag, Site.code), principal).join(
        Site, Site.id == Device.site_id
    )
    if state:
        if state not in set(State):
            raise InvalidInputError(
                f"Unknown state {state!r}; use one of {', '.join(State)}.", state=state
            )
        query = query.where(Device.state == state)
    async with db.read() as session:
        if site:
            found = await find_site(session, site, principal)
            query = query.where(Device.site_id == found.id)
        if tags:
            query = query.where(Device.asset_tag.in_(tags))
        rows = dict(
            (tag, code)
            for tag, code in await session.execute(
                query.order_by(Device.asset_tag).limit(MAX_LABELS + 1)
            )
        )
    if tags:
        missing = [tag for tag in tags if tag not in rows]
        if missing:
            shown = ", ".join(missing[:10])
            raise NotFoundError(
                f"No device with asset tag {shown}; check the tags, or receive the devices first.",
                asset_tags=missing[:100],
            )
        ordered = tags
    else:
        ordered = list(rows)
    if not ordered:
        raise NotFoundError("No devices match these filters, so there are no labels to print.")
    if len(ordered) > MAX_LABELS:
        raise InvalidInputError(
            f"More than {MAX_LABELS} labels match; print one site or state at a time."
        )
    return [labels.LabelSpec(tag, site_code=rows[tag]) for tag in ordered]


async def print_labels(
    db: Database,
    principal: Principal | None,
    *,
    site: str | None = None,
    state: str | None = None,
    tags: list[str] | None = None,
    batch: str | None = None,
    template: str = "avery-5160",
    skip: int = 0,
) -> LabelRun:
    """Render the labels of the matching devices, in asset-tag order or in the order of `tags`.

    With `batch`, render the still unused tags of that reservation batch instead: labels
    printed before their devices arrive.
    """
    if batch:
        reserved = await batch_tags(db, batch)
        if not reserved:
            raise NotFoundError(f"Reservation batch {batch!r} has no unused tags.", batch=batch)
        specs = [labels.LabelSpec(tag, site_code=site) for tag in reserved]
    else:
        specs = await _specs(db, principal, site=site, state=state, tags=tags)
    try:
        # Encoding QR codes is CPU work, so it runs in a thread and the server goes on serving.
        sheet = await asyncio.to_thread(
            labels.render_sheet, specs, template, db.settings.base_url, skip
        )
    except labels.LabelError as exc:
        raise InvalidInputError(str(exc)) from exc
    return LabelRun(
        pdf=sheet.data,
        labels=len(specs),
        pages=sheet.page_count,
        warnings=[str(warning) for warning in sheet.warnings],
    )


def split_tags(text: str | None) -> list[str] | None:
    """Split a comma-separated list of asset tags, trimming each and dropping empty ones."""
    if not text:
        return None
    tags = [tag.strip() for tag in text.split(",") if tag.strip()]
    return tags or None
