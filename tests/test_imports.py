"""Device, site and technician imports against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import sqlite3
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select

from inventory.db import Database
from inventory.devices.audit import verify_chains
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.service import get_device
from inventory.errors import ConflictError, InvalidInputError, StorageFullError
from inventory.escalations.models import WarrantyCoverage
from inventory.imports import devices as devices_module
from inventory.imports.bulk import BulkWriter
from inventory.imports.devices import DeviceImportOptions, _Context, import_devices
from inventory.imports.directory import import_sites, import_technicians
from inventory.imports.reading import open_bytes, open_path
from inventory.imports.report import ImportReport, RowResult
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from tests.factories import make_world, receive

DATA = Path(__file__).parent / "data" / "imports"
NYC = Path(__file__).parent.parent / "inventory" / "demo" / "data"
GENERIC = (
    "asset_tag,serial_number,manufacturer,model,site,state,room,purchase_date,warranty_end,"
    "purchase_cost\n"
)


async def _import(
    db: Database, text: str | bytes, **options: object
) -> tuple[ImportReport, list[RowResult]]:
    rows: list[RowResult] = []
    data = text.encode() if isinstance(text, str) else text
    table = open_bytes(data)
    report = ImportReport(kind="devices", row_sink=rows.append)
    options.setdefault("technician", "000123")
    await import_devices(db, table, DeviceImportOptions(**options), report=report)  # type: ignore[arg-type]
    return report, rows


def _numbered_rows(*, warranty: bool) -> list[str]:
    """Return nine generic rows, tags 000101 to 000109 and serial numbers SN1 to SN9."""
    dates = "2024-08-01,2027-07-31" if warranty else ","
    return [
        f"0001{number:02d},SN{number},Acer,Chromebook 311 (C722),01M015,,,{dates},\n"
        for number in range(1, 10)
    ]


async def _count(db: Database, table: type) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def test_generic_import_creates_devices_and_events(db: Database) -> None:
    await make_world(db)
    text = GENERIC + (
        '000101,SN1,Acer,Chromebook 311 (C722),01M015,,,2023-01-05,2026-01-04,"$1,234.50"\n'
        "000102,SN2,acer,CHROMEBOOK 311 (c722),02M019,deployed,Room 9,,,\n"
    )
    report, rows = await _import(db, text)
    assert report.committed
    assert report.counts["created"] == 2
    assert [row.outcome for row in rows] == ["created", "created"]
    first = await get_device(db, "000101")
    assert first.state == "received"
    assert first.purchase_date == date(2023, 1, 5)
    assert first.warranty_start == date(2023, 1, 5)
    assert first.warranty_end == date(2026, 1, 4)
    second = await get_device(db, "000102")
    assert second.state == "deployed"
    assert second.room == "Room 9"
    # The differently cased model matched the catalog's model; none was created.
    assert await _count(db, DeviceModel) == 1
    assert report.new_models == []
    assert await _count(db, DeviceEvent) == 2
    async with db.read() as session:
        event = await session.scalar(select(DeviceEvent).where(DeviceEvent.sequence == 1))
        coverage = await session.scalar(select(WarrantyCoverage))
    assert event is not None
    assert event.action == "import"
    assert event.technician_name == "Ana Reyes"
    assert event.actor is not None
    assert event.data["purchase_cost"] == "1234.50"
    assert coverage is not None
    assert coverage.kind == "base"
    assert coverage.end_date == date(2026, 1, 4)
    audit = await verify_chains(db)
    assert audit.ok
    assert audit.checked == 2


async def test_any_rejected_row_writes_nothing(db: Database) -> None:
    await make_world(db)
    text = GENERIC + (
        "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000102,6.37702E+15,Acer,Chromebook 311 (C722),01M015,,,03/06/2021,,\n"
        ",SN3,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000104,SN4,Acer,Chromebook 311 (C722),01M015,,,1970-01-01x,,\n"
        "000105,SN5,Acer,Chromebook 311 (C722),99X999,,,,,\n"
    )
    report, rows = await _import(db, text)
    assert not report.committed
    assert report.counts == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 4}
    reasons = {row.line: " ".join(row.reasons) for row in rows}
    assert "scientific notation" in reasons[3]
    assert "ambiguous" in reasons[3]
    assert "asset tag is missing" in reasons[4]
    assert "not a date" in reasons[5]
    assert "'99X999' not found" in reasons[6]
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0
    assert "Nothing written" in report.text()


async def test_generated_tags_when_asked(db: Database) -> None:
    await make_world(db)
    text = GENERIC + ",SN3,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    report, _ = await _import(db, text, generate_tags="IMP-")
    assert report.committed
    assert (await get_device(db, "IMP-0000002")).serial_number == "SN3"


async def test_duplicates_in_file_and_database(db: Database) -> None:
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    text = GENERIC + (
        "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000101,SN2,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000103,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000900,SN4,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000105,SN900,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    report, rows = await _import(db, text)
    reasons = {row.line: " ".join(row.reasons) for row in rows}
    assert rows[0].outcome == "created"
    assert "also on line 2" in reasons[3]
    assert "also on line 2" in reasons[4]
    assert "already used by the device with serial number 'SN900'" in reasons[5]
    assert "already recorded on the device with asset tag '000900'" in reasons[6]
    assert report.counts["rejected"] == 4
    assert await _count(db, Device) == 1


async def test_update_by_tag_and_serial(db: Database) -> None:
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    await receive(db, "000901", serial="SN901")
    text = GENERIC + (
        # Same tag, new serial and room: its own old serial is no collision.
        "000900,SN900-B,Acer,Chromebook 311 (C722),01M015,,Room 1,,,\n"
        "000901,SN901,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000902,SN902,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    report, rows = await _import(db, text, update_by="tag")
    assert report.committed
    assert [row.outcome for row in rows] == ["updated", "unchanged", "created"]
    device = await get_device(db, "000900")
    assert device.serial_number == "SN900-B"
    assert device.room == "Room 1"
    assert device.version == 2

    by_serial = GENERIC + "000990,SN901,Acer,Chromebook 311 (C722),02M019,,,,,\n"
    report, rows = await _import(db, by_serial, update_by="serial")
    assert report.committed
    assert rows[0].outcome == "updated"
    moved = await get_device(db, "000990")
    assert moved.site == "02M019"
    async with db.read() as session:
        events = list(await session.scalars(select(DeviceEvent.action)))
    assert events.count("import_update") == 2
    assert (await verify_chains(db)).ok


async def test_update_cannot_change_state(db: Database) -> None:
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    text = GENERIC + "000900,SN900,Acer,Chromebook 311 (C722),01M015,lost,,,,\n"
    report, rows = await _import(db, text, update_by="tag")
    assert not report.committed
    assert "record lifecycle actions" in rows[0].reasons[0]


async def test_dry_run_writes_nothing(db: Database) -> None:
    await make_world(db)
    text = GENERIC + "000101,SN1,NewCo,Tablet 9,01M015,,,,,\n"
    report, rows = await _import(db, text, dry_run=True)
    assert not report.committed
    assert rows[0].outcome == "created"
    assert report.new_models == ["NewCo Tablet 9"]
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceModel) == 1


async def test_snipeit_sample(db: Database) -> None:
    await make_world(db)
    # The sample has no serial number column; the whole file is rejected with the names a
    # serial number column may have.
    table = open_path(DATA / "snipeit-assets-sample.csv")
    options = DeviceImportOptions(site="01M015", date_format="%m/%d/%y", technician="000123")
    with pytest.raises(InvalidInputError, match="no column for serial_number") as caught:
        await import_devices(db, table, options)
    table.close()
    assert "'Asset Tag'" in caught.value.detail

    # With serial numbers added, all 22 rows import.
    with (DATA / "snipeit-assets-sample.csv").open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*records[0], "Serial"])
    for number, record in enumerate(records[1:], start=1):
        writer.writerow([*record, f"C02SN{number:04d}"])
    data = b"\xef\xbb\xbf" + buffer.getvalue().encode()
    report, _ = await _import(db, data, site="01M015", date_format="%m/%d/%y")
    assert report.committed, report.text()
    assert report.format_label.startswith("Snipe-IT")
    assert report.counts["created"] == 22
    device = await get_device(db, "ICC-2065556")
    assert device.model == 'Macbook Pro 13"'
    assert device.manufacturer == "Berge Inc"
    assert device.purchase_date == date(2023, 1, 23)
    assert device.end_of_support == date(2028, 10, 27)
    assert (await get_device(db, "WBH-2841795")).assignee == "user001"


async def test_google_device_list(db: Database) -> None:
    await make_world(db)
    text = (
        "deviceId,serialNumber,annotatedAssetId,annotatedLocation,annotatedUser,orgUnitPath,"
        "model,osVersion,autoUpdateExpiration,status,lastSync\n"
        "d1,NXA1,000201,Room 4,,/Students/01M015,Acer Chromebook 311 (C722),120.0,2029-06-01,"
        "ACTIVE,2026-11-30T10:00:00.000Z\n"
        "d2,NXA2,000202,,student@example.org,/Students/02M019,HP Chromebook 11 G8 EE,,,ACTIVE,\n"
        "d3,NXA3,000203,,,/Students/01M015,HP Chromebook 11 G8 EE,,,DEPROVISIONED,\n"
    )
    report, rows = await _import(db, text)
    assert report.format_label.startswith("Google")
    assert "DEPROVISIONED" in rows[2].reasons[0]
    report, rows = await _import(db, text.rsplit("d3,", 1)[0])
    assert report.committed, report.text()
    first = await get_device(db, "000201")
    assert first.state == "deployed"
    assert first.room == "Room 4"
    second = await get_device(db, "000202")
    assert second.manufacturer == "HP"
    assert second.device_type == "chromebook"
    assert second.assignee == "student@example.org"


async def test_xlsx_import(db: Database) -> None:
    await make_world(db)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Asset Tag", "Serial Number", "Manufacturer", "Model", "Site", "Purchased"])
    sheet.append(["000301", "SN301", "Acer", "Chromebook 311 (C722)", "01M015", date(2024, 8, 1)])
    sheet.append(["000302", 6.37702e15, "Acer", "Chromebook 311 (C722)", "01M015", None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report, rows = await _import(db, buffer.getvalue())
    assert rows[0].outcome == "created"
    assert "too large" in rows[1].reasons[0]
    assert not report.committed


async def test_technician_required(db: Database) -> None:
    await make_world(db)
    with pytest.raises(InvalidInputError, match="technician"):
        await _import(db, GENERIC, technician=None)


async def test_nyc_and_california_sites(db: Database) -> None:
    table = open_path(NYC / "nyc-school-enrollment-2011-12.csv")
    report = await import_sites(db, table, source="nyc")
    table.close()
    assert report.committed, report.text()
    assert report.counts["created"] == 1509
    table = open_path(DATA / "ca-schools-2018.csv")
    report = await import_sites(db, table, source="ca")
    table.close()
    assert report.committed, report.text()
    assert report.counts["created"] == 938
    async with db.read() as session:
        school = await session.scalar(select(Site).where(Site.code == "01M015"))
        california = await session.scalar(select(Site).where(Site.code == "01611760135244"))
        leading_zero = await session.scalar(
            select(func.count()).select_from(Site).where(Site.external_code.like("0%"))
        )
    assert school is not None
    assert school.name == "P.S. 015 ROBERTO CLEMENTE"
    assert school.enrollment == 189
    assert california is not None
    assert california.name == "Mission San Jose High"
    assert california.region == "Fremont Unified"
    assert california.address == "41717 Palm Avenue, Fremont, CA 94539-4799"
    assert california.latitude == pytest.approx(37.54504)
    assert leading_zero == 145

    # Importing the same file again changes nothing.
    table = open_path(DATA / "ca-schools-2018.csv")
    report = await import_sites(db, table, source="ca")
    table.close()
    assert report.counts["unchanged"] == 938


async def test_technicians_import(db: Database) -> None:
    text = (
        "Employee ID;First Name;Last Name;Email;Active\n"
        "000777;Rosa;Diaz;rosa@example.org;yes\n"
        "000778;Li;Wei;not-an-email;maybe\n"
    )
    table = open_bytes(text.encode())
    report = await import_technicians(db, table)
    assert not report.committed
    assert report.rejections[0].line == 3
    assert len(report.rejections[0].reasons) == 2
    table = open_bytes(text.rsplit("000778", 1)[0].encode())
    report = await import_technicians(db, table)
    assert report.committed
    async with db.read() as session:
        technician = await session.scalar(select(Technician))
    assert technician is not None
    assert technician.name == "Rosa Diaz"
    assert technician.employee_number == "000777"


async def test_duplicates_across_written_chunks(db: Database, monkeypatch) -> None:
    # Earlier chunks are already written when later ones are checked, so the database
    # lookups find them and must report them as earlier lines of the file.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    text = GENERIC + (
        "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000900,SN900,Acer,Chromebook 311 (C722),01M015,,Room 1,,,\n"
        "000103,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000900,SN900,Acer,Chromebook 311 (C722),01M015,,Room 2,,,\n"
        "000101,SN5,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    report, rows = await _import(db, text, update_by="tag")
    assert [row.outcome for row in rows] == [
        "created",
        "updated",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert rows[2].reasons == ("serial number 'SN1' is also on line 2.",)
    assert rows[3].reasons == (
        "asset tag '000900' is also on line 3.",
        "serial number 'SN900' is also on line 3.",
    )
    assert rows[4].reasons == ("asset tag '000101' is also on line 2.",)
    assert not report.committed
    assert await _count(db, Device) == 1


async def test_unreadable_line_after_written_chunks(db: Database, monkeypatch) -> None:
    # The next chunk is read while the previous one is written, so the read error arrives
    # with a write in flight. Nothing of either may be left.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    text = GENERIC + (
        "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000102,SN2,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000103,SN3,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        '000104,"SN4,Acer,Chromebook 311 (C722),01M015,,,,,\n'
    )
    with pytest.raises(InvalidInputError, match="Line 5 cannot be read as CSV"):
        await _import(db, text)
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0
    assert await _count(db, WarrantyCoverage) == 0


async def test_chunks_written_behind_their_checks(db: Database, monkeypatch) -> None:
    # A chunk is checked while the chunk before it is still being written, so each chunk's
    # rows must be written once, under their own ids, whatever the chunk sizes.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    lines = _numbered_rows(warranty=True)
    lines.insert(4, "000900,SN900,Acer,Chromebook 311 (C722),01M015,,Room 4,,,\n")

    report, rows = await _import(db, GENERIC + "".join(lines), update_by="tag")
    assert report.committed, report.text()
    assert [row.outcome for row in rows].count("created") == 9
    assert report.counts["updated"] == 1

    async with db.read() as session:
        created = list(
            await session.execute(
                select(Device.id, Device.asset_tag, DeviceEvent.data)
                .join(DeviceEvent, DeviceEvent.device_id == Device.id)
                .where(DeviceEvent.action == "import")
            )
        )
    assert len(created) == 9
    assert len({device_id for device_id, _, _ in created}) == 9
    for _, tag, data in created:
        number = int(tag[-2:])
        assert data["line"] == number + 1 + (number >= 5), (tag, data)
        assert data["serial_number"] == f"SN{number}"

    assert await _count(db, WarrantyCoverage) == 10
    audit = await verify_chains(db)
    assert audit.ok
    assert audit.checked == 11


@pytest.mark.parametrize("chunk_rows", [1, 2, 10_000])
async def test_tag_given_up_by_an_update_is_free(db: Database, monkeypatch, chunk_rows) -> None:
    # A later row may take the tag or serial number an earlier row's update gave up, in
    # the same chunk or a later one, in a dry run as in the real import.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", chunk_rows)
    await make_world(db)
    await receive(db, "000900", serial="SN900")
    await receive(db, "000800", serial="SN800")
    by_serial = GENERIC + (
        "000901,SN900,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000101,SN101,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000900,SN950,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    by_tag = GENERIC + (
        "000800,SN801,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000102,SN102,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000103,SN800,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    for text, update_by in ((by_serial, "serial"), (by_tag, "tag")):
        report, rows = await _import(db, text, update_by=update_by, dry_run=True)
        assert [row.outcome for row in rows] == ["updated", "created", "created"], rows
        report, rows = await _import(db, text, update_by=update_by)
        assert report.committed, report.text()
        assert [row.outcome for row in rows] == ["updated", "created", "created"]
    assert (await get_device(db, "000901")).serial_number == "SN900"
    assert (await get_device(db, "000900")).serial_number == "SN950"
    assert (await get_device(db, "000800")).serial_number == "SN801"
    assert (await get_device(db, "000103")).serial_number == "SN800"
    assert (await verify_chains(db)).ok


async def test_serial_of_another_manufacturer_is_a_new_device(db: Database) -> None:
    # Serial numbers are unique per manufacturer, so the device the lookup by serial number
    # finds is no duplicate. The row still gets a new device id.
    await make_world(db)
    await receive(db, "000900", serial="SNX")
    text = GENERIC + "000101,SNX,Dell,Chromebook 3100,01M015,,,,,\n"
    report, rows = await _import(db, text)
    assert report.committed, report.text()
    assert [row.outcome for row in rows] == ["created"]
    assert (await get_device(db, "000101")).serial_number == "SNX"
    assert await _count(db, Device) == 2


async def test_cancelled_import_lets_its_statement_end(db: Database, monkeypatch) -> None:
    # Cancelling the import while it waits for a lookup does not cancel the lookup's
    # statement on the connection: it ends, the transaction is rolled back, and the
    # pool's connection is usable.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    look_up = devices_module._look_up
    started = asyncio.Event()
    cancelled_steps = 0

    async def slow_look_up(*args):
        nonlocal cancelled_steps
        started.set()
        try:
            await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            cancelled_steps += 1
            raise
        return await look_up(*args)

    monkeypatch.setattr(devices_module, "_look_up", slow_look_up)
    lines = _numbered_rows(warranty=False)
    task = asyncio.create_task(_import(db, GENERIC + "".join(lines)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled_steps == 0
    assert await _count(db, Device) == 0
    monkeypatch.setattr(devices_module, "_look_up", look_up)
    report, _ = await _import(db, GENERIC + "".join(lines))
    assert report.committed
    assert await _count(db, Device) == 9


def test_created_ids_kept_as_runs() -> None:
    # Another import drawing ids at the same time leaves gaps between this import's runs.
    context = _Context.__new__(_Context)
    context.created_firsts, context.created_lasts = [], []
    context.add_created([5, 6, 7, 12, 13])
    context.add_created([14, 20])
    assert (context.created_firsts, context.created_lasts) == ([5, 12, 20], [7, 14, 20])
    assert [context.created_here(i) for i in (4, 5, 7, 8, 11, 12, 14, 15, 20, 21)] == [
        False,
        True,
        True,
        False,
        False,
        True,
        True,
        False,
        True,
        False,
    ]


@pytest.mark.parametrize("failing", [4, 15])
async def test_failed_write_behind_later_checks_leaves_nothing(
    db: Database, monkeypatch, failing: int
) -> None:
    # A write fails while later chunks are read and checked (the 4th insert), or after
    # every check is done (the 15th and last): the import stops with that failure and the
    # whole transaction is rolled back.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    writes = 0
    insert = BulkWriter.insert

    async def failing_insert(self, table, columns, rows):
        nonlocal writes
        writes += 1
        if writes == failing:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: devices.asset_tag")
        await insert(self, table, columns, rows)

    monkeypatch.setattr(BulkWriter, "insert", failing_insert)
    lines = _numbered_rows(warranty=True)
    with pytest.raises(ConflictError, match=r"devices\.asset_tag"):
        await _import(db, GENERIC + "".join(lines))
    assert writes == failing
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0
    assert await _count(db, WarrantyCoverage) == 0


async def test_duplicates_of_a_chunk_not_yet_written(db: Database, monkeypatch) -> None:
    # The second chunk's lookups run before the first chunk is written, so its duplicates
    # of the first chunk are found from memory.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 2)
    await make_world(db)
    text = GENERIC + (
        "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000102,SN2,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000103,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n"
        "000102,SN4,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    )
    report, rows = await _import(db, text)
    assert [row.outcome for row in rows] == ["created", "created", "rejected", "rejected"]
    assert rows[2].reasons == ("serial number 'SN1' is also on line 2.",)
    assert rows[3].reasons == ("asset tag '000102' is also on line 3.",)
    assert not report.committed
    assert await _count(db, Device) == 0


async def test_full_disk_leaves_nothing_and_says_so(db: Database, monkeypatch) -> None:
    # On SQLite the file is capped a few pages above its size, so a later chunk's writes
    # find the disk full. On PostgreSQL the driver's disk-full error is raised in their
    # place.
    monkeypatch.setattr("inventory.imports.devices.CHUNK_ROWS", 300)
    await make_world(db)
    if db.is_sqlite:
        async with db.engine.connect() as connection:
            pages = (await connection.exec_driver_sql("PRAGMA page_count")).scalar_one()

        def cap(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA max_page_count = {pages + 60}")
            cursor.close()

        await db.engine.dispose()
        event.listen(db.engine.sync_engine, "connect", cap)
    else:
        insert = BulkWriter.insert
        calls = 0

        async def full_insert(self, table, columns, rows):
            nonlocal calls
            calls += 1
            if calls == 4:
                raise asyncpg.DiskFullError("could not extend file: No space left on device")
            await insert(self, table, columns, rows)

        monkeypatch.setattr(BulkWriter, "insert", full_insert)
    lines = [
        f"T{number:05d},S{number:05d},Acer,Chromebook 311 (C722),01M015,,room {'x' * 60},,,\n"
        for number in range(600)
    ]
    with pytest.raises(StorageFullError, match="ran out of disk space"):
        await _import(db, GENERIC + "".join(lines))
    if db.is_sqlite:
        event.remove(db.engine.sync_engine, "connect", cap)
        await db.engine.dispose()
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0


async def test_imports_log_their_counts(db: Database, caplog) -> None:
    # A log record refuses extra fields named like its own ("created"), which made every
    # written import fail once INFO logging was on.
    caplog.set_level(logging.INFO, logger="inventory.imports")
    await make_world(db)
    report, _ = await _import(db, GENERIC + "000101,SN1,Acer,Chromebook 311 (C722),01M015,,,,,\n")
    assert report.committed
    table = open_bytes(b"employee_number,name\n000777,Rosa Diaz\n")
    assert (await import_technicians(db, table)).committed
    logged = {record.getMessage(): record for record in caplog.records}
    assert logged["devices imported"].rows["created"] == 1
    assert logged["technicians imported"].rows["created"] == 1


async def test_generated_tags_never_pick_a_device(db: Database) -> None:
    await make_world(db)
    await receive(db, "X-0000002", serial="XS1")
    await receive(db, "000101", serial="SN1")
    row = ",UPD-NEW,Acer,Chromebook 311 (C722),02M019,,Gym,,,\n"
    # A generated tag cannot find the device to update by tag.
    with pytest.raises(InvalidInputError, match="cannot find devices to update by tag"):
        await _import(db, GENERIC + row, generate_tags="X-", update_by="tag")
    # A row without a tag that updates by serial keeps the device's tag.
    report, rows = await _import(
        db,
        GENERIC + ",SN1,Acer,Chromebook 311 (C722),01M015,,Gym,,,\n",
        generate_tags="Z-",
        update_by="serial",
    )
    assert report.committed
    assert rows[0].outcome == "updated"
    assert rows[0].reasons == ("changed: room",)
    assert (await get_device(db, "000101")).room == "Gym"
    # A generated tag that an existing device has rejects the row, naming the prefix.
    report, rows = await _import(db, GENERIC + row, generate_tags="X-")
    assert rows[0].key == "X-0000002"
    assert rows[0].reasons == (
        "generated asset tag 'X-0000002' is already used by the device with serial number "
        "'XS1'; choose another prefix.",
    )
    assert (await get_device(db, "X-0000002")).serial_number == "XS1"


@pytest.mark.parametrize("prefix", ["a/b#", "\u200bZ", "Z" * 60, " Z"])
async def test_unusable_tag_prefix_refused(db: Database, prefix: str) -> None:
    await make_world(db)
    row = ",SN7,Acer,Chromebook 311 (C722),01M015,,,,,\n"
    with pytest.raises(InvalidInputError, match="prefix"):
        await _import(db, GENERIC + row, generate_tags=prefix)
    assert await _count(db, Device) == 0


def test_database_error_names_the_key() -> None:
    error = Exception(
        'duplicate key value violates unique constraint "uq_devices_asset_tag"\n'
        "DETAIL:  Key (asset_tag)=(000101) already exists.\n[SQL: COPY ...]"
    )
    assert devices_module._database_error(error) == (
        'duplicate key value violates unique constraint "uq_devices_asset_tag"; '
        "Key (asset_tag)=(000101) already exists."
    )
