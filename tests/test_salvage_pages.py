"""The salvage and recycling pages and their forms."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from inventory.db import Database
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action, get_device
from tests.factories import make_world, receive


async def _post(client: AsyncTestClient, path: str, data: dict[str, str]):
    form = {**data, "_csrf_token": client.cookies.get("inventory_csrf", "")}
    return await client.post(path, data=form, follow_redirects=False)


async def _awaiting(db: Database, tag: str) -> None:
    await receive(db, tag)
    await apply_action(
        db,
        tag,
        ActionRequest(action="request_salvage", technician="000123", data={"reason": "broken"}),
    )


async def test_device_page_links_salvage_record(page_client: AsyncTestClient, db) -> None:
    await make_world(db)
    await _awaiting(db, "0042")
    device_page = await page_client.get("/a/0042")
    assert 'href="/a/0042/salvage"' in device_page.text
    record = await page_client.get("/a/0042/salvage")
    assert record.status_code == 200
    assert "No assessments recorded." in record.text
    assert 'action="/a/0042/salvage/assessments"' in record.text


async def test_forms_take_device_to_recycling(page_client: AsyncTestClient, db) -> None:
    await make_world(db)
    await _awaiting(db, "0042")
    assessed = await _post(
        page_client,
        "/a/0042/salvage/assessments",
        {
            "technician": "000123",
            "condition_grade": "D",
            "repair_cost": "250",
            "replacement_cost": "300",
            "battery_health": "30",
            "missing_parts": "keyboard, screen",
        },
    )
    assert assessed.status_code == 303, assessed.text
    page = await page_client.get(assessed.headers["location"])
    assert "Assessment recorded: recommended recycle." in page.text
    assert "missing parts: keyboard, screen" in page.text

    refused = await _post(
        page_client, "/a/0042/salvage/decision", {"decision": "recycle", "technician": "000123"}
    )
    assert refused.status_code == 422
    assert "no data sanitization record" in refused.text
    assert (await get_device(db, "0042")).state == "awaiting_salvage"

    sanitized = await _post(
        page_client,
        "/a/0042/salvage/sanitizations",
        {"method": "destroy", "tool": "Shredder", "technician": "000123", "verified_by": "000456"},
    )
    assert sanitized.status_code == 303, sanitized.text
    decided = await _post(
        page_client, "/a/0042/salvage/decision", {"decision": "recycle", "technician": "000123"}
    )
    assert decided.status_code == 303, decided.text
    assert (await get_device(db, "0042")).state == "recycle_pending"

    created = await _post(
        page_client,
        "/recycling",
        {"site": "01M015", "recycler": "Green Circuit", "pickup_date": "2026-12-10"},
    )
    assert created.status_code == 303, created.text
    batch_page = await page_client.get(created.headers["location"])
    assert "Batch 1 made with 1 device." in batch_page.text
    assert "destroy" in batch_page.text
    manifest = await page_client.get("/recycling/1/manifest", params={"format": "csv"})
    assert manifest.status_code == 200
    assert "0042" in manifest.text

    closed = await _post(
        page_client, "/recycling/1/close", {"technician": "000456", "certificate_number": "C-9"}
    )
    assert closed.status_code == 303, closed.text
    assert (await get_device(db, "0042")).state == "recycled"
    listing = await page_client.get("/recycling")
    assert "C-9" in listing.text


async def test_form_errors_keep_values(page_client: AsyncTestClient, db) -> None:
    await make_world(db)
    await _awaiting(db, "0042")
    response = await _post(
        page_client,
        "/a/0042/salvage/assessments",
        {"technician": "000123", "condition_grade": "B", "repair_cost": "cheap"},
    )
    assert response.status_code == 422
    assert "Check the form" in response.text
    assert "repair_cost" in response.text
    assert 'value="cheap"' in response.text


async def test_queue_and_site_pages(page_client: AsyncTestClient, db) -> None:
    await make_world(db)
    await _awaiting(db, "0042")
    queue = await page_client.get("/salvage")
    assert queue.status_code == 200
    assert 'href="/a/0042/salvage"' in queue.text
    site = await page_client.get("/sites/01M015/salvage")
    assert site.status_code == 200
    assert "2028-29" in site.text
    site_page = await page_client.get("/sites/01M015")
    assert 'href="/sites/01M015/salvage"' in site_page.text
    missing = await page_client.get("/recycling/99")
    assert missing.status_code == 404
