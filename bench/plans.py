"""The weekly schedule for 2,000 sites and 400 technicians, against a simple greedy one.

Run with `python -m bench.plans [--sites N] [--technicians N]` (run by `make bench`). It
generates a district of 10 regions whose sites cluster around each region's centre, with
purchased days that add up to about the technicians' capacity, and technicians spread
unevenly over the regions so some regions must borrow. It times:

- `build_schedule` alone, and the share of technician-days kept in the home region;
- the same district through `assign_year` on a temporary SQLite file (read plans, build,
  write the assignments);
- a greedy baseline in the same run: each site in turn takes, for each of its days, the
  first technician and weekday still free, ignoring regions.

Target: 2,000 sites and 400 technicians within 10 s, with a higher home-region share than
the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from inventory.config import Settings
from inventory.db import Database
from inventory.migrations import upgrade
from inventory.plans.assignments import assign_year
from inventory.plans.models import ServicePlan
from inventory.plans.schedule import (
    Assignment,
    SiteDemand,
    TechnicianSlot,
    build_schedule,
    home_region_share,
    schedule_problems,
)
from inventory.sites.models import Site
from inventory.technicians.models import Technician

REGION_COUNT = 10
# Share of sites buying 0, 1, 2 and 3 days: about one day per site on average.
DAY_WEIGHTS = {0: 25, 1: 55, 2: 15, 3: 5}


def generate(
    sites: int, technicians: int, seed: int = 5
) -> tuple[list[SiteDemand], list[TechnicianSlot]]:
    rng = random.Random(seed)
    centres = {
        f"Region {n}": (34 + rng.random(), -118.5 + rng.random()) for n in range(REGION_COUNT)
    }
    regions = list(centres)
    demands = []
    for site_id in range(1, sites + 1):
        region = rng.choice(regions)
        latitude, longitude = centres[region]
        demands.append(
            SiteDemand(
                site_id=site_id,
                days=rng.choices(list(DAY_WEIGHTS), weights=list(DAY_WEIGHTS.values()))[0],
                region=region,
                latitude=latitude + rng.gauss(0, 0.05),
                longitude=longitude + rng.gauss(0, 0.05),
            )
        )
    # Uneven: region k gets a weight of 1 + k/5, so later regions have spare technicians.
    slots = [
        TechnicianSlot(
            technician_id=10_000 + n,
            region=rng.choices(regions, weights=[1 + k / 5 for k in range(REGION_COUNT)])[0],
        )
        for n in range(technicians)
    ]
    return demands, slots


def greedy_baseline(demands: list[SiteDemand], slots: list[TechnicianSlot]) -> list[Assignment]:
    """Give each day of each site the first technician and weekday still free."""
    free = {slot.technician_id: set(range(5)) for slot in slots}
    result = []
    for demand in demands:
        used: set[int] = set()
        for _ in range(demand.days):
            for technician_id, weekdays in free.items():
                open_days = weekdays - used
                if open_days:
                    weekday = min(open_days)
                    weekdays.discard(weekday)
                    used.add(weekday)
                    result.append(Assignment(technician_id, demand.site_id, weekday))
                    break
    return result


async def _through_service(demands: list[SiteDemand], slots: list[TechnicianSlot]) -> float:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'plans.sqlite3'}"
        await asyncio.to_thread(upgrade, url)
        db = Database(Settings(database_url=url, environment="test"))
        async with db.write() as session:
            await session.execute(
                insert(Site),
                [
                    {
                        "id": d.site_id,
                        "code": f"S{d.site_id:05d}",
                        "name": f"Site {d.site_id}",
                        "kind": "school",
                        "region": d.region,
                        "latitude": d.latitude,
                        "longitude": d.longitude,
                        "created_at": now,
                    }
                    for d in demands
                ],
            )
            await session.execute(
                insert(Technician),
                [
                    {
                        "id": s.technician_id,
                        "employee_number": f"{s.technician_id:06d}",
                        "name": f"Technician {s.technician_id}",
                        "active": True,
                        "home_region": s.region,
                        "created_at": now,
                    }
                    for s in slots
                ],
            )
            await session.execute(
                insert(ServicePlan),
                [
                    {
                        "site_id": d.site_id,
                        "fiscal_year": "2026-27",
                        "days": d.days,
                        "recommended_days": d.days,
                        "state": "locked",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for d in demands
                ],
            )
        started = time.perf_counter()
        await assign_year(db, "2026-27", "bench")
        seconds = time.perf_counter() - started
        await db.dispose()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=2000, help="sites to generate")
    parser.add_argument("--technicians", type=int, default=400, help="technicians to generate")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"Python {platform.python_version()}"
    )
    demands, slots = generate(args.sites, args.technicians)
    purchased = {d.site_id: d.days for d in demands}
    site_regions = {d.site_id: d.region for d in demands}
    technician_regions = {s.technician_id: s.region for s in slots}
    total = sum(purchased.values())
    print(
        f"Schedule ({args.sites:,} sites, {args.technicians} technicians, {total:,} purchased "
        f"days, capacity {5 * args.technicians:,})"
    )

    started = time.perf_counter()
    schedule = build_schedule(demands, slots)
    built = time.perf_counter() - started
    assert not schedule_problems(schedule.assignments, purchased)
    started = time.perf_counter()
    baseline = greedy_baseline(demands, slots)
    greedy = time.perf_counter() - started
    assert not schedule_problems(baseline, purchased)

    share = home_region_share(schedule.assignments, site_regions, technician_regions)
    baseline_share = home_region_share(baseline, site_regions, technician_regions)
    service_seconds = asyncio.run(_through_service(demands, slots))
    print(
        f"  build_schedule      {built * 1000:8.1f} ms  days served {len(schedule.assignments):,}"
        f"  home region {share:6.1%}"
    )
    print(
        f"  greedy baseline     {greedy * 1000:8.1f} ms  days served {len(baseline):,}"
        f"  home region {baseline_share:6.1%}"
    )
    print(f"  assign_year (SQLite, with reads and writes) {service_seconds * 1000:8.1f} ms")
    print(
        f"  ratio: time {built / greedy:4.2f}x the baseline, "
        f"home-region share {share / baseline_share if baseline_share else float('inf'):4.2f}x"
    )


if __name__ == "__main__":
    main()
