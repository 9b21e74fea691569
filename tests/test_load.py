"""A small run of bench/load.py: concurrent technicians, then every acknowledged event stored.

Correctness only; the timings are measured by `make bench`.
"""

from __future__ import annotations

from bench.load import build_fleet, check_events, run_load, serving, stored_event_ids
from inventory.db import Database


async def test_load_stores_exactly_acknowledged_events(db: Database, database_url: str) -> None:
    fleet = await build_fleet(db, clients=6)
    with serving(database_url, workers=2) as (base_url, _process):
        result = await run_load(base_url, fleet, requests_per_client=16)
    assert result.failures == []
    assert result.acknowledged, result.statuses
    assert set(result.statuses) <= {"GET 200", "POST 200", "POST 201", "POST 409"}
    assert check_events(fleet, result, await stored_event_ids(db)) == []
