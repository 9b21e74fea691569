"""`make bench` keeps working: a tiny run of the import benchmark finishes and prints its ratio."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import POSTGRES_URL


def test_import_benchmark_runs(database_url: str) -> None:
    command = [sys.executable, "-m", "bench.imports", "--rows", "300"]
    if not database_url.startswith("sqlite"):
        command += ["--postgres", POSTGRES_URL or ""]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ratio") == (1 if database_url.startswith("sqlite") else 2)
