"""Turn one row of a device file into a checked DeviceRow. Pure: no database.

Each format names its columns differently (see formats.py); here a row's cells become the
same fields whatever the format, and every value rule of values.py is applied. A row with
problems yields all of them at once, so a file is fixed in one pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from inventory.imports import values
from inventory.imports.formats import ColumnMap
from inventory.imports.reading import Cell
from inventory.lifecycle import State

# States an imported device may start in; the rest are reached only through lifecycle actions.
IMPORT_STATES = frozenset({State.RECEIVED, State.ENROLLED, State.DEPLOYED, State.LOST})

# Google's device status: an active device is in use, a disabled one has been reported
# missing. A deprovisioned device has left management and is not imported.
_GOOGLE_STATUS = {"active": State.ENROLLED, "disabled": State.LOST}


@dataclass
class DeviceRow:
    line: int
    asset_tag: str
    serial_number: str
    manufacturer: str
    model: str
    device_type: str | None
    operating_system: str | None
    site: str | None
    state: State | None
    room: str | None
    assignee: str | None
    purchase_date: date | None
    purchase_cost: Decimal | None
    warranty_start: date | None
    warranty_end: date | None
    warranty_months: int | None
    end_of_support: date | None
    notes: str | None
    # The asset tag was generated because the row has none.
    tag_generated: bool = False


@dataclass(frozen=True)
class RowRules:
    format_name: str
    date_format: str | None
    # Prefix of generated asset tags for rows without one; None makes a missing tag an error.
    generate_tags: str | None


def _state(value: str, format_name: str, has_assignee: bool) -> State | None:
    if not value:
        return None
    folded = value.strip().casefold()
    if format_name == "google":
        if folded == "deprovisioned":
            raise values.ValueProblem(
                "status DEPROVISIONED: the device has left management; remove the row or "
                "clear its status to import it as received."
            )
        state = _GOOGLE_STATUS.get(folded)
        if state is None:
            raise values.ValueProblem(f"status {value!r} is not ACTIVE, DISABLED or DEPROVISIONED.")
        return State.DEPLOYED if state is State.ENROLLED and has_assignee else state
    try:
        state = State(folded)
    except ValueError:
        raise values.ValueProblem(
            f"state {value!r} is not a lifecycle state; use one of "
            f"{', '.join(sorted(IMPORT_STATES))}."
        ) from None
    if state not in IMPORT_STATES:
        raise values.ValueProblem(
            f"state {value!r} cannot be imported; devices start in one of "
            f"{', '.join(sorted(IMPORT_STATES))}, and later states are reached through "
            "lifecycle actions."
        )
    return state


def _google_site(org_unit_path: str) -> str:
    # /Students/01M015 is taken to mean site 01M015: the last part of the path.
    return org_unit_path.rstrip("/").rsplit("/", 1)[-1]


# Fields of a device row, each read from the column that ColumnMap assigns it, if any.
_FIELDS = (
    "asset_tag",
    "serial_number",
    "model",
    "manufacturer",
    "device_type",
    "operating_system",
    "site",
    "room",
    "assignee",
    "state",
    "purchase_date",
    "warranty_start",
    "warranty_end",
    "end_of_support",
    "warranty_months",
    "purchase_cost",
    "notes",
)


class DeviceRowParser:
    """Checks the rows of one file, with its column positions looked up once."""

    def __init__(self, columns: ColumnMap, rules: RowRules) -> None:
        self.rules = rules
        self.has_site = "site" in columns.columns
        self.positions = {name: columns.columns.get(name) for name in _FIELDS}

    def parse(self, line: int, cells: list[Cell]) -> tuple[DeviceRow | None, str, list[str]]:
        """Return the checked row (None when it has problems), its key and its problems."""
        rules = self.rules
        positions = self.positions
        count = len(cells)
        problems: list[str] = []

        def cell(name: str) -> Cell:
            position = positions[name]
            if position is None or position >= count:
                return None
            return cells[position]

        def check(parse: Callable[..., Any], *args: Any) -> Any:
            if args[0] is None:
                # An absent column or an empty XLSX cell: every parser reads it as no value.
                return None
            try:
                return parse(*args)
            except values.ValueProblem as exc:
                problems.append(str(exc))
                return None

        asset_tag = check(values.identifier, cell("asset_tag"), "asset tag") or ""
        key = asset_tag
        generated = False
        if not asset_tag and not problems:
            if rules.generate_tags is None:
                problems.append(
                    "asset tag is missing; add it, or ask for generated tags for rows without one."
                )
            else:
                asset_tag = f"{rules.generate_tags}{line:07d}"
                key = asset_tag
                generated = True
        serial = check(values.identifier, cell("serial_number"), "serial number") or ""
        if not serial and not any(problem.startswith("serial number") for problem in problems):
            problems.append("serial number is missing.")
        key = key or serial

        model = check(values.free_text, cell("model"), "model", 200) or ""
        manufacturer = check(values.free_text, cell("manufacturer"), "manufacturer", 200) or ""
        device_type = check(values.free_text, cell("device_type"), "device type", 200)
        operating_system = check(
            values.free_text, cell("operating_system"), "operating system", 200
        )
        if rules.format_name == "google":
            # The console's model name starts with the manufacturer: "Acer Chromebook 311".
            manufacturer = model.split(" ", 1)[0] if model else ""
            device_type = "chromebook"
            operating_system = "ChromeOS"
        if not model:
            problems.append("model is missing.")
        elif not manufacturer:
            problems.append("manufacturer is missing.")

        site_cell = cell("site")
        if rules.format_name == "google" and site_cell is not None:
            site_cell = _google_site(values.text(site_cell))
        site = check(values.identifier, site_cell, "site") if self.has_site else None
        room = check(values.free_text, cell("room"), "room", 200)
        assignee = check(values.free_text, cell("assignee"), "assignee", 200)
        state_cell = cell("state")
        state = None
        if state_cell is not None:
            state_text = values.text(state_cell)
            state = check(_state, state_text, rules.format_name, bool(assignee or room))
        if state is State.DEPLOYED and not (assignee or room):
            problems.append("state deployed needs an assignee or a room.")

        date_format = rules.date_format
        purchase_date = check(
            values.parse_date, cell("purchase_date"), "purchase date", date_format
        )
        warranty_start = check(
            values.parse_date, cell("warranty_start"), "warranty start", date_format
        )
        warranty_end = check(values.parse_date, cell("warranty_end"), "warranty end", date_format)
        end_of_support = check(
            values.parse_date, cell("end_of_support"), "end of support", date_format
        )
        warranty_months = check(values.parse_count, cell("warranty_months"), "warranty months")
        if warranty_months == 0:
            warranty_months = None
        if warranty_months is not None and warranty_months > 240:
            problems.append(f"warranty months {warranty_months} is more than 240.")
        if warranty_end is not None and warranty_months is not None:
            problems.append("give warranty end or warranty months, not both.")
        if warranty_start is not None and warranty_end is None and warranty_months is None:
            problems.append("warranty start needs warranty end or warranty months.")
        purchase_cost = check(values.parse_money, cell("purchase_cost"), "purchase cost")
        notes = check(values.free_text, cell("notes"), "notes")

        if problems:
            return None, key, problems
        return (
            DeviceRow(
                line=line,
                asset_tag=asset_tag,
                serial_number=serial,
                manufacturer=manufacturer,
                model=model,
                device_type=device_type,
                operating_system=operating_system,
                site=site or None,
                state=state,
                room=room,
                assignee=assignee,
                purchase_date=purchase_date,
                purchase_cost=purchase_cost,
                warranty_start=warranty_start,
                warranty_end=warranty_end,
                warranty_months=warranty_months,
                end_of_support=end_of_support,
                notes=notes,
                tag_generated=generated,
            ),
            key,
            [],
        )
