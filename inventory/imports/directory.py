"""Import sites and technicians: new codes are created, known ones updated, all or nothing.

These files are small (a district has thousands of sites, not millions), so rows are checked
in memory and written through the ORM in one transaction. An empty cell leaves the stored
value as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from inventory.db import Database
from inventory.imports import values
from inventory.imports.formats import SITE_ALIASES, TECHNICIAN_ALIASES, ColumnMap, map_columns
from inventory.imports.reading import Cell, Table
from inventory.imports.report import (
    CREATED,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportReport,
    RowResult,
)
from inventory.sites.models import SITE_KINDS, Site
from inventory.technicians.models import Technician

log = logging.getLogger(__name__)

_TRUE = {"yes", "y", "true", "1", "active"}
_FALSE = {"no", "n", "false", "0", "inactive"}


def _cell(columns: ColumnMap, cells: list[Cell], name: str) -> Cell:
    position = columns.columns.get(name)
    if position is None or position >= len(cells):
        return None
    return cells[position]


def _site_fields(
    columns: ColumnMap, cells: list[Cell], notices: list[str]
) -> tuple[str, dict[str, Any], list[str]]:
    problems: list[str] = []

    def check(parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except values.ValueProblem as exc:
            problems.append(str(exc))
            return None

    code = check(values.identifier, _cell(columns, cells, "code"), "site code") or ""
    if not code and not problems:
        problems.append("site code is missing.")
    name, notice = check(values.name_text, _cell(columns, cells, "name"), "name") or (None, None)
    if notice:
        notices.append(notice)
    kind = values.text(_cell(columns, cells, "kind")).casefold().replace(" ", "_") or None
    if kind is not None and kind not in SITE_KINDS:
        problems.append(f"kind {kind!r} is not one of {', '.join(SITE_KINDS)}.")
    # A street with its city, state and ZIP code, when the file splits them.
    street = values.text(_cell(columns, cells, "address"))
    place = " ".join(
        part
        for part in (
            values.text(_cell(columns, cells, "state")),
            values.text(_cell(columns, cells, "zip")),
        )
        if part
    )
    address = ", ".join(
        part for part in (street, values.text(_cell(columns, cells, "city")), place) if part
    )
    fields = {
        "name": name,
        "kind": kind,
        "region": check(values.free_text, _cell(columns, cells, "region"), "region", 200),
        "enrollment": check(values.parse_count, _cell(columns, cells, "enrollment"), "enrollment"),
        "external_code": check(
            values.identifier, _cell(columns, cells, "external_code"), "external code"
        )
        or None,
        "address": check(values.free_text, address, "address", 200),
        "latitude": check(
            values.parse_coordinate, _cell(columns, cells, "latitude"), "latitude", 90
        ),
        "longitude": check(
            values.parse_coordinate, _cell(columns, cells, "longitude"), "longitude", 180
        ),
    }
    return code, fields, problems


def _technician_fields(
    columns: ColumnMap, cells: list[Cell], notices: list[str]
) -> tuple[str, dict[str, Any], list[str]]:
    problems: list[str] = []

    def check(parse: Callable[..., Any], *args: Any) -> Any:
        try:
            return parse(*args)
        except values.ValueProblem as exc:
            problems.append(str(exc))
            return None

    number = check(values.identifier, _cell(columns, cells, "employee_number"), "employee number")
    if not number and not problems:
        problems.append("employee number is missing.")
    name, notice = check(values.name_text, _cell(columns, cells, "name"), "name") or (None, None)
    if notice:
        notices.append(notice)
    if name is None:
        parts = [
            values.text(_cell(columns, cells, "first_name")),
            values.text(_cell(columns, cells, "last_name")),
        ]
        name = check(values.free_text, " ".join(part for part in parts if part), "name", 200)
    email = check(values.free_text, _cell(columns, cells, "email"), "email", 200)
    if email is not None and ("@" not in email or " " in email):
        problems.append(f"email {email!r} is not an e-mail address.")
    active_text = values.text(_cell(columns, cells, "active")).casefold()
    active = None
    if active_text in _TRUE:
        active = True
    elif active_text in _FALSE:
        active = False
    elif active_text:
        problems.append(f"active {active_text!r} is not yes or no.")
    fields = {
        "name": name,
        "email": email,
        "active": active,
        "home_region": check(
            values.free_text, _cell(columns, cells, "home_region"), "home region", 200
        ),
    }
    return number or "", fields, problems


class _Rollback(Exception):
    pass


async def _import(
    db: Database,
    table: Table,
    report: ImportReport,
    *,
    model: type[Site] | type[Technician],
    key_column: str,
    aliases: dict[str, tuple[str, ...]],
    read_row: Any,
    defaults: dict[str, Any],
    dry_run: bool,
) -> ImportReport:
    columns = map_columns(table.header, aliases, (key_column,))
    report.format_label = table.describe()
    report.mapping = columns.lines()
    report.warnings.extend(table.warnings)
    report.dry_run = dry_run
    try:
        async with db.write() as session:
            existing = {
                getattr(row, key_column): row for row in await session.scalars(select(model))
            }
            seen: dict[str, int] = {}
            for line, cells in table.rows:
                notices: list[str] = []
                key, fields, problems = read_row(columns, cells, notices)
                if key in seen:
                    problems.append(f"{key!r} is also on line {seen[key]}.")
                record = existing.get(key)
                if record is None and key and not fields["name"]:
                    problems.append("name is missing.")
                if problems:
                    report.add(RowResult(line, key, REJECTED, tuple(problems)))
                    continue
                seen[key] = line
                given = {name: value for name, value in fields.items() if value is not None}
                if record is None:
                    session.add(model(**{key_column: key, **defaults, **given}))
                    report.add(RowResult(line, key, CREATED, tuple(notices)))
                    continue
                changed = sorted(
                    name for name, value in given.items() if getattr(record, name) != value
                )
                if not changed:
                    report.add(RowResult(line, key, UNCHANGED, tuple(notices)))
                    continue
                for name in changed:
                    setattr(record, name, given[name])
                reasons = (f"changed: {', '.join(changed)}", *notices)
                report.add(RowResult(line, key, UPDATED, reasons))
            if dry_run or report.counts[REJECTED]:
                raise _Rollback
    except _Rollback:
        return report
    report.committed = True
    # The counts go under one key: "created" would clash with the log record's own field.
    log.info(
        f"{report.kind} imported", extra={"source": report.source, "rows": dict(report.counts)}
    )
    return report


async def import_sites(
    db: Database,
    table: Table,
    *,
    source: str = "upload",
    dry_run: bool = False,
    row_sink: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Create or update sites from a table keyed by site code (DBN, CDS code, ...)."""
    report = ImportReport(kind="sites", source=source, row_sink=row_sink)
    return await _import(
        db,
        table,
        report,
        model=Site,
        key_column="code",
        aliases=SITE_ALIASES,
        read_row=_site_fields,
        defaults={"kind": "school"},
        dry_run=dry_run,
    )


async def import_technicians(
    db: Database,
    table: Table,
    *,
    source: str = "upload",
    dry_run: bool = False,
    row_sink: Callable[[RowResult], None] | None = None,
) -> ImportReport:
    """Create or update technicians from a table keyed by employee number."""
    report = ImportReport(kind="technicians", source=source, row_sink=row_sink)
    return await _import(
        db,
        table,
        report,
        model=Technician,
        key_column="employee_number",
        aliases=TECHNICIAN_ALIASES,
        read_row=_technician_fields,
        defaults={"active": True},
        dry_run=dry_run,
    )
