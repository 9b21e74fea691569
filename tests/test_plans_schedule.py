"""The weekly schedule builder: its rules on generated districts, and its minimum."""

from __future__ import annotations

import itertools
import random
from functools import cache

import pytest

from inventory.plans.schedule import (
    SiteDemand,
    TechnicianSlot,
    build_schedule,
    home_region_share,
    minimum_technicians,
    schedule_problems,
)

REGIONS = ("Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island", None)


def generated_district(
    rng: random.Random, sites: int, technicians: int
) -> tuple[list[SiteDemand], list[TechnicianSlot]]:
    """Make sites with 0 to 5 days, most located, and technicians in uneven regions."""
    demands = []
    for site_id in range(1, sites + 1):
        region = rng.choice(REGIONS)
        located = rng.random() < 0.8
        demands.append(
            SiteDemand(
                site_id=site_id,
                days=rng.choice((0, 1, 1, 2, 2, 3, 4, 5)),
                region=region,
                latitude=40.5 + rng.random() if located else None,
                longitude=-74.2 + rng.random() if located else None,
            )
        )
    slots = [
        TechnicianSlot(technician_id=1000 + index, region=rng.choice(REGIONS))
        for index in range(technicians)
    ]
    return demands, slots


def check_schedule(demands: list[SiteDemand], slots: list[TechnicianSlot]) -> None:
    result = build_schedule(demands, slots)
    purchased = {demand.site_id: demand.days for demand in demands}
    assert schedule_problems(result.assignments, purchased) == []
    served: dict[int, int] = {}
    for item in result.assignments:
        served[item.site_id] = served.get(item.site_id, 0) + 1
    for demand in demands:
        short = result.short_days.get(demand.site_id, 0)
        assert served.get(demand.site_id, 0) + short == demand.days, demand
    total = sum(purchased.values())
    capacity = 5 * len(slots)
    assert len(result.assignments) == min(total, capacity)
    assert result.days_short == max(0, total - capacity)
    assert result.extra_technicians == max(0, minimum_technicians(demands) - len(slots))
    technician_ids = {slot.technician_id for slot in slots}
    assert {item.technician_id for item in result.assignments} <= technician_ids


@pytest.mark.parametrize("seed", range(20))
def test_rules_hold_fifty_sites(seed: int) -> None:
    rng = random.Random(seed)
    demands, slots = generated_district(rng, 50, rng.randint(5, 40))
    check_schedule(demands, slots)


@pytest.mark.parametrize(("seed", "technicians"), [(1, 400), (2, 300), (3, 600)])
def test_rules_hold_two_thousand_sites(seed: int, technicians: int) -> None:
    demands, slots = generated_district(random.Random(seed), 2000, technicians)
    check_schedule(demands, slots)


def test_home_region_kept_when_enough() -> None:
    demands = [SiteDemand(i, 5, "Bronx" if i % 2 else "Queens") for i in range(1, 11)]
    slots = [TechnicianSlot(100 + i, "Bronx" if i % 2 else "Queens") for i in range(1, 11)]
    result = build_schedule(demands, slots)
    sites = {d.site_id: d.region for d in demands}
    technicians = {s.technician_id: s.region for s in slots}
    assert home_region_share(result.assignments, sites, technicians) == 1.0


def test_overflow_goes_to_other_region() -> None:
    demands = [SiteDemand(1, 5, "Bronx"), SiteDemand(2, 5, "Bronx")]
    slots = [TechnicianSlot(10, "Bronx"), TechnicianSlot(11, "Queens")]
    result = build_schedule(demands, slots)
    assert result.days_short == 0
    assert {item.technician_id for item in result.assignments} == {10, 11}


def test_bad_input_rejected() -> None:
    with pytest.raises(ValueError, match="6 days"):
        build_schedule([SiteDemand(1, 6)], [])
    with pytest.raises(ValueError, match="listed twice"):
        build_schedule([SiteDemand(1, 1), SiteDemand(1, 2)], [])


def max_coverage_brute_force(days: tuple[int, ...], technicians: int) -> int:
    """Return the most purchased days any schedule covers, by exhaustive search.

    Each site picks a set of at most its days of distinct weekdays and a technician for each,
    with no technician at two sites on one weekday. The state is the site index and the set
    of (technician, weekday) cells taken, so the search is exact and memoized.
    """
    cells = [(t, w) for t in range(technicians) for w in range(5)]

    @cache
    def best(index: int, taken: frozenset[tuple[int, int]]) -> int:
        if index == len(days):
            return 0
        result = 0
        for count in range(days[index] + 1):
            for weekdays in itertools.combinations(range(5), count):
                choices = [
                    [cell for cell in cells if cell[1] == w and cell not in taken] for w in weekdays
                ]
                for picked in itertools.product(*choices):
                    result = max(result, count + best(index + 1, taken | frozenset(picked)))
        return result

    return best(0, frozenset())


@pytest.mark.parametrize("seed", range(12))
def test_extra_technicians_is_minimum(seed: int) -> None:
    rng = random.Random(seed)
    days = tuple(rng.choice((1, 2, 3, 5)) for _ in range(rng.randint(1, 3)))
    total = sum(days)
    technicians = rng.randint(0, 2)
    demands = [SiteDemand(i + 1, d, rng.choice(REGIONS[:2])) for i, d in enumerate(days)]
    slots = [TechnicianSlot(10 + i, rng.choice(REGIONS[:2])) for i in range(technicians)]
    result = build_schedule(demands, slots)

    assert total - result.days_short == max_coverage_brute_force(days, technicians)
    fewest = next(t for t in range(5) if max_coverage_brute_force(days, t) == total)
    assert result.extra_technicians == max(0, fewest - technicians)
