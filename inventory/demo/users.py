"""One demo user per role, so each view of the service can be tried at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from inventory.accounts.models import User
from inventory.accounts.service import create_user
from inventory.db import Database
from inventory.devices.models import Device
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.vendors.models import Vendor


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    scope: str
    password: str


async def create_demo_users(db: Database) -> list[DemoUser]:
    """Create the demo users with random passwords; do nothing when any user exists."""
    async with db.read() as session:
        if await session.scalar(select(func.count()).select_from(User)):
            return []
        technician = await session.scalar(
            select(Technician.employee_number).order_by(Technician.employee_number).limit(1)
        )
        # The school with the most devices in use, so its user has a real inventory to read.
        site = await session.scalar(
            select(Site.code)
            .join(Device, Device.site_id == Site.id)
            .where(Device.state.in_(["enrolled", "deployed", "in_repair"]))
            .group_by(Site.code)
            .order_by(func.count().desc(), Site.code)
            .limit(1)
        ) or await session.scalar(select(Site.code).order_by(Site.code).limit(1))
        # The vendor with the most devices escalated to it, so its user has work to see.
        vendor = await session.scalar(
            select(Vendor.code)
            .join(Device, Device.escalation_vendor_id == Vendor.id)
            .group_by(Vendor.code)
            .order_by(func.count().desc(), Vendor.code)
            .limit(1)
        ) or await session.scalar(select(Vendor.code).order_by(Vendor.code).limit(1))
    if technician is None or site is None or vendor is None:
        return []

    plans = [
        ("it-office", "admin", {}, "the whole district"),
        ("tech", "technician", {"technician": technician}, f"technician {technician}"),
        ("site", "site", {"sites": [site]}, f"site {site}"),
        ("vendor", "vendor", {"vendor": vendor}, f"vendor {vendor}"),
    ]
    users = []
    for username, role, scope, label in plans:
        password = secrets.token_urlsafe(9)
        await create_user(db, username, role, password, **scope)
        users.append(DemoUser(username, role, label, password))
    return users
