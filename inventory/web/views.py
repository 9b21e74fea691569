"""Service results grouped and totalled into the shapes the page templates render."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from inventory.devices.schemas import DeviceRead
from inventory.lifecycle import STATE_LABELS, State
from inventory.sites.schemas import SiteSummary

NO_REGION = "No region"


@dataclass(frozen=True)
class StateColumn:
    state: str
    label: str


@dataclass
class RegionGroup:
    """The sites of one region with their summed device counts."""

    region: str | None
    name: str
    anchor: str
    sites: list[SiteSummary] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def device_count(self) -> int:
        return sum(self.totals.values())


def matches_text(site: SiteSummary, text: str) -> bool:
    """Return whether the site's code or name contains `text`, ignoring case."""
    needle = text.casefold()
    return needle in site.code.casefold() or needle in site.name.casefold()


def _anchor(name: str, used_anchors: set[str]) -> str:
    base = "region-" + (re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "unnamed")
    anchor = base
    suffix = 2
    while anchor in used_anchors:
        anchor = f"{base}-{suffix}"
        suffix += 1
    used_anchors.add(anchor)
    return anchor


def group_by_region(summaries: Iterable[SiteSummary]) -> list[RegionGroup]:
    """Group sites by region, named regions in order and sites without one last."""
    groups: dict[str | None, RegionGroup] = {}
    used_anchors: set[str] = set()

    def order(site: SiteSummary) -> tuple[bool, str, str]:
        return (site.region is None, site.region or "", site.code)

    for site in sorted(summaries, key=order):
        group = groups.get(site.region)
        if group is None:
            name = site.region or NO_REGION
            group = RegionGroup(region=site.region, name=name, anchor=_anchor(name, used_anchors))
            groups[site.region] = group
        group.sites.append(site)
        group.totals.update(site.state_counts)
    return list(groups.values())


def state_columns(counts: Iterable[Counter[str] | dict[str, int]]) -> list[StateColumn]:
    """Return a column for each lifecycle state that has devices, in lifecycle order.

    States with no device in any of `counts` get no column, which keeps the table narrow
    enough for a phone when a filter selects a few sites.
    """
    present: set[str] = set()
    for count in counts:
        present.update(state for state, number in count.items() if number)
    return [StateColumn(state.value, STATE_LABELS[state]) for state in State if state in present]


def all_state_columns() -> list[StateColumn]:
    return [StateColumn(state.value, STATE_LABELS[state]) for state in State]


@dataclass(frozen=True)
class WarrantyStatus:
    """Warranty status on one day: a short text and whether the warranty covers that day."""

    text: str
    active: bool


def warranty_status(device: DeviceRead, today: date) -> WarrantyStatus:
    if device.warranty_active:
        return WarrantyStatus("Active today", True)
    if device.warranty_end is None:
        return WarrantyStatus("No warranty recorded", False)
    if device.warranty_start is not None and today < device.warranty_start:
        return WarrantyStatus("Not started yet", False)
    return WarrantyStatus("Ended", False)
