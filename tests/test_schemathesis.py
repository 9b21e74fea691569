"""Generated requests for every API route and role: no 500 and no undocumented status.

schemathesis reads the OpenAPI document of a live server on loopback and sends a bounded
number of generated requests per route (fixed seed, so a failure can be replayed).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from inventory.db import Database
from tests.conftest import token_for
from tests.factories import make_world, receive

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES_PER_ROUTE = 5


async def _schemathesis(base_url: str, token: str | None, folder: Path) -> tuple[int, str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/schema/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance",
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        str(EXAMPLES_PER_ROUTE),
        "--seed",
        "2026",
        "--request-timeout",
        "30",
        "--workers",
        "1",
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=folder,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


@pytest.mark.parametrize("role", ["admin", "technician", "site", "vendor", "anonymous"])
async def test_generated_requests_get_documented_answers(
    db: Database, live_server: str, role: str, tmp_path: Path
) -> None:
    await make_world(db)
    await receive(db, "0042")
    scope = {
        "admin": {},
        "technician": {"technician": "000123"},
        "site": {"sites": ["01M015"]},
        "vendor": {"vendor": "acer"},
    }
    token = None if role == "anonymous" else await token_for(db, role, role, **scope[role])
    code, output = await _schemathesis(live_server, token, tmp_path)
    assert code == 0, output[-6000:]
