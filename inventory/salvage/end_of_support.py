"""End of support (a Chromebook's Auto Update Expiration): per model, per device, imported
from a list, and forecast per site and fiscal year for budget planning.

A date known only to the year or month is stored as the first day of that year or month, the
earliest day it could mean, so plans err early rather than late.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device, DeviceModel
from inventory.devices.service import find_device, model_match_key
from inventory.errors import InvalidInputError, NotFoundError
from inventory.fiscal import FiscalYear, FiscalYearError
from inventory.lifecycle import TERMINAL_STATES, State
from inventory.salvage.models import DeviceEndOfSupport
from inventory.salvage.schemas import EndOfSupportSet, Forecast, ForecastRow
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.timeutil import district_today

_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")
MAX_FORECAST_YEARS = 20
# Devices that are counted: in service or in stock. Lost and finished devices are not
# replaced for their end of support.
_COUNTED_STATES = sorted(set(State) - TERMINAL_STATES - {State.LOST})


def parse_end_of_support(text: str) -> tuple[date, str]:
    """Read YYYY, YYYY-MM or YYYY-MM-DD and return the earliest day it means and its
    precision; raise ValueError for anything else."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a year, YYYY-MM month or YYYY-MM-DD date")
    year, month, day = match.groups()
    if day is not None:
        return date(int(year), int(month), int(day)), "day"
    if month is not None:
        return date(int(year), int(month), 1), "month"
    return date(int(year), 1, 1), "year"


async def set_device_end_of_support(
    db: Database, asset_tag: str, data: EndOfSupportSet, principal: Principal | None
) -> DeviceEndOfSupport:
    """Set a device's own end of support, which overrides its model's."""
    async with db.write() as session:
        device = await find_device(session, asset_tag)
        row = await session.get(DeviceEndOfSupport, device.id)
        if row is None:
            assert device.id is not None
            row = DeviceEndOfSupport(
                device_id=device.id, end_of_support=data.end_of_support, precision=data.precision
            )
            session.add(row)
        row.end_of_support = data.end_of_support
        row.precision = data.precision
        row.reason = data.reason
        row.set_by = principal.username if principal else None
        await session.flush()
        return row


async def clear_device_end_of_support(db: Database, asset_tag: str) -> None:
    """Remove a device's own end of support, so its model's applies again."""
    async with db.write() as session:
        device = await find_device(session, asset_tag)
        row = await session.get(DeviceEndOfSupport, device.id)
        if row is None:
            raise NotFoundError(
                f"Device {device.asset_tag!r} has no end of support of its own.",
                asset_tag=device.asset_tag,
            )
        await session.delete(row)


@dataclass
class ImportReport:
    updated: int = 0
    unchanged: int = 0
    # "manufacturer model" of rows that match no device model.
    unmatched: list[str] = field(default_factory=list)


async def import_model_dates(db: Database, text: str, *, dry_run: bool = False) -> ImportReport:
    """Set device models' end of support from CSV with the columns manufacturer, model and
    end_of_support (YYYY, YYYY-MM or YYYY-MM-DD).

    A row matches a model only when manufacturer and model are equal after folding case and
    runs of spaces, never by substring. Rows that match no model are reported and skipped.
    Raises InvalidInputError, and changes nothing, when a row is malformed.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    needed = {"manufacturer", "model", "end_of_support"}
    if reader.fieldnames is None or not needed <= set(reader.fieldnames):
        raise InvalidInputError(
            f"The end-of-support file needs the columns {', '.join(sorted(needed))}; "
            f"it has {', '.join(reader.fieldnames or []) or 'none'}.",
        )
    requested: dict[str, tuple[str, date, str]] = {}
    for line, row in enumerate(reader, start=2):
        manufacturer, model = (row["manufacturer"] or "").strip(), (row["model"] or "").strip()
        if not manufacturer or not model:
            raise InvalidInputError(f"Line {line}: manufacturer and model are required.", line=line)
        try:
            day, precision = parse_end_of_support(row["end_of_support"] or "")
        except ValueError as exc:
            raise InvalidInputError(f"Line {line}: end_of_support {exc}.", line=line) from exc
        requested[model_match_key(manufacturer, model)] = (
            f"{manufacturer} {model}",
            day,
            precision,
        )
    report = ImportReport()
    async with db.write() as session:
        models = {
            model.match_key: model
            for model in await session.scalars(
                select(DeviceModel).where(DeviceModel.match_key.in_(list(requested)))
            )
        }
        for key, (name, day, precision) in requested.items():
            model = models.get(key)
            if model is None:
                report.unmatched.append(name)
            elif model.end_of_support == day and model.end_of_support_precision == precision:
                report.unchanged += 1
            else:
                model.end_of_support = day
                model.end_of_support_precision = precision
                report.updated += 1
        if dry_run:
            await session.rollback()
    return report


def _fiscal_year(label: str | None, default: FiscalYear, name: str) -> FiscalYear:
    if label is None:
        return default
    try:
        return FiscalYear.parse(label)
    except FiscalYearError as exc:
        raise InvalidInputError(f"{name}: {exc}.", **{name: label}) from exc


async def forecast(
    db: Database,
    *,
    site_code: str | None = None,
    first_year: str | None = None,
    years: int = 5,
) -> Forecast:
    """Count the devices in service that reach end of support, per site and fiscal year.

    A device's own date overrides its model's. Devices in a terminal state or lost are not
    counted, nor are devices with no known end of support. Sites and years with no devices
    give no row.
    """
    if not 1 <= years <= MAX_FORECAST_YEARS:
        raise InvalidInputError(
            f"years {years} is out of range; use 1 to {MAX_FORECAST_YEARS}.", years=years
        )
    today = district_today(db.settings.zone)
    first = _fiscal_year(first_year, FiscalYear.containing(today), "first_year")
    last = FiscalYear(first.start_year + years - 1)
    own = aliased(DeviceEndOfSupport)
    effective = func.coalesce(own.end_of_support, DeviceModel.end_of_support)
    query = (
        select(Site.code, effective, func.count())
        .select_from(Device)
        .join(DeviceModel, DeviceModel.id == Device.model_id)
        .join(Site, Site.id == Device.site_id)
        .outerjoin(own, own.device_id == Device.id)
        .where(Device.state.in_(_COUNTED_STATES), effective.is_not(None))
        .where(effective <= last.end)
        .group_by(Site.code, effective)
    )
    async with db.read() as session:
        if site_code:
            site = await find_site(session, site_code)
            query = query.where(Device.site_id == site.id)
        grouped = (await session.execute(query)).all()
    counts: Counter[tuple[str, str]] = Counter()
    before = 0
    for code, end, count in grouped:
        if end < first.start:
            before += count
        else:
            counts[(code, FiscalYear.containing(end).label)] += count
    rows = [
        ForecastRow(site=code, fiscal_year=label, devices=count)
        for (code, label), count in sorted(counts.items())
    ]
    return Forecast(
        first_fiscal_year=first.label,
        last_fiscal_year=last.label,
        rows=rows,
        already_unsupported=before,
    )
