"""Read-only queries that only the pages need. The services own every write."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device
from inventory.devices.service import scope_devices
from inventory.sites.models import Site


async def count_devices_by_state(db: Database, site_code: str) -> dict[str, int]:
    """Return the number of devices at a site per lifecycle state; states with none are left out."""
    query = (
        select(Device.state, func.count())
        .join(Site, Site.id == Device.site_id)
        .where(Site.code == site_code.strip())
        .group_by(Device.state)
    )
    async with db.read() as session:
        return {state: count for state, count in await session.execute(query)}


@dataclass(frozen=True)
class DeviceMatch:
    asset_tag: str
    serial_number: str
    site: str


async def find_similar_devices(
    db: Database, text: str, principal: Principal | None, *, limit: int = 10
) -> list[DeviceMatch]:
    """Find the devices whose serial number is `text`, among those `principal` may see.

    A technician who scans the manufacturer's serial-number barcode instead of the asset
    label lands on the page of a tag that does not exist; this lets that page point to the
    device they meant. Serial numbers are matched exactly, like every identifier.
    """
    query = (
        scope_devices(select(Device.asset_tag, Device.serial_number, Site.code), principal)
        .join(Site, Site.id == Device.site_id)
        .where(Device.serial_number == text.strip())
        .order_by(Device.asset_tag)
        .limit(limit)
    )
    async with db.read() as session:
        rows = await session.execute(query)
        return [DeviceMatch(tag, serial, site) for tag, serial, site in rows]
