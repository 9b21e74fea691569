"""A device's warranty coverages as the API and the device page read and add them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import col

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device
from inventory.devices.service import find_visible_device
from inventory.errors import NotFoundError
from inventory.escalations import service
from inventory.escalations.models import WarrantyCoverage
from inventory.escalations.schemas import CoverageCreate, CoverageRead
from inventory.vendors.models import Vendor

# A plain list, because mypy's overloads of select() stop matching past a dozen typed
# columns.
_COVERAGE_COLUMNS: list[Any] = [
    Device.asset_tag,
    Device.site_id,
    Device.escalation_vendor_id,
    WarrantyCoverage.id,
    WarrantyCoverage.kind,
    col(Vendor.code).label("vendor"),
    WarrantyCoverage.start_date,
    WarrantyCoverage.end_date,
    WarrantyCoverage.months,
    WarrantyCoverage.reference,
    WarrantyCoverage.created_at,
    WarrantyCoverage.created_by,
]
# The device and its coverages in one statement, because the device page shows them on every
# scan. A device without coverages gives one row of NULL coverage columns.
_COVERAGES_BY_TAG = (
    select(*_COVERAGE_COLUMNS)
    .select_from(Device)
    .outerjoin(WarrantyCoverage, col(WarrantyCoverage.device_id) == col(Device.id))
    .outerjoin(Vendor, col(Vendor.id) == col(WarrantyCoverage.vendor_id))
    .where(col(Device.asset_tag) == bindparam("asset_tag"))
    .order_by(col(WarrantyCoverage.start_date), col(WarrantyCoverage.id))
)


async def device_coverages(
    db: Database, asset_tag: str, principal: Principal | None
) -> list[CoverageRead]:
    """Return the coverages of a device the principal may see, oldest first."""
    tag = asset_tag.strip()
    rows = await db.fetch(_COVERAGES_BY_TAG, asset_tag=tag)
    # The same error for a device out of sight as for one that does not exist.
    if not rows or (
        principal is not None
        and not principal.may_see_device(rows[0].site_id, rows[0].escalation_vendor_id)
    ):
        raise NotFoundError(f"Device with asset tag {tag!r} not found.", asset_tag=tag)
    return [service.coverage_read(row, row.vendor) for row in rows if row.id is not None]


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
