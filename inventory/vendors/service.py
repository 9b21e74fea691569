"""Operations on vendors."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.accounts.principal import Principal, Role
from inventory.db import Database
from inventory.errors import ConflictError, NotFoundError
from inventory.vendors.models import Vendor
from inventory.vendors.schemas import VendorCreate, VendorRead


async def find_vendor(
    session: AsyncSession, code: str, principal: Principal | None = None
) -> Vendor:
    """Return the vendor with `code`; a vendor user sees only its own vendor."""
    vendor = await session.scalar(select(Vendor).where(Vendor.code == code.strip()))
    hidden = (
        vendor is not None
        and principal is not None
        and principal.role is Role.VENDOR
        and principal.vendor_id != vendor.id
    )
    if vendor is None or hidden:
        raise NotFoundError(f"Vendor {code!r} not found.", vendor=code)
    return vendor


async def create_vendor(db: Database, data: VendorCreate) -> VendorRead:
    message = f"Vendor {data.code!r} already exists."
    try:
        async with db.write() as session:
            if await session.scalar(select(Vendor.id).where(Vendor.code == data.code)):
                raise ConflictError(message, vendor=data.code)
            vendor = Vendor(**data.model_dump())
            session.add(vendor)
    except IntegrityError as exc:
        raise ConflictError(message, vendor=data.code) from exc
    return VendorRead.model_validate(vendor)


async def get_vendor(db: Database, code: str, principal: Principal | None = None) -> VendorRead:
    async with db.read() as session:
        return VendorRead.model_validate(await find_vendor(session, code, principal))


async def list_vendors(db: Database, principal: Principal | None = None) -> list[VendorRead]:
    query = select(Vendor).order_by(Vendor.code)
    if principal is not None and principal.role is Role.VENDOR:
        query = query.where(Vendor.id == principal.vendor_id)
    async with db.read() as session:
        rows = await session.execute(query)
        return [VendorRead.model_validate(row) for row in rows.scalars()]
