"""Scan lookup over HTTP on loopback at a large fleet, against one worker.

Run with `python -m bench.scan_http [--devices N] [--samples N] [--postgres URL]`. It builds
a throw-away database of N devices (default 1,000,000), starts `inventory serve` with one
worker and the bare-driver baseline (bench/minimal_app.py) with one worker, and measures in
the same run:

- GET /api/v1/devices/{asset_tag} and the device page a scan opens (/a/{asset_tag}, signed
  in through the form) with one client: p50 and p99;
- the same lookup with 32 concurrent clients: throughput, against the baseline's lookup and
  against the service's own GET /health (its plainest JSON route, one `SELECT 1`), in five
  turns that each send N requests to every one of the three;
- three actions with one client, each on the same devices in turn: deploy, open_repair and
  complete_repair, which writes the most summary rows: p50 and p99.

Requests go through bench/http_client.py, a keep-alive client that does little besides
reading the response, so the figures are the server's and not the client's. The page is
signed in through the form with httpx first.

Targets with one client: lookup and page p50 within 3 ms and p99 within 15 ms on SQLite, p99 within
25 ms on PostgreSQL, and each action's p99 within 30 ms. With 32 clients, the lookup throughput is
at least 0.5 of the baseline's and 0.25 of /health's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.__main__ import _prepare
from bench.http_client import HttpConnection
from bench.load import _free_port, _percentile, serving
from inventory.accounts.service import create_token, create_user

CONCURRENT_CLIENTS = 32
# Turns of the throughput measurement, each sending every target's requests once.
THROUGHPUT_TURNS = 5
PAGE_PASSWORD = "bench page password"


@contextmanager
def serving_baseline(database_url: str) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.minimal_app:app", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log"],
        env={**os.environ, "BENCH_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/raw/x", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _sequential(connection: HttpConnection, paths: list[str]) -> list[float]:
    timings = []
    for path in paths:
        started = time.perf_counter()
        status, body = await connection.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"GET {path} returned {status}: {body[:200]!r}")
    return timings


async def _throughput(base_url: str, headers: dict[str, str], paths: list[str]) -> float:
    """Send `paths` over CONCURRENT_CLIENTS connections; return the seconds they took."""
    queue = list(paths)

    async def client(connection: HttpConnection) -> None:
        while queue:
            path = queue.pop()
            status, body = await connection.get(path)
            if status != 200:
                raise RuntimeError(f"GET {path} returned {status}: {body[:200]!r}")

    connections = [HttpConnection.to(base_url, headers) for _ in range(CONCURRENT_CLIENTS)]
    async with AsyncExitStack() as stack:
        for connection in connections:
            await stack.enter_async_context(connection)
        started = time.perf_counter()
        await asyncio.gather(*(client(connection) for connection in connections))
        return time.perf_counter() - started


async def _rates_in_turns(
    targets: list[tuple[str, dict[str, str], list[str]]], turns: int = THROUGHPUT_TURNS
) -> list[float]:
    """Return the requests per second of each (base URL, headers, paths) target.

    Each turn sends every target's paths once. A single burst of 2,000 requests lasted less
    than a second, so a change in the machine's speed between the service's burst and the
    baseline's moved their ratio. Turns give every target the same share of fast and slow
    moments.
    """
    seconds = [0.0] * len(targets)
    for _ in range(turns):
        for index, (base_url, headers, paths) in enumerate(targets):
            seconds[index] += await _throughput(base_url, headers, paths)
    return [
        turns * len(paths) / elapsed
        for (_url, _headers, paths), elapsed in zip(targets, seconds, strict=True)
    ]


async def _page_cookie(base_url: str) -> str:
    """Sign in through the form, as a technician's browser does, and return the cookie."""
    async with httpx.AsyncClient(base_url=base_url) as page:
        await page.get("/login")
        signed_in = await page.post(
            "/login",
            data={
                "username": "bench",
                "password": PAGE_PASSWORD,
                "_csrf_token": page.cookies.get("inventory_csrf", ""),
            },
        )
        if signed_in.status_code != 303:
            raise RuntimeError(f"sign-in for the page benchmark failed: {signed_in.status_code}")
        return "; ".join(f"{name}={value}" for name, value in page.cookies.items())


def _line(name: str, value: float, unit: str, target: str) -> None:
    print(f"  {name:<44} {value:9.2f} {unit:<6} target {target}")


async def _bench(url: str, name: str, devices: int, samples: int) -> None:
    print(f"{name} ({devices:,} devices, {samples} samples)")
    db = await _prepare(url, devices)
    await create_user(db, "bench", "technician", PAGE_PASSWORD, technician="000001")
    token, _info = await create_token(db, "bench", name="bench")
    await db.dispose()
    rng = random.Random(5)
    tags = [f"{rng.randrange(devices):08d}" for _ in range(samples)]
    headers = {"Authorization": f"Bearer {token}"}
    with serving(url, workers=1) as (service_url, _process), serving_baseline(url) as raw_url:
        async with (
            HttpConnection.to(service_url, headers) as service,
            HttpConnection.to(raw_url) as raw,
        ):
            lookups = [f"/api/v1/devices/{tag}" for tag in tags]
            raw_lookups = [f"/raw/{tag}" for tag in tags]
            await _sequential(service, lookups[:50])
            await _sequential(raw, raw_lookups[:50])
            single_client_ms = await _sequential(service, lookups)
            raw_single_client_ms = await _sequential(raw, raw_lookups)
            limit = "3 ms" if name == "SQLite" else "-"
            p99_limit = "15 ms" if name == "SQLite" else "25 ms"
            _line("lookup, 1 client, p50", _percentile(single_client_ms, 0.5), "ms", limit)
            _line("lookup, 1 client, p99", _percentile(single_client_ms, 0.99), "ms", p99_limit)
            _line(
                "baseline lookup, 1 client, p50", _percentile(raw_single_client_ms, 0.5), "ms", "-"
            )

            service_rps, raw_rps, health_rps = await _rates_in_turns(
                [
                    (service_url, headers, lookups),
                    (raw_url, {}, raw_lookups),
                    (service_url, {}, ["/health"] * samples),
                ]
            )
            _line(f"lookup, {CONCURRENT_CLIENTS} clients", service_rps, "req/s", "-")
            _line(f"baseline lookup, {CONCURRENT_CLIENTS} clients", raw_rps, "req/s", "-")
            _line(f"GET /health, {CONCURRENT_CLIENTS} clients", health_rps, "req/s", "-")
            _line("ratio lookup / baseline lookup", service_rps / raw_rps, "", ">= 0.5")
            _line("ratio lookup / GET /health", service_rps / health_rps, "", ">= 0.25")

            cookie = await _page_cookie(service_url)
            async with HttpConnection.to(service_url, {"Cookie": cookie}) as page:
                await _sequential(page, [f"/a/{tag}" for tag in tags[:50]])
                page_ms = await _sequential(page, [f"/a/{tag}" for tag in tags])
            _line("scan page, 1 client, p50", _percentile(page_ms, 0.5), "ms", limit)
            _line("scan page, 1 client, p99", _percentile(page_ms, 0.99), "ms", p99_limit)

            # A new connection: the server closes one left idle past its keep-alive time.
            async with HttpConnection.to(service_url, headers) as acting:
                for action, data in ACTIONS:
                    timings = await _actions(acting, action, data, samples)
                    _line(f"{action}, 1 client, p50", _percentile(timings, 0.5), "ms", "-")
                    _line(f"{action}, 1 client, p99", _percentile(timings, 0.99), "ms", "30 ms")


# The same devices are deployed, taken into repair and repaired, in this order. Completing a
# repair writes the most summary rows of any action a technician scans for.
ACTIONS: list[tuple[str, dict[str, object]]] = [
    ("deploy", {"room": "101"}),
    ("open_repair", {"problem": "cracked screen"}),
    ("complete_repair", {"resolution": "screen replaced", "parts_used": ["screen"]}),
]


async def _actions(
    connection: HttpConnection, action: str, data: dict[str, object], samples: int
) -> list[float]:
    """POST one action to the first `samples` devices; return each request's milliseconds."""
    body = json.dumps({"action": action, "data": data}).encode()
    timings = []
    for n in range(samples):
        path = f"/api/v1/devices/{n:08d}/actions"
        started = time.perf_counter()
        status, answer = await connection.post_json(path, body)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"POST {path} returned {status}: {answer[:200]!r}")
    return timings


async def _postgres(server_url: str, devices: int, samples: int) -> None:
    parsed = make_url(server_url)
    name = f"inventory_scan_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = parsed.set(database=name).render_as_string(hide_password=False)
        await _bench(url, "PostgreSQL", devices, samples)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1_000_000, help="devices to generate")
    parser.add_argument("--samples", type=int, default=1000, help="timed requests per figure")
    parser.add_argument("--postgres", help="asyncpg URL of a server to also run on")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'scan.sqlite3'}"
        asyncio.run(_bench(url, "SQLite", args.devices, args.samples))
    if args.postgres:
        asyncio.run(_postgres(args.postgres, args.devices, args.samples))


if __name__ == "__main__":
    main()
