"""Warranty coverages, escalations through their whole path, export batches and replies."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ElementTree
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from inventory.accounts.service import create_user
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.escalations.batches import create_batch
from inventory.escalations.coverage import coverage_end, covers, warranty_end
from inventory.escalations.exports import neutralize, restore, xlsx_file
from inventory.escalations.models import Escalation, ExportBatch, WarrantyCoverage
from inventory.escalations.profiles import get_profile
from inventory.vendors.schemas import VendorCreate
from inventory.vendors.service import create_vendor
from tests.conftest import PASSWORD, sign_in, token_for
from tests.factories import make_world, receive, run_cli

DATA = Path(__file__).parent / "data" / "vendor"


# --- Month arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 2, 1), 12, date(2024, 1, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 28)),
        (date(2023, 3, 31), 1, date(2023, 4, 30)),
        (date(2023, 8, 15), 36, date(2026, 8, 14)),
        (date(2023, 12, 1), 1, date(2023, 12, 31)),
    ],
)
def test_coverage_end(start: date, months: int, end: date) -> None:
    assert coverage_end(start, months) == end


def test_coverage_end_matches_a_vendor_warranty_status() -> None:
    # Apple's one-year coverage in the sample starts 08/25/10 and ends 08/24/11.
    tree = ElementTree.parse(DATA / "gsx-warranty_status.xml")
    start = datetime.strptime(tree.findtext(".//coverageStartDate") or "", "%m/%d/%y").date()
    end = datetime.strptime(tree.findtext(".//coverageEndDate") or "", "%m/%d/%y").date()
    assert coverage_end(start, 12) == end


@pytest.mark.parametrize("months", [0, -1, 241])
def test_coverage_end_refuses_impossible_lengths(months: int) -> None:
    with pytest.raises(ValueError, match="months"):
        coverage_end(date(2024, 1, 1), months)


def test_several_coverages() -> None:
    periods = [(date(2022, 1, 1), date(2022, 12, 31)), (date(2024, 1, 1), date(2025, 6, 30))]
    assert covers(periods, date(2022, 12, 31))
    assert not covers(periods, date(2023, 7, 1))
    assert covers(periods, date(2025, 6, 30))
    assert not covers(periods, date(2025, 7, 1))
    assert warranty_end(periods) == date(2025, 6, 30)
    assert warranty_end([]) is None


def test_neutralize() -> None:
    for risky in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]:
        assert neutralize(risky) == "'" + risky
    assert neutralize("plain") == "plain"
    assert neutralize("") == ""


def test_restore_removes_only_neutralizing_quote() -> None:
    for risky in ["=1+1", "+1", "-2", "@SUM(A1)"]:
        assert restore(neutralize(risky)) == risky
    assert restore("'quoted") == "'quoted"
    assert restore("RMA-1") == "RMA-1"


# --- The path through the API ----------------------------------------------------------------


async def _in_repair(client: Any, db: Database, tag: str, **receive_args: Any) -> None:
    await receive(db, tag, **receive_args)
    for action, data in [
        (
            "enroll",
            {
                "operating_system": "ChromeOS",
                "management_profile": "s",
                "user_profile_kind": "student",
            },
        ),
        ("open_repair", {"problem": "does not boot"}),
    ]:
        response = await client.post(
            f"/api/v1/devices/{tag}/actions",
            json={"action": action, "technician": "000123", "data": data},
        )
        assert response.status_code == 200, response.text


async def _escalate(client: Any, tag: str, **data: Any) -> Any:
    body = {"vendor": "acer", "problem": "no power", **data}
    return await client.post(
        f"/api/v1/devices/{tag}/actions",
        json={"action": "escalate", "technician": "000123", "data": body},
    )


async def _export(client: Any, vendor: str = "acer") -> dict[str, Any]:
    response = await client.post(f"/api/v1/vendors/{vendor}/batches")
    assert response.status_code == 201, response.text
    return response.json()


async def _download(client: Any, batch: int, fmt: str) -> bytes:
    response = await client.get(f"/api/v1/batches/{batch}/download", params={"format": fmt})
    assert response.status_code == 200, response.text
    return response.content


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _reply_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


async def _device(client: Any, tag: str) -> dict[str, Any]:
    return (await client.get(f"/api/v1/devices/{tag}")).json()


async def _escalation(client: Any, tag: str) -> dict[str, Any]:
    items = (await client.get("/api/v1/escalations", params={"asset_tag": tag})).json()["items"]
    return items[-1]


@pytest.mark.parametrize("outcome", ["repaired", "replaced", "denied"])
async def test_escalation_path_for_each_outcome(client: Any, db: Database, outcome: str) -> None:
    await make_world(db)
    await _in_repair(client, db, "T100")
    response = await _escalate(
        client, "T100", troubleshooting="Reseated battery; no change", parts_requested=["board"]
    )
    assert response.status_code == 200, response.text
    escalation = await _escalation(client, "T100")
    assert escalation["state"] == "open"
    assert escalation["covered"] is True
    assert escalation["parts_requested"] == ["board"]

    batch = await _export(client)
    assert batch["row_count"] == 1
    exported = _csv_rows(await _download(client, batch["id"], "csv"))
    assert exported[0]["Escalation ID"] == str(escalation["id"])
    assert (await _escalation(client, "T100"))["state"] == "exported"

    # The vendor fills in its RMA number in the exported file and sends it back.
    exported[0]["RMA Number"] = "RMA-7781"
    response = await client.post(
        "/api/v1/vendors/acer/replies",
        content=_reply_csv(exported),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["rows"][0]["actions"] == ["vendor_acknowledge"]
    assert (await _escalation(client, "T100"))["rma_number"] == "RMA-7781"

    response = await client.post(
        "/api/v1/devices/T100/actions",
        json={
            "action": "ship_to_vendor",
            "technician": "000123",
            "data": {"tracking_number": "1Z42"},
        },
    )
    assert response.status_code == 200, response.text
    assert (await _escalation(client, "T100"))["state"] == "shipped"

    reply = {"outcome": outcome}
    if outcome == "replaced":
        reply["replacement_serial"] = "NEWSERIAL1"
    if outcome == "denied":
        reply["reason"] = "Liquid damage"
    response = await client.post(f"/api/v1/escalations/{escalation['id']}/reply", json=reply)
    assert response.status_code == 200, response.text
    closed = await _escalation(client, "T100")
    assert closed["state"] == "closed"
    assert closed["outcome"] == outcome
    device = await _device(client, "T100")
    if outcome == "replaced":
        assert device["state"] == "replaced"
        new = await _device(client, closed["replacement_asset_tag"])
        assert new["serial_number"] == "NEWSERIAL1"
        assert new["replaces"] == "T100"
        assert new["warranty_end"] == device["warranty_end"]
        history = (await client.get(f"/api/v1/devices/{new['asset_tag']}/history")).json()
        assert any(event["action"] == "escalate" for event in history["items"])
    else:
        assert device["state"] == "in_repair"
        assert closed["resolution"] == (
            "Liquid damage" if outcome == "denied" else "Repaired by the vendor"
        )

    history = (await client.get("/api/v1/devices/T100/history")).json()["items"]
    actions = [event["action"] for event in history]
    assert "escalation_export" in actions
    assert "vendor_acknowledge" in actions
    assert "ship_to_vendor" in actions
    verify = run_cli(db.settings.database_url, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


async def test_uncovered_device_needs_an_override(client: Any, db: Database) -> None:
    await make_world(db)
    await _in_repair(
        client, db, "T200", warranty_start=date(2020, 1, 1), warranty_end=date(2021, 12, 31)
    )
    response = await _escalate(client, "T200")
    assert response.status_code == 422
    assert "override" in response.json()["detail"]
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Escalation)) == 0
    response = await _escalate(client, "T200", warranty_override_reason="Known board recall")
    assert response.status_code == 200, response.text
    escalation = await _escalation(client, "T200")
    assert escalation["covered"] is False
    assert escalation["override_reason"] == "Known board recall"


async def test_extended_coverage_counts_and_a_gap_does_not(client: Any, db: Database) -> None:
    await make_world(db)
    # Base warranty ended long ago; an extension covers today, added with a month count.
    await _in_repair(
        client, db, "T300", warranty_start=date(2019, 1, 1), warranty_end=date(2019, 12, 31)
    )
    start = date.today().replace(day=1)
    response = await client.post(
        "/api/v1/devices/T300/warranty",
        json={"kind": "extended", "start": start.isoformat(), "months": 24, "vendor": "acer"},
    )
    assert response.status_code == 201, response.text
    coverages = response.json()
    assert [coverage["kind"] for coverage in coverages] == ["base", "extended"]
    assert coverages[1]["end"] == coverage_end(start, 24).isoformat()
    device = await _device(client, "T300")
    assert device["warranty_active"] is True
    assert device["warranty_end"] == coverages[1]["end"]
    assert device["warranty_start"] == "2019-01-01"
    assert (await _escalate(client, "T300")).status_code == 200

    bad = await client.post(
        "/api/v1/devices/T300/warranty",
        json={"kind": "extended", "start": "2024-01-01", "months": 12, "end": "2024-12-31"},
    )
    assert bad.status_code == 422
    assert "not both" in bad.json()["detail"]


async def test_vendor_limits_are_named_when_an_escalation_opens(client: Any, db: Database) -> None:
    await make_world(db)
    await create_vendor(db, VendorCreate(code="dell", name="Dell", profile="dell-dispatch"))
    await _in_repair(client, db, "T400")
    too_many = await _escalate(
        client,
        "T400",
        vendor="dell",
        troubleshooting="Swapped the charger",
        parts_requested=["board", "fan", "screen", "keyboard", "battery"],
    )
    assert too_many.status_code == 422
    assert "at most 4 per claim" in too_many.json()["detail"]
    too_long = await _escalate(client, "T400", vendor="dell", troubleshooting="x" * 1001)
    assert too_long.status_code == 422
    assert "at most 1,000" in too_long.json()["detail"]
    missing = await _escalate(client, "T400", vendor="dell")
    assert missing.status_code == 422
    assert "troubleshooting" in missing.json()["detail"]
    assert (await _device(client, "T400"))["state"] == "in_repair"
    fits = await _escalate(
        client,
        "T400",
        vendor="dell",
        troubleshooting="x" * 1000,
        parts_requested=["a", "b", "c", "d"],
    )
    assert fits.status_code == 200, fits.text


async def test_exports_read_back_and_repeat_byte_for_byte(client: Any, db: Database) -> None:
    await make_world(db)
    tags = ["0001234", "T501", "T502"]
    for tag in tags:
        await _in_repair(client, db, tag, serial=f"0{tag}E5")
    await _escalate(client, "0001234", problem='=HYPERLINK("http://example.invalid","x")')
    await _escalate(client, "T501", problem="+screen flickers", troubleshooting="@reset")
    await _escalate(client, "T502", problem="-no sound")
    batch = await _export(client)
    assert batch["row_count"] == 3

    first = {fmt: await _download(client, batch["id"], fmt) for fmt in ("csv", "xlsx", "json")}
    again = {fmt: await _download(client, batch["id"], fmt) for fmt in ("csv", "xlsx", "json")}
    assert first == again

    rows = _csv_rows(first["csv"])
    headers = get_profile("generic").headers
    assert list(rows[0]) == headers
    assert [row["Asset Tag"] for row in rows] == tags
    assert rows[0]["Serial Number"] == "00001234E5"
    assert rows[0]["Problem"].startswith("'=HYPERLINK")
    assert rows[1]["Problem"] == "'+screen flickers"
    assert rows[1]["Troubleshooting"] == "'@reset"
    assert rows[2]["Problem"] == "'-no sound"

    workbook = openpyxl.load_workbook(io.BytesIO(first["xlsx"]))
    sheet = workbook.active
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0] == headers
    assert [list(map(lambda value: value or "", row)) for row in table[1:]] == [
        [row[header] for header in headers] for row in rows
    ]
    tag_cell = sheet.cell(row=2, column=headers.index("Asset Tag") + 1)
    assert tag_cell.data_type == "s"
    assert tag_cell.number_format == "@"
    assert all(
        cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value
    )

    document = json.loads(first["json"])
    assert document["batch"]["checksum"] == batch["checksum"]
    assert document["rows"][0]["Problem"].startswith("=HYPERLINK")  # JSON keeps values as they are
    assert [row["Asset Tag"] for row in document["rows"]] == tags

    # Everything is exported now, so a second batch has nothing to take.
    response = await client.post("/api/v1/vendors/acer/batches")
    assert response.status_code == 409
    assert "no escalations waiting" in response.json()["detail"]


async def test_reply_file_bad_row_changes_nothing(client: Any, db: Database) -> None:
    await make_world(db)
    for tag in ["T601", "T602"]:
        await _in_repair(client, db, tag)
        await _escalate(client, tag)
    batch = await _export(client)
    rows = _csv_rows(await _download(client, batch["id"], "csv"))
    rows[0]["RMA Number"] = "RMA-1"
    rows[1]["Outcome"] = "denied"  # a denial without a reason is refused
    before = await _count_events(db)
    response = await client.post(
        "/api/v1/vendors/acer/replies",
        content=_reply_csv(rows),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 422
    report = response.json()
    assert report["applied"] is False
    assert report["rows"][0]["error"] is None
    assert "needs a Reason" in report["rows"][1]["error"]
    assert await _count_events(db) == before
    assert (await _escalation(client, "T601"))["rma_number"] is None

    rows[1]["Reason"] = "Accidental damage"
    response = await client.post(
        "/api/v1/vendors/acer/replies",
        content=_reply_csv(rows),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert (await _escalation(client, "T601"))["state"] == "acknowledged"
    assert (await _escalation(client, "T602"))["outcome"] == "denied"
    # Sending the same file again changes nothing and is not an error.
    response = await client.post(
        "/api/v1/vendors/acer/replies",
        content=_reply_csv(rows),
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert all(row["actions"] == [] for row in response.json()["rows"])


async def _count_events(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(DeviceEvent)) or 0)


async def test_vendor_sees_only_own_escalations(client: Any, db: Database) -> None:
    # The client signs in as an admin; each request below names its own user instead.
    await make_world(db)
    await create_vendor(db, VendorCreate(code="dell", name="Dell"))
    await _in_repair(client, db, "T701")
    await _escalate(client, "T701")
    batch = await _export(client)
    acer = {"Authorization": f"Bearer {await token_for(db, 'acer-rma', 'vendor', vendor='acer')}"}
    dell = {"Authorization": f"Bearer {await token_for(db, 'dell-rma', 'vendor', vendor='dell')}"}
    site = {"Authorization": f"Bearer {await token_for(db, 'ps15', 'site', sites=['02M019'])}"}

    own = await client.get("/api/v1/escalations", headers=acer)
    assert [item["asset_tag"] for item in own.json()["items"]] == ["T701"]
    other = await client.get("/api/v1/escalations", headers=dell)
    assert other.json()["items"] == []
    escalation_id = own.json()["items"][0]["id"]
    assert (
        await client.get(f"/api/v1/escalations/{escalation_id}", headers=dell)
    ).status_code == 404
    download = f"/api/v1/batches/{batch['id']}/download"
    assert (await client.get(download, headers=dell)).status_code == 404
    assert (await client.get(download, headers=acer)).status_code == 200
    assert (await client.post("/api/v1/vendors/acer/batches", headers=dell)).status_code == 404
    reply = await client.post(
        f"/api/v1/escalations/{escalation_id}/reply", json={"rma_number": "X1"}, headers=dell
    )
    assert reply.status_code == 404
    upload = await client.post(
        "/api/v1/vendors/dell/replies",
        content=f"Escalation ID,RMA Number\n{escalation_id},X1\n".encode(),
        headers={**dell, "Content-Type": "text/csv"},
    )
    assert upload.status_code == 422
    assert "not found" in upload.json()["rows"][0]["error"]
    assert (await client.get("/api/v1/escalations", headers=site)).json()["items"] == []
    site_upload = await client.post(
        "/api/v1/vendors/acer/replies",
        content=f"Escalation ID,RMA Number\n{escalation_id},X2\n".encode(),
        headers={**site, "Content-Type": "text/csv"},
    )
    assert site_upload.status_code == 422
    assert "not found" in site_upload.json()["rows"][0]["error"]
    ok = await client.post(
        f"/api/v1/escalations/{escalation_id}/reply", json={"rma_number": "RMA-9"}, headers=acer
    )
    assert ok.status_code == 200, ok.text


async def test_export_requests_cannot_be_forged_as_actions(client: Any, db: Database) -> None:
    await make_world(db)
    await _in_repair(client, db, "T801")
    await _escalate(client, "T801")
    response = await client.post(
        "/api/v1/devices/T801/actions",
        json={"action": "escalation_export", "data": {"batch": "1"}},
    )
    assert response.status_code == 422
    assert "recorded by the service itself" in response.json()["detail"]


async def test_command_line_export_and_list(db: Database, client: Any, tmp_path: Path) -> None:
    await make_world(db)
    await _in_repair(client, db, "T901")
    await _escalate(client, "T901")
    out = tmp_path / "acer.xlsx"
    result = run_cli(
        db.settings.database_url, "export", "vendor", "acer", "--format", "xlsx", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "1 escalation" in result.stdout
    sheet = openpyxl.load_workbook(out).active
    assert sheet.cell(row=2, column=2).value == "T901"
    listed = run_cli(
        db.settings.database_url, "escalations", "list", "--vendor", "acer", "--state", "exported"
    )
    assert listed.returncode == 0, listed.stderr
    assert "T901" in listed.stdout
    again = run_cli(db.settings.database_url, "export", "vendor", "acer")
    assert again.returncode == 1
    assert "no escalations waiting" in again.stderr
    bad = run_cli(db.settings.database_url, "escalations", "list", "--state", "lost")
    assert bad.returncode != 0
    assert "Unknown escalation state" in bad.stderr


async def test_vendor_page_lists_claims_and_batches(page_client: Any, db: Database) -> None:
    await make_world(db)
    await receive(db, "T950")
    steps = [
        (
            "enroll",
            {
                "operating_system": "ChromeOS",
                "management_profile": "s",
                "user_profile_kind": "student",
            },
        ),
        ("open_repair", {"problem": "no power"}),
        (
            "escalate",
            {
                "vendor": "acer",
                "problem": "no power",
                "troubleshooting": "Tried a known good charger",
            },
        ),
    ]
    for action, data in steps:
        await apply_action(db, "T950", ActionRequest(action=action, technician="000123", data=data))
    batch = await create_batch(db, "acer", None)
    page = await page_client.get("/vendors/acer")
    assert page.status_code == 200, page.text
    assert "T950" in page.text
    assert f"/vendors/acer/batches/{batch.id}/download?format=xlsx" in page.text
    assert "Tried a known good charger" in page.text
    assert (await page_client.get("/vendors/nobody")).status_code == 404


async def _escalated_by_service(db: Database, tag: str) -> None:
    await receive(db, tag)
    for action, data in [
        (
            "enroll",
            {
                "operating_system": "ChromeOS",
                "management_profile": "s",
                "user_profile_kind": "student",
            },
        ),
        ("open_repair", {"problem": "no power"}),
        ("escalate", {"vendor": "acer", "problem": "no power"}),
    ]:
        await apply_action(db, tag, ActionRequest(action=action, technician="000123", data=data))


async def test_vendor_user_works_through_the_page_forms(app: Any, db: Database) -> None:
    """A vendor user exports, downloads, checks and sends replies with the page's forms."""
    await make_world(db)
    await create_vendor(db, VendorCreate(code="dell", name="Dell"))
    await create_user(db, "acer-claims", "vendor", PASSWORD, vendor="acer")
    for tag in ("T960", "T961", "T962"):
        await _escalated_by_service(db, tag)

    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        assert (await sign_in(browser, "acer-claims")).status_code == 303
        page = await browser.get("/vendors/acer")
        assert "Export the 3 escalations not yet exported" in page.text
        token = {"_csrf_token": browser.cookies.get("inventory_csrf", "")}

        made = await browser.post("/vendors/acer/batches", data=token, follow_redirects=False)
        assert made.status_code == 303
        page = await browser.get(made.headers["location"])
        assert "made with 3 escalations" in page.text
        async with db.read() as session:
            batch_id = await session.scalar(select(func.max(ExportBatch.id)))
        link = f"/vendors/acer/batches/{batch_id}/download?format=csv"
        assert link in page.text
        download = await browser.get(link)
        assert download.status_code == 200, download.text
        rows = _csv_rows(download.content)
        assert [row["Asset Tag"] for row in rows] == ["T960", "T961", "T962"]
        # Another vendor's page and a batch under another vendor's name are not there.
        assert (await browser.get("/vendors/dell")).status_code == 404
        assert (await browser.get(f"/vendors/dell/batches/{batch_id}/download")).status_code == 404

        # A reply file with one bad row: checked whole, nothing applied, the row named.
        rows[0]["RMA Number"] = "RMA-1"
        rows[1]["Outcome"] = "fixed"
        bad = await browser.post(
            "/vendors/acer/replies",
            data=token,
            files={"file": ("replies.csv", _reply_csv(rows), "text/csv")},
        )
        assert bad.status_code == 422
        assert "Nothing was applied" in bad.text
        assert "fixed" in bad.text
        assert (await _states(db)) == {"T960": "exported", "T961": "exported", "T962": "exported"}

        rows[1]["Outcome"] = ""
        rows[1]["RMA Number"] = "RMA-2"
        checked = await browser.post(
            "/vendors/acer/replies",
            data={**token, "check_only": "1"},
            files={"file": ("replies.csv", _reply_csv(rows), "text/csv")},
        )
        assert checked.status_code == 200
        assert "nothing was changed yet" in checked.text
        assert (await _states(db))["T960"] == "exported"
        applied = await browser.post(
            "/vendors/acer/replies",
            data=token,
            files={"file": ("replies.csv", _reply_csv(rows), "text/csv")},
        )
        assert applied.status_code == 200
        assert "Replies applied" in applied.text
        assert (await _states(db)) == {
            "T960": "acknowledged",
            "T961": "acknowledged",
            "T962": "exported",
        }

        # One claim at a time: deny the third with a reason.
        async with db.read() as session:
            third = await session.scalar(
                select(Escalation.id)
                .join(Device, Device.id == Escalation.device_id)
                .where(Device.asset_tag == "T962")
            )
        reply = await browser.post(
            f"/vendors/acer/escalations/{third}/reply",
            data={**token, "outcome": "denied", "reason": "Liquid damage"},
            follow_redirects=False,
        )
        assert reply.status_code == 303
        assert (await _states(db))["T962"] == "closed"
        refused = await browser.post(
            f"/vendors/acer/escalations/{third}/reply",
            data={**token, "outcome": "repaired"},
        )
        assert refused.status_code == 422
        # The form without its CSRF token is refused.
        forged = await browser.post("/vendors/acer/batches", data={})
        assert forged.status_code == 403


async def _states(db: Database) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(
            select(Device.asset_tag, Escalation.state).join(
                Device, Device.id == Escalation.device_id
            )
        )
        return dict(rows.all())


async def test_device_page_lists_and_adds_coverages(page_client: Any, db: Database) -> None:
    await make_world(db)
    await receive(db, "T970", warranty_start=date(2024, 1, 31), warranty_end=date(2027, 1, 30))
    page = await page_client.get("/a/T970")
    assert "Add a coverage" in page.text
    assert "2027-01-30" in page.text
    token = page_client.cookies.get("inventory_csrf", "")

    added = await page_client.post(
        "/a/T970/warranty",
        data={
            "_csrf_token": token,
            "kind": "accidental_damage",
            "start": "2024-01-31",
            "months": "1",
            "reference": "ADP-77",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    page = await page_client.get(added.headers["location"])
    assert "Warranty coverage added." in page.text
    assert "2024-02-29" in page.text
    assert "ADP-77" in page.text

    # Both an end and a length: refused with the reason, the form kept, nothing stored.
    refused = await page_client.post(
        "/a/T970/warranty",
        data={
            "_csrf_token": token,
            "kind": "extended",
            "start": "2027-01-31",
            "months": "12",
            "end": "2028-01-30",
            "reference": "EXT-1",
        },
    )
    assert refused.status_code == 422
    assert "months" in refused.text
    assert 'value="EXT-1"' in refused.text
    async with db.read() as session:
        kinds = sorted(
            (
                await session.scalars(
                    select(WarrantyCoverage.kind)
                    .join(Device, Device.id == WarrantyCoverage.device_id)
                    .where(Device.asset_tag == "T970")
                )
            ).all()
        )
    assert kinds == ["accidental_damage", "base"]
    bad_date = await page_client.post(
        "/a/T970/warranty", data={"_csrf_token": token, "start": "31/01/2024", "months": "3"}
    )
    assert bad_date.status_code == 422
    assert "start" in bad_date.text


async def test_site_user_sees_coverages_but_cannot_add(app: Any, db: Database) -> None:
    await make_world(db)
    await receive(db, "T971")
    await create_user(db, "school-office", "site", PASSWORD, sites=["01M015"])
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        assert (await sign_in(browser, "school-office")).status_code == 303
        page = await browser.get("/a/T971")
        assert page.status_code == 200
        assert "Warranty coverages" in page.text
        assert "Add a coverage" not in page.text
        token = browser.cookies.get("inventory_csrf", "")
        refused = await browser.post(
            "/a/T971/warranty", data={"_csrf_token": token, "start": "2025-01-01", "months": "12"}
        )
        assert refused.status_code == 403


async def test_xlsx_export_repeats_across_seconds() -> None:
    # openpyxl stamps each save with the time of saving. The export replaces it with the
    # batch's time, so a download a second later has the same bytes.
    created = datetime(2026, 12, 5, 9, 30, 15, tzinfo=UTC)

    async def pages():
        yield [{"escalation_id": "1", "asset_tag": "0001234", "problem": "=SUM(A1)"}]

    first = await xlsx_file(get_profile(None), "Acer", created, pages())
    await asyncio.sleep(1.1)
    second = await xlsx_file(get_profile(None), "Acer", created, pages())
    with first, second:
        first_bytes = first.read()
        assert first_bytes == second.read()
    with zipfile.ZipFile(io.BytesIO(first_bytes)) as archive:
        core = archive.read("docProps/core.xml")
    assert b"2026-12-05T09:30:15Z</dcterms:modified>" in core
