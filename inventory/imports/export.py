"""The device export: a CSV file in the generic import template's columns.

An exported file can be edited and imported again with update by tag; a row left as it was
comes back as unchanged. Cells a spreadsheet would run as formulas get a leading "'", which
the import removes again. Rows are read in pages by id and written in chunks, so memory does
not grow with the number of devices.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from inventory.db import Database
from inventory.devices.models import Device, DeviceModel
from inventory.errors import NotFoundError
from inventory.escalations.exports import neutralize
from inventory.imports.formats import DEVICE_TEMPLATE
from inventory.sites.models import Site

PAGE_ROWS = 2000


def _cells(device: Device, model: DeviceModel, site_code: str) -> list[str]:
    def show(value: Any) -> str:
        if value is None:
            return ""
        return neutralize(value.isoformat() if hasattr(value, "isoformat") else str(value))

    by_field = {
        "asset_tag": device.asset_tag,
        "serial_number": device.serial_number,
        "manufacturer": model.manufacturer,
        "model": model.model,
        "device_type": model.device_type,
        "operating_system": device.operating_system,
        "site": site_code,
        "state": device.state,
        "room": device.room,
        "assignee": device.assignee,
        "purchase_date": device.purchase_date,
        "warranty_start": device.warranty_start,
        "warranty_end": device.warranty_end,
        "end_of_support": model.end_of_support,
    }
    return [show(by_field.get(name)) for name in DEVICE_TEMPLATE]


async def device_csv_chunks(db: Database, site: str | None = None) -> AsyncIterator[bytes]:
    """Yield the export as UTF-8 CSV (with a byte-order mark, for Excel) in chunks."""
    site_id = None
    if site is not None:
        async with db.read() as session:
            site_id = await session.scalar(select(Site.id).where(Site.code == site.strip()))
        if site_id is None:
            raise NotFoundError(f"Site {site.strip()!r} not found.", site=site.strip())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(DEVICE_TEMPLATE)
    yield ("\ufeff" + buffer.getvalue()).encode()
    after = 0
    while True:
        query = (
            select(Device, DeviceModel, Site.code)
            .join(DeviceModel, DeviceModel.id == Device.model_id)
            .join(Site, Site.id == Device.site_id)
            .where(col(Device.id) > after)
            .order_by(Device.id)
            .limit(PAGE_ROWS)
        )
        if site_id is not None:
            query = query.where(Device.site_id == site_id)
        async with db.read() as session:
            rows = (await session.execute(query)).all()
        if not rows:
            return
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for device, model, site_code in rows:
            writer.writerow(_cells(device, model, site_code))
        yield buffer.getvalue().encode()
        after = rows[-1][0].id
