"""Weekly technician schedules: which technician serves which site on which weekday. Pure.

The rules: each site gets its purchased days on distinct weekdays, no technician serves more
than one site a day (so no more than 5 days a week), and technicians stay in their home
region where possible, with each one's sites close together.

How `build_schedule` meets them:

1. Every site's days are laid out as consecutive cells of one sequence, region by region and,
   inside a region, in order of direction from the region's centre. Cell `c` is weekday
   `c mod 5`. A site needs at most 5 consecutive cells, so its weekdays are distinct, and
   every weekday carries ceil(S/5) or floor(S/5) of the S purchased days.
2. Inside a region, cells `5k` to `5k+4` from the region's first cell form a week for the
   region's k-th technician, who so serves neighbouring sites once each weekday at most.
3. Weeks beyond the region's technicians go to technicians of other regions who are free on
   those weekdays, the nearest region first.

Because each weekday carries at most ceil(S/5) days, T technicians serve every day whenever
S <= 5T, and otherwise exactly 5T days are served and S - 5T are short. No schedule can do
better, since a technician gives at most 5 days a week, so `extra_technicians` (ceil(S/5)
minus T) is the minimum that serves every purchased day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DAYS_PER_WEEK = 5


@dataclass(frozen=True)
class SiteDemand:
    """A site's purchased days per week, with the region and coordinates used to group it."""

    site_id: int
    days: int
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class TechnicianSlot:
    """An active technician who can be scheduled, with their home region."""

    technician_id: int
    region: str | None = None


@dataclass(frozen=True, order=True)
class Assignment:
    """One technician at one site on one weekday (0 is Monday, 4 is Friday)."""

    technician_id: int
    site_id: int
    weekday: int


@dataclass
class Schedule:
    """A week's assignments and the purchased days left without a technician."""

    assignments: list[Assignment] = field(default_factory=list)
    # Site id → purchased days per week that no technician serves.
    short_days: dict[int, int] = field(default_factory=dict)
    # Technicians needed beyond the scheduled ones to serve every purchased day.
    extra_technicians: int = 0

    @property
    def days_short(self) -> int:
        return sum(self.short_days.values())


def minimum_technicians(demands: Iterable[SiteDemand]) -> int:
    """Return the fewest technicians that can serve every purchased day: ceil(days / 5)."""
    total = sum(demand.days for demand in demands)
    return -(-total // DAYS_PER_WEEK)


def _region_key(region: str | None) -> str:
    return region or ""


def _centre(demands: Sequence[SiteDemand]) -> tuple[float, float] | None:
    located = [d for d in demands if d.latitude is not None and d.longitude is not None]
    if not located:
        return None
    latitude = sum(d.latitude for d in located if d.latitude is not None) / len(located)
    longitude = sum(d.longitude for d in located if d.longitude is not None) / len(located)
    return latitude, longitude


def _order_region(demands: Sequence[SiteDemand]) -> list[SiteDemand]:
    """Order a region's sites by direction from its centre, so neighbours are adjacent.

    Sites without coordinates follow, by site id.
    """
    centre = _centre(demands)
    located = []
    unlocated = []
    for demand in demands:
        if centre is None or demand.latitude is None or demand.longitude is None:
            unlocated.append(demand)
            continue
        angle = math.atan2(demand.latitude - centre[0], demand.longitude - centre[1])
        located.append((angle, demand.site_id, demand))
    located.sort(key=lambda item: (item[0], item[1]))
    return [item[2] for item in located] + sorted(unlocated, key=lambda d: d.site_id)


def _distance(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float:
    # An unknown position counts as far away, so technicians of located regions come first.
    if a is None or b is None:
        return 1e9
    return math.hypot(a[0] - b[0], a[1] - b[1])


def build_schedule(
    demands: Sequence[SiteDemand], technicians: Sequence[TechnicianSlot]
) -> Schedule:
    """Assign technicians to sites by weekday; see the module text for the rules and proof.

    Raises ValueError for days outside 0 to 5 or a site or technician listed twice.
    """
    _check_input(demands, technicians)
    by_region: dict[str, list[SiteDemand]] = defaultdict(list)
    for demand in demands:
        if demand.days:
            by_region[_region_key(demand.region)].append(demand)
    technicians_by_region: dict[str, list[int]] = defaultdict(list)
    for technician in sorted(technicians, key=lambda t: t.technician_id):
        technicians_by_region[_region_key(technician.region)].append(technician.technician_id)
    centres = {region: _centre(sites) for region, sites in by_region.items()}

    # Step 1 and 2: lay out cells and give each region's weeks to its own technicians.
    busy: dict[int, set[int]] = defaultdict(set)  # technician id → weekdays taken
    schedule = Schedule()
    overflow: list[tuple[str, list[tuple[int, int]]]] = []  # (region, [(site, weekday)])
    cell = 0
    for region in sorted(by_region):
        first_cell = cell
        weeks: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for demand in _order_region(by_region[region]):
            for _ in range(demand.days):
                weeks[(cell - first_cell) // DAYS_PER_WEEK].append(
                    (demand.site_id, cell % DAYS_PER_WEEK)
                )
                cell += 1
        own = technicians_by_region.get(region, [])
        for week, cells in sorted(weeks.items()):
            if week >= len(own):
                overflow.append((region, cells))
                continue
            for site_id, weekday in cells:
                schedule.assignments.append(Assignment(own[week], site_id, weekday))
                busy[own[week]].add(weekday)

    # Step 3: weeks without a technician of their region go to the nearest free one.
    home_centre = {
        technician.technician_id: centres.get(_region_key(technician.region))
        for technician in technicians
    }
    all_ids = sorted(home_centre)
    for region, cells in overflow:
        _place_overflow(schedule, busy, region, cells, centres, home_centre, all_ids)

    short = schedule.short_days
    schedule.short_days = {site: days for site, days in sorted(short.items()) if days}
    schedule.extra_technicians = max(0, minimum_technicians(demands) - len(technicians))
    schedule.assignments.sort()
    return schedule


def _place_overflow(
    schedule: Schedule,
    busy: dict[int, set[int]],
    region: str,
    cells: list[tuple[int, int]],
    centres: dict[str, tuple[float, float] | None],
    home_centre: dict[int, tuple[float, float] | None],
    all_ids: list[int],
) -> None:
    """Give one week of cells to the nearest technician free on all of its weekdays.

    When nobody is free on all of them, each cell goes to the nearest technician free on
    its weekday, and a cell with nobody free is a short day.
    """
    centre = centres.get(region)
    by_distance = sorted(all_ids, key=lambda t: (_distance(home_centre[t], centre), t))
    weekdays = {weekday for _site, weekday in cells}
    whole = next((t for t in by_distance if not busy[t] & weekdays), None)
    for site_id, weekday in cells:
        technician = whole
        if technician is None:
            technician = next((t for t in by_distance if weekday not in busy[t]), None)
        if technician is None:
            schedule.short_days[site_id] = schedule.short_days.get(site_id, 0) + 1
            continue
        busy[technician].add(weekday)
        schedule.assignments.append(Assignment(technician, site_id, weekday))


def _check_input(demands: Sequence[SiteDemand], technicians: Sequence[TechnicianSlot]) -> None:
    seen_sites: set[int] = set()
    for demand in demands:
        if not 0 <= demand.days <= DAYS_PER_WEEK:
            raise ValueError(f"site {demand.site_id} has {demand.days} days per week; use 0 to 5")
        if demand.site_id in seen_sites:
            raise ValueError(f"site {demand.site_id} is listed twice")
        seen_sites.add(demand.site_id)
    seen_technicians: set[int] = set()
    for technician in technicians:
        if technician.technician_id in seen_technicians:
            raise ValueError(f"technician {technician.technician_id} is listed twice")
        seen_technicians.add(technician.technician_id)


def schedule_problems(assignments: Iterable[Assignment], purchased: dict[int, int]) -> list[str]:
    """Return every rule a set of assignments breaks, as sentences; empty when it keeps all.

    `purchased` maps each site id to its purchased days per week.
    """
    problems = []
    technician_days: dict[tuple[int, int], int] = {}
    site_days: set[tuple[int, int]] = set()
    served: dict[int, int] = defaultdict(int)
    for item in assignments:
        if not 0 <= item.weekday < DAYS_PER_WEEK:
            problems.append(f"weekday {item.weekday} is not Monday (0) to Friday (4)")
        other = technician_days.get((item.technician_id, item.weekday))
        if other is not None:
            problems.append(
                f"technician {item.technician_id} has sites {other} and {item.site_id} "
                f"on weekday {item.weekday}"
            )
        technician_days[(item.technician_id, item.weekday)] = item.site_id
        if (item.site_id, item.weekday) in site_days:
            problems.append(f"site {item.site_id} has two technicians on weekday {item.weekday}")
        site_days.add((item.site_id, item.weekday))
        served[item.site_id] += 1
    for site_id, days in sorted(served.items()):
        if days > purchased.get(site_id, 0):
            problems.append(
                f"site {site_id} is scheduled {days} days but bought {purchased.get(site_id, 0)}"
            )
    return problems


def home_region_share(
    assignments: Iterable[Assignment],
    site_regions: dict[int, str | None],
    technician_regions: dict[int, str | None],
) -> float:
    """Return the share of technician-days spent in the technician's home region (0 to 1)."""
    total = 0
    home = 0
    for item in assignments:
        total += 1
        region = technician_regions.get(item.technician_id)
        if region is not None and region == site_regions.get(item.site_id):
            home += 1
    return home / total if total else 1.0
