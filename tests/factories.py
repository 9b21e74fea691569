"""Small builders of sites, technicians, vendors, models and devices for tests, and a runner
of the `inventory` command."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from typing import Any

from inventory.db import Database
from inventory.devices import catalog
from inventory.devices.schemas import DeviceModelCreate, DeviceReceive
from inventory.devices.service import receive_device
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from inventory.technicians.schemas import TechnicianCreate
from inventory.technicians.service import create_technician
from inventory.vendors.schemas import VendorCreate
from inventory.vendors.service import create_vendor


async def make_world(db: Database) -> dict[str, Any]:
    """Create two sites, two technicians, a vendor and a Chromebook model."""
    north = await create_site(
        db,
        SiteCreate(
            code="01M015", name="P.S. 015 Roberto Clemente", region="Manhattan", enrollment=250
        ),
    )
    south = await create_site(
        db,
        SiteCreate(code="02M019", name="P.S. 019 Asher Levy", region="Manhattan", enrollment=400),
    )
    ana = await create_technician(
        db, TechnicianCreate(employee_number="000123", name="Ana Reyes", home_region="Manhattan")
    )
    ben = await create_technician(
        db, TechnicianCreate(employee_number="000456", name="Ben Okafor", home_region="Bronx")
    )
    vendor = await create_vendor(db, VendorCreate(code="acer", name="Acer America"))
    model = await catalog.create_device_model(
        db,
        DeviceModelCreate(
            manufacturer="Acer",
            model="Chromebook 311 (C722)",
            device_type="chromebook",
            operating_system="ChromeOS",
            end_of_support=date(2029, 6, 1),
            end_of_support_precision="month",
        ),
    )
    return {"sites": (north, south), "technicians": (ana, ben), "vendor": vendor, "model": model}


async def receive(
    db: Database,
    asset_tag: str,
    *,
    serial: str | None = None,
    site: str = "01M015",
    technician: str = "000123",
    warranty_start: date | None = date(2025, 8, 1),
    warranty_end: date | None = date(2028, 7, 31),
    occurred_at: datetime | None = None,
) -> Any:
    _status, result = await receive_device(
        db,
        DeviceReceive(
            asset_tag=asset_tag,
            serial_number=serial or f"SN-{asset_tag}",
            manufacturer="Acer",
            model="Chromebook 311 (C722)",
            site=site,
            technician=technician,
            warranty_start=warranty_start,
            warranty_end=warranty_end,
            occurred_at=occurred_at,
        ),
    )
    return result


def run_cli(
    database_url: str, *args: str, stdin: str = "", **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run `inventory ARGS` in a subprocess against `database_url`.

    Keyword arguments set further settings, such as base_url="https://..." for
    INVENTORY_BASE_URL; the environment defaults to test and the log level to ERROR.
    """
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "ERROR",
        **{f"INVENTORY_{name.upper()}": value for name, value in settings.items()},
    }
    return subprocess.run(
        [sys.executable, "-m", "inventory.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
