"""The `inventory import` and `inventory export devices` commands, and an import killed halfway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent
from inventory.escalations.models import WarrantyCoverage
from tests.factories import make_world, run_cli

HEADER = "asset_tag,serial_number,manufacturer,model,site,purchase_date,warranty_end\n"


async def _count(db: Database, table: type) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def test_import_export_round_trip(db: Database, database_url: str, tmp_path: Path) -> None:
    await make_world(db)
    source = tmp_path / "devices.csv"
    source.write_text(
        HEADER
        + "000101,SN1,Acer,Chromebook 311 (C722),01M015,2023-01-05,2026-01-04\n"
        + "000102,SN2,Acer,Chromebook 311 (C722),02M019,,\n",
        encoding="utf-8",
    )
    report = tmp_path / "report.csv"
    result = run_cli(
        database_url,
        "import",
        "devices",
        str(source),
        "--technician",
        "000123",
        "--report",
        str(report),
    )
    assert result.returncode == 0, result.stderr
    assert "Imported: 2 rows (2 created" in result.stdout
    assert "'asset_tag' -> asset_tag" in result.stdout
    assert report.read_text().splitlines()[1] == "2,000101,created,"

    exported = tmp_path / "export.csv"
    result = run_cli(database_url, "export", "devices", "--out", str(exported))
    assert result.returncode == 0, result.stderr
    lines = exported.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("asset_tag,serial_number,manufacturer,model,device_type")
    assert len(lines) == 3

    # Re-importing the export changes nothing; editing a room updates that device only.
    result = run_cli(
        database_url,
        "import",
        "devices",
        str(exported),
        "--technician",
        "000123",
        "--update-by",
        "tag",
    )
    assert result.returncode == 0, result.stderr
    assert "2 unchanged" in result.stdout
    edited = exported.read_text(encoding="utf-8-sig").replace(
        "02M019,received,,", "02M019,received,Library,"
    )
    exported.write_text(edited, encoding="utf-8")
    result = run_cli(
        database_url,
        "import",
        "devices",
        str(exported),
        "--technician",
        "000123",
        "--update-by",
        "tag",
    )
    assert result.returncode == 0, result.stderr
    assert "1 updated, 1 unchanged" in result.stdout
    assert await _count(db, WarrantyCoverage) == 1
    result = run_cli(database_url, "audit", "verify")
    assert result.returncode == 0, result.stdout + result.stderr


async def test_rejected_rows_exit_nonzero(db: Database, database_url: str, tmp_path: Path) -> None:
    await make_world(db)
    source = tmp_path / "devices.csv"
    source.write_text(HEADER + "000101,SN1,Acer,Chromebook 311 (C722),01M015,03/06/2021,\n")
    result = run_cli(database_url, "import", "devices", str(source), "--technician", "000123")
    assert result.returncode == 1
    assert "ambiguous" in result.stdout
    assert "Nothing written" in result.stdout
    assert await _count(db, Device) == 0


async def test_import_sites_command(db: Database, database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "sites.csv"
    source.write_bytes("code;name;enrollment\r\n01X001;Escuela Ñ;1.200\r\n".encode("cp1252"))
    result = run_cli(database_url, "import", "sites", str(source))
    assert result.returncode == 1
    assert "Windows-1252" in result.stdout
    assert "enrollment '1.200' is not a whole number" in result.stdout


def _large_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        for number in range(rows):
            handle.write(f"T{number:07d},S{number:09d},Acer,Chromebook 311 (C722),01M015,,\n")


async def test_killed_import_leaves_database_unchanged(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await make_world(db)
    source = tmp_path / "large.csv"
    _large_file(source, 60_000)
    env = {
        **os.environ,
        "INVENTORY_DATABASE_URL": database_url,
        "INVENTORY_ENVIRONMENT": "test",
        "INVENTORY_LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(  # noqa: ASYNC220 (the test waits on it on purpose)
        [
            sys.executable,
            "-m",
            "inventory.cli",
            "import",
            "devices",
            str(source),
            "--technician",
            "000123",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        # Wait until the first chunk has been written into the open transaction.
        for line in process.stderr:
            if "written, not yet committed" in line:
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0
    assert await _count(db, WarrantyCoverage) == 0
