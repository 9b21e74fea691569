"""The report benchmark runs end to end at a small size (the full size runs in make bench)."""

from __future__ import annotations

import pytest

from bench import reports


def test_report_bench_small_run(capsys: pytest.CaptureFixture[str]) -> None:
    reports.main(["--devices", "2500", "--events", "7500", "--samples", "3"])
    output = capsys.readouterr().out
    assert "0.0025M events site report" in output
    assert "0.0075M events district view" in output
    assert "district view: p95 changed by" in output
