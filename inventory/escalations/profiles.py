"""Vendor profiles: the columns of a vendor's export and the limits of its claims.

Profiles are TOML files in the `profiles` folder beside this module, one per vendor system;
a vendor names its profile. Pure apart from reading those files once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

# The fields an export row can contain, each written as text. "part" takes an `index` and is
# that part of the parts requested.
ROW_FIELDS = (
    "escalation_id",
    "asset_tag",
    "serial_number",
    "manufacturer",
    "model",
    "site_code",
    "site_name",
    "opened_on",
    "technician",
    "problem",
    "troubleshooting",
    "parts_requested",
    "part",
    "warranty_end",
    "covered",
    "override_reason",
)
# Fields of identifiers: a spreadsheet must keep them as text, leading zeros and all.
IDENTIFIER_FIELDS = frozenset({"escalation_id", "asset_tag", "serial_number", "site_code"})
# Columns every export ends with, empty, for the vendor to fill in and send back.
REPLY_COLUMNS = ("RMA Number", "Outcome", "Replacement Serial", "Reason")
LIMITED_FIELDS = ("problem", "troubleshooting")
DEFAULT_PROFILE = "generic"


class ProfileError(ValueError):
    """A profile file that cannot be used, or a profile name that does not exist."""


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    index: int | None = None


@dataclass(frozen=True)
class VendorProfile:
    name: str
    title: str
    columns: tuple[Column, ...]
    problem_max: int
    troubleshooting_max: int
    parts_max: int
    # Escalation fields, beyond the problem, that this vendor's claims must have.
    required: tuple[str, ...]
    plan: tuple[tuple[str, int | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "plan", _plan(self.columns))

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns] + list(REPLY_COLUMNS)

    def limit_problems(
        self, problem: str, troubleshooting: str | None, parts: Sequence[str]
    ) -> dict[str, str]:
        """Return each field that breaks this profile's limits, with the limit named."""
        problems: dict[str, str] = {}
        values = {"problem": problem, "troubleshooting": troubleshooting or ""}
        for name in self.required:
            if not values.get(name, "").strip():
                problems[name] = f"required by the {self.title} profile ({self.name})"
        for name in LIMITED_FIELDS:
            limit = self.problem_max if name == "problem" else self.troubleshooting_max
            if len(values[name]) > limit:
                problems[name] = (
                    f"{len(values[name]):,} characters; the {self.title} profile ({self.name}) "
                    f"allows at most {limit:,}"
                )
        if len(parts) > self.parts_max:
            problems["parts_requested"] = (
                f"{len(parts)} parts; the {self.title} profile ({self.name}) allows at most "
                f"{self.parts_max} per claim"
            )
        return problems

    def row(self, values: Mapping[str, Any], neutralize: bool = False) -> list[str]:
        """Return one export row from a snapshot of an escalation's fields, as text.

        With `neutralize`, a cell that a spreadsheet would run as a formula gets a leading "'".
        """
        get = values.get
        parts = get("parts") or ()
        cells = []
        for name, index in self.plan:
            if index is not None:
                value = parts[index] if index < len(parts) else ""
            elif name == "parts_requested":
                value = "; ".join(parts)
            else:
                value = get(name)
                value = "" if value is None else str(value)
            if neutralize and value and value[0] in FORMULA_FIRST:
                value = "'" + value
            cells.append(value)
        return cells + [""] * len(REPLY_COLUMNS)


# First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_FIRST = frozenset(FORMULA_STARTS)


def _plan(columns: tuple[Column, ...]) -> tuple[tuple[str, int | None], ...]:
    """Return each column as (field, part index or None), for `VendorProfile.row`."""
    return tuple(
        (column.field, (column.index or 1) - 1 if column.field == "part" else None)
        for column in columns
    )


def _positive(data: Mapping[str, Any], key: str, source: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileError(f"{source}: limits.{key} must be a whole number of 0 or more")
    return value


def parse_profile(data: Mapping[str, Any], source: str) -> VendorProfile:
    """Build a profile from parsed TOML; raise ProfileError naming the bad key."""
    name = data.get("name")
    title = data.get("title")
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(f"{source}: name is required")
    if not isinstance(title, str) or not title.strip():
        raise ProfileError(f"{source}: title is required")
    limits = data.get("limits") or {}
    required = limits.get("required", [])
    if not isinstance(required, list) or any(item not in LIMITED_FIELDS for item in required):
        raise ProfileError(f"{source}: limits.required may list {', '.join(LIMITED_FIELDS)}")
    columns = []
    seen: set[str] = set()
    for number, column in enumerate(data.get("columns") or [], start=1):
        header, field = column.get("header"), column.get("field")
        if not isinstance(header, str) or not header.strip():
            raise ProfileError(f"{source}: column {number} needs a header")
        if field not in ROW_FIELDS:
            raise ProfileError(
                f"{source}: column {header!r} has field {field!r}; use one of "
                f"{', '.join(ROW_FIELDS)}"
            )
        index = column.get("index")
        if field == "part" and (not isinstance(index, int) or index < 1):
            raise ProfileError(f"{source}: column {header!r} needs an index of 1 or more")
        folded = header.strip().casefold()
        if folded in seen or header in REPLY_COLUMNS:
            raise ProfileError(f"{source}: column {header!r} appears twice")
        seen.add(folded)
        columns.append(Column(header=header.strip(), field=field, index=index))
    parts_max = _positive(limits, "parts_max", source)
    part_columns = sum(column.field == "part" for column in columns)
    if (
        part_columns
        and parts_max > part_columns
        and not any(column.field == "parts_requested" for column in columns)
    ):
        raise ProfileError(
            f"{source}: limits.parts_max is {parts_max} but there are {part_columns} part "
            "columns; add columns or lower the limit, so no part is left out of an export"
        )
    if not any(column.field == "escalation_id" for column in columns):
        raise ProfileError(
            f"{source}: an escalation_id column is required, so a vendor's reply can be matched"
        )
    return VendorProfile(
        name=name.strip(),
        title=title.strip(),
        columns=tuple(columns),
        problem_max=_positive(limits, "problem_max", source),
        troubleshooting_max=_positive(limits, "troubleshooting_max", source),
        parts_max=parts_max,
        required=tuple(required),
    )


@cache
def all_profiles() -> dict[str, VendorProfile]:
    folder = resources.files(__package__).joinpath("profiles")
    profiles = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(tomllib.loads(entry.read_text("utf-8")), entry.name)
            profiles[profile.name] = profile
    return profiles


def get_profile(name: str | None) -> VendorProfile:
    profiles = all_profiles()
    profile = profiles.get(name or DEFAULT_PROFILE)
    if profile is None:
        raise ProfileError(
            f"vendor profile {name!r} does not exist; use one of {', '.join(sorted(profiles))}"
        )
    return profile
