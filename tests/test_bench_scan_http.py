"""The HTTP scan benchmark keeps working: a tiny run finishes and prints its ratios and
the repair it completes."""

from __future__ import annotations

import subprocess
import sys


def test_scan_http_benchmark_runs() -> None:
    command = [sys.executable, "-m", "bench.scan_http", "--devices", "300", "--samples", "20"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ratio") == 2
    assert "complete_repair, 1 client, p99" in result.stdout
