"""Recycling batches: gathering devices, the certificate, the manifest, and closing."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from inventory.audit import event_hash
from inventory.db import Database
from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action, device_history, get_device
from inventory.salvage import service
from inventory.salvage.schemas import AssessmentCreate, DecisionCreate, SanitizationCreate
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from tests.factories import make_world, receive, run_cli


async def make_pending(db: Database, tag: str, site: str = "01M015", method: str = "purge") -> None:
    """Receive a device and take it through assessment and sanitization to recycle_pending."""
    await receive(db, tag, site=site)
    await apply_action(
        db,
        tag,
        ActionRequest(action="request_salvage", technician="000123", data={"reason": "broken"}),
    )
    await service.create_assessment(
        db,
        tag,
        AssessmentCreate(
            technician="000123",
            condition_grade="D",
            repair_cost=Decimal("200"),
            replacement_cost=Decimal("300"),
        ),
        None,
    )
    await service.record_sanitization(
        db,
        tag,
        SanitizationCreate(
            method=method, tool="wipe 2.1", technician="000123", verified_by="000456"
        ),
        None,
    )
    await service.decide(db, tag, DecisionCreate(decision="recycle", technician="000123"), None)


BATCH = {"site": "01M015", "recycler": "Green Circuit Recycling", "pickup_date": "2026-12-10"}


async def test_batch_gathers_site_devices(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await make_pending(db, "0042")
    await make_pending(db, "0043")
    await make_pending(db, "0099", site="02M019")
    await receive(db, "0100")

    response = await client.post("/api/v1/recycling/batches", json=BATCH)

    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["device_count"] == 2
    assert batch["status"] == "open"
    assert batch["site"] == "01M015"
    again = await client.post("/api/v1/recycling/batches", json=BATCH)
    assert again.status_code == 409
    assert "No devices in recycle_pending" in again.json()["detail"]


async def test_batch_by_region(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await make_pending(db, "0042")
    await make_pending(db, "0099", site="02M019")
    response = await client.post(
        "/api/v1/recycling/batches",
        json={"region": "manhattan", "recycler": "Green Circuit", "pickup_date": "2026-12-10"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["device_count"] == 2
    assert response.json()["region"] == "manhattan"
    both = await client.post("/api/v1/recycling/batches", json={**BATCH, "region": "Manhattan"})
    assert both.status_code == 422
    nowhere = await client.post(
        "/api/v1/recycling/batches",
        json={"region": "Atlantis", "recycler": "x", "pickup_date": "2026-12-10"},
    )
    assert nowhere.status_code == 422


async def test_closing_recycles_every_device(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    tags = ["0042", "0043", "0044"]
    for tag in tags:
        await make_pending(db, tag)
    batch = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()

    no_certificate = await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close", json={"technician": "000456"}
    )
    assert no_certificate.status_code == 409
    assert "certificate number" in no_certificate.json()["detail"]
    for tag in tags:
        assert (await get_device(db, tag)).state == "recycle_pending"

    certificate = await client.put(
        f"/api/v1/recycling/batches/{batch['id']}/certificate",
        json={"certificate_number": "GCR-2026-0042"},
    )
    assert certificate.status_code == 200
    closed = await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close", json={"technician": "000456"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_by"] == "000456"

    for tag in tags:
        assert (await get_device(db, tag)).state == "recycled"
        history = await device_history(db, tag)
        last = history.items[-1]
        assert last.action == "recycle"
        assert last.from_state == "recycle_pending"
        assert last.to_state == "recycled"
        assert last.technician is not None
        assert last.technician.employee_number == "000456"
        assert last.data == {"recycling_batch": str(batch["id"])}

    twice = await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close", json={"technician": "000456"}
    )
    assert twice.status_code == 409
    locked = await client.put(
        f"/api/v1/recycling/batches/{batch['id']}/certificate",
        json={"certificate_number": "OTHER"},
    )
    assert locked.status_code == 409


async def test_closing_keeps_hash_chain(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await make_pending(db, "0042")
    batch = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()
    await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close",
        json={"technician": "000123", "certificate_number": "C-1"},
    )
    async with db.read() as session:
        events = list(await session.scalars(select(DeviceEvent).order_by(DeviceEvent.sequence)))
    previous = None
    for event in events:
        columns = {name: getattr(event, name) for name in DeviceEvent.model_fields}
        assert event.prev_hash == previous
        assert event.hash == event_hash(previous, columns)
        previous = event.hash
    assert events[-1].action == "recycle"
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))


async def test_close_refused_when_device_moved(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await make_pending(db, "0042")
    await make_pending(db, "0043")
    batch = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()
    await apply_action(db, "0043", ActionRequest(action="report_lost", technician="000123"))
    response = await client.post(
        f"/api/v1/recycling/batches/{batch['id']}/close",
        json={"technician": "000123", "certificate_number": "C-1"},
    )
    assert response.status_code == 409
    assert "0043 (lost)" in response.json()["detail"]
    assert (await get_device(db, "0042")).state == "recycle_pending"
    status = (await client.get(f"/api/v1/recycling/batches/{batch['id']}")).json()["status"]
    assert status == "open"


async def test_manifest_lists_sanitization(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await make_pending(db, "0043", method="destroy")
    await make_pending(db, "0042", method="clear")
    batch = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()

    response = await client.get(f"/api/v1/recycling/batches/{batch['id']}/manifest")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["asset_tag"] for row in rows] == ["0042", "0043"]
    assert [row["sanitization_method"] for row in rows] == ["clear", "destroy"]
    assert rows[0]["serial_number"] == "SN-0042"
    assert rows[0]["verified_by"] == "000456"
    assert rows[0]["sanitized_by"] == "000123"
    assert rows[0]["sanitization_tool"] == "wipe 2.1"
    assert rows[0]["sanitized_on"]

    pdf = await client.get(
        f"/api/v1/recycling/batches/{batch['id']}/manifest", params={"format": "pdf"}
    )
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    bad = await client.get(
        f"/api/v1/recycling/batches/{batch['id']}/manifest", params={"format": "xml"}
    )
    assert bad.status_code == 422


async def test_batches_listed_newest_first(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await create_site(db, SiteCreate(code="03M020", name="P.S. 020", region="Bronx"))
    await make_pending(db, "0042")
    await make_pending(db, "0099", site="02M019")
    first = (await client.post("/api/v1/recycling/batches", json=BATCH)).json()
    second = (
        await client.post("/api/v1/recycling/batches", json={**BATCH, "site": "02M019"})
    ).json()
    listed = (await client.get("/api/v1/recycling/batches")).json()
    assert [batch["id"] for batch in listed] == [second["id"], first["id"]]
    closed = (await client.get("/api/v1/recycling/batches", params={"status": "closed"})).json()
    assert closed == []
    missing = await client.get("/api/v1/recycling/batches/999")
    assert missing.status_code == 404


async def test_cli_creates_and_closes_batch(database_url: str, db: Database, tmp_path) -> None:
    await make_world(db)
    await make_pending(db, "0042")
    created = run_cli(
        database_url,
        "recycling",
        "batch",
        "create",
        "--site",
        "01M015",
        "--recycler",
        "Green Circuit",
        "--pickup-date",
        "2026-12-10",
    )
    assert created.returncode == 0, created.stderr
    assert "Recycling batch 1: 1 device for" in created.stdout
    manifest = run_cli(database_url, "recycling", "batch", "manifest", "1")
    assert manifest.returncode == 0, manifest.stderr
    assert "0042" in manifest.stdout
    assert "purge" in manifest.stdout
    pdf_path = tmp_path / "manifest.pdf"
    pdf = run_cli(
        database_url,
        "recycling",
        "batch",
        "manifest",
        "1",
        "--format",
        "pdf",
        "--out",
        str(pdf_path),
    )
    assert pdf.returncode == 0, pdf.stderr
    assert pdf_path.read_bytes().startswith(b"%PDF")
    refused = run_cli(database_url, "recycling", "batch", "close", "1", "--technician", "000123")
    assert refused.returncode != 0
    assert "certificate number" in refused.stderr
    closed = run_cli(
        database_url,
        "recycling",
        "batch",
        "close",
        "1",
        "--technician",
        "000123",
        "--certificate",
        "GCR-77",
    )
    assert closed.returncode == 0, closed.stderr
    assert "1 device recycled (certificate GCR-77)" in closed.stdout
    assert (await get_device(db, "0042")).state == "recycled"
    listed = run_cli(database_url, "recycling", "batch", "list")
    assert "closed" in listed.stdout
