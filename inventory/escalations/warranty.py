"""A device's warranty coverages as the API and the device page read and add them."""

from __future__ import annotations

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.service import find_visible_device
from inventory.escalations import service
from inventory.escalations.schemas import CoverageCreate, CoverageRead


async def device_coverages(
    db: Database, asset_tag: str, principal: Principal | None
) -> list[CoverageRead]:
    """Return the coverages of a device the principal may see, oldest first."""
    async with db.read() as session:
        device = await find_visible_device(session, asset_tag, principal)
        assert device.id is not None
        return await service.list_coverages(session, device.id)


async def add_device_coverage(
    db: Database, asset_tag: str, data: CoverageCreate, principal: Principal | None
) -> list[CoverageRead]:
    """Add one coverage to a device and return all of its coverages."""
    async with db.write() as session:
        device = await find_visible_device(session, asset_tag, principal)
        coverage = await service.resolve_coverage(session, data)
        await service.add_coverages(
            session, device, [coverage], principal.username if principal else None
        )
        assert device.id is not None
        return await service.list_coverages(session, device.id)
