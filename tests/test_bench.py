"""`make bench` keeps working: a tiny run of each benchmark finishes and prints its ratio."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import POSTGRES_URL


def test_service_benchmark_runs(database_url: str) -> None:
    command = [sys.executable, "-m", "bench", "--devices", "300", "--samples", "5"]
    if not database_url.startswith("sqlite"):
        command += ["--postgres", POSTGRES_URL or ""]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ratio") >= 2


def test_label_benchmark_runs() -> None:
    command = [
        sys.executable,
        "-m",
        "bench.labels",
        "--labels",
        "20",
        "--large",
        "40",
        "--repeat",
        "1",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout


def test_escalation_export_benchmark_runs() -> None:
    command = [sys.executable, "-m", "bench.escalations", "--rows", "200"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "of the bare driver" in result.stdout


def test_recycling_benchmark_runs() -> None:
    command = [sys.executable, "-m", "bench.recycling", "--devices", "200"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout
    assert "bare UPDATE" in result.stdout


def test_schedule_benchmark_runs() -> None:
    command = [sys.executable, "-m", "bench.plans", "--sites", "100", "--technicians", "20"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout
    assert "home region" in result.stdout
