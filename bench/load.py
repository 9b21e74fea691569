"""Load test: many technicians scanning and acting on devices at once, over loopback.

Run with `python -m bench.load [--clients N] [--requests N] [--workers N] [--postgres URL]`.
It builds a throw-away database (a temporary SQLite file, and with --postgres a new database
on that server, dropped afterwards), starts `inventory serve` on a free loopback port, and
has each client scan a device (GET) and then deploy or collect it (POST an action). It
prints throughput and latency percentiles, with the throughput of GET /health under the same
clients as the baseline, then checks that the database holds exactly the events whose
requests were answered with success: none lost, none doubled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import select
from sqlalchemy.engine import make_url

from inventory.accounts.service import create_token, create_user
from inventory.config import Settings
from inventory.db import Database
from inventory.devices import catalog
from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest, DeviceModelCreate, DeviceReceive
from inventory.devices.service import apply_action, receive_device
from inventory.migrations import upgrade
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from inventory.technicians.schemas import TechnicianCreate
from inventory.technicians.service import create_technician

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}
# Devices each client acts on. Every fourth device is shared by two clients, so that
# conflicting actions (409) are part of the load as they are on a busy repair bench.
DEVICES_PER_CLIENT = 4


@dataclass
class Fleet:
    """The technicians' tokens and the asset tags each client works on."""

    tokens: list[str]
    tags: list[list[str]]
    setup_event_ids: set[int]


@dataclass
class LoadResult:
    """What the clients saw: acknowledged event ids, statuses and latencies in ms."""

    acknowledged: set[int] = field(default_factory=set)
    statuses: Counter[str] = field(default_factory=Counter)
    scan_ms: list[float] = field(default_factory=list)
    action_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.scan_ms) + len(self.action_ms)


async def build_fleet(db: Database, clients: int) -> Fleet:
    """Create one site, a technician user per client and the devices, enrolled."""
    await create_site(db, SiteCreate(code="01M015", name="P.S. 015", region="Manhattan"))
    await catalog.create_device_model(
        db,
        DeviceModelCreate(
            manufacturer="Acer",
            model="Chromebook 311 (C722)",
            device_type="chromebook",
            operating_system="ChromeOS",
        ),
    )
    tokens = []
    for number in range(clients):
        employee = f"{number + 1:06d}"
        await create_technician(
            db, TechnicianCreate(employee_number=employee, name=f"Tech {number}")
        )
        await create_user(db, f"tech{number}", "technician", None, technician=employee)
        token, _info = await create_token(db, f"tech{number}", name="load")
        tokens.append(token)
    device_count = max(2, clients * DEVICES_PER_CLIENT * 3 // 4)
    all_tags = [f"L{n:06d}" for n in range(device_count)]
    for tag in all_tags:
        await receive_device(
            db,
            DeviceReceive(
                asset_tag=tag,
                serial_number=f"SN-{tag}",
                manufacturer="Acer",
                model="Chromebook 311 (C722)",
                site="01M015",
                technician="000001",
                warranty_start=date(2025, 8, 1),
                warranty_end=date(2028, 7, 31),
            ),
        )
        await apply_action(
            db, tag, ActionRequest(action="enroll", technician="000001", data=ENROLL)
        )
    # Client n takes three devices of its own and shares the fourth with client n + 1.
    tags = []
    for number in range(clients):
        start = number * 3
        own = [all_tags[(start + k) % device_count] for k in range(3)]
        shared = all_tags[(start + 3) % device_count]
        tags.append([*own, shared])
    async with db.read() as session:
        setup_ids = set((await session.scalars(select(DeviceEvent.id))).all())
    return Fleet(tokens, tags, {event_id for event_id in setup_ids if event_id is not None})


async def _client(
    http: httpx.AsyncClient, token: str, tags: list[str], requests: int, result: LoadResult
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for index in range(requests // 2):
        tag = tags[index % len(tags)]
        started = time.perf_counter()
        try:
            scan = await http.get(f"/api/v1/devices/{tag}", headers=headers)
        except httpx.TransportError as exc:
            result.failures.append(f"GET {tag}: {exc!r}")
            continue
        result.scan_ms.append((time.perf_counter() - started) * 1000)
        result.statuses[f"GET {scan.status_code}"] += 1
        if scan.status_code != 200:
            continue
        action = "collect" if scan.json()["state"] == "deployed" else "deploy"
        body = {"action": action, "data": {"room": "114"} if action == "deploy" else {}}
        started = time.perf_counter()
        try:
            answer = await http.post(f"/api/v1/devices/{tag}/actions", json=body, headers=headers)
        except httpx.TransportError as exc:
            # The outcome is unknown: the event may or may not be stored.
            result.failures.append(f"POST {tag}: {exc!r}")
            continue
        result.action_ms.append((time.perf_counter() - started) * 1000)
        result.statuses[f"POST {answer.status_code}"] += 1
        if answer.status_code in (200, 201):
            result.acknowledged.add(answer.json()["event"]["id"])


async def run_load(
    base_url: str, fleet: Fleet, requests_per_client: int, result: LoadResult | None = None
) -> LoadResult:
    """Run every client at once, each sending `requests_per_client` requests.

    Pass `result` to watch the acknowledged events while the clients run.
    """
    result = result if result is not None else LoadResult()
    limits = httpx.Limits(max_connections=len(fleet.tokens))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _client(http, token, tags, requests_per_client, result)
                for token, tags in zip(fleet.tokens, fleet.tags, strict=True)
            )
        )
        result.elapsed_s = time.perf_counter() - started
    return result


async def health_throughput(base_url: str, clients: int, requests_per_client: int) -> float:
    """Return requests per second of GET /health with the same number of clients."""
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:

        async def client() -> None:
            for _ in range(requests_per_client):
                (await http.get("/health")).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return clients * requests_per_client / (time.perf_counter() - started)


async def stored_event_ids(db: Database) -> set[int]:
    async with db.read() as session:
        return {event_id for event_id in (await session.scalars(select(DeviceEvent.id))).all()}


def check_events(fleet: Fleet, result: LoadResult, stored: set[int]) -> list[str]:
    """Return the differences between acknowledged and stored events; empty when they match."""
    written = stored - fleet.setup_event_ids
    problems = []
    lost = result.acknowledged - written
    unacknowledged = written - result.acknowledged
    if lost:
        problems.append(f"{len(lost)} acknowledged events are missing: {sorted(lost)[:10]}")
    if unacknowledged and not result.failures:
        problems.append(
            f"{len(unacknowledged)} events are stored that no client was told succeeded: "
            f"{sorted(unacknowledged)[:10]}"
        )
    return problems


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(database_url: str, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run `inventory serve` on a free loopback port until the block ends (SIGTERM)."""
    port = _free_port()
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "inventory.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def wait_until_healthy(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode} at start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer /health within {timeout_s} s")
        time.sleep(0.1)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def report(name: str, result: LoadResult, baseline_rps: float) -> None:
    throughput = result.requests / result.elapsed_s
    print(f"  {name}: {result.requests} requests in {result.elapsed_s:.1f} s")
    for label, values in (("scan", result.scan_ms), ("action", result.action_ms)):
        print(
            f"    {label:<6} p50 {_percentile(values, 0.5):7.2f} ms  "
            f"p95 {_percentile(values, 0.95):7.2f} ms  p99 {_percentile(values, 0.99):7.2f} ms"
        )
    print(
        f"    throughput {throughput:7.1f} req/s | GET /health {baseline_rps:7.1f} req/s | "
        f"ratio {throughput / baseline_rps:.2f}"
    )
    print(f"    statuses {dict(sorted(result.statuses.items()))}")


async def _run(url: str, name: str, clients: int, requests: int, workers: int) -> bool:
    await asyncio.to_thread(upgrade, url)
    db = Database(Settings(database_url=url, environment="test"))
    try:
        fleet = await build_fleet(db, clients)
        with serving(url, workers) as (base_url, _process):
            baseline = await health_throughput(base_url, clients, max(1, requests // 2))
            result = await run_load(base_url, fleet, requests)
        report(f"{name}, {workers} worker(s), {clients} clients", result, baseline)
        problems = check_events(fleet, result, await stored_event_ids(db))
    finally:
        await db.dispose()
    for problem in problems + result.failures[:10]:
        print(f"    FAILED: {problem}")
    if not problems:
        print(f"    events: all {len(result.acknowledged)} acknowledged actions stored once")
    return not problems and not result.failures


async def _postgres(url: str, clients: int, requests: int, workers: int) -> bool:
    parsed = make_url(url)
    name = f"inventory_load_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        target = parsed.set(database=name).render_as_string(hide_password=False)
        return await _run(target, "PostgreSQL", clients, requests, workers)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32, help="concurrent technicians")
    parser.add_argument("--requests", type=int, default=100, help="requests per client")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--postgres", help="asyncpg URL of a server to also run on")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'load.sqlite3'}"
        ok &= asyncio.run(_run(url, "SQLite", args.clients, args.requests, args.workers))
    if args.postgres:
        ok &= asyncio.run(_postgres(args.postgres, args.clients, args.requests, args.workers))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
