"""Salvage assessments, data sanitization, decisions and harvested parts, through the API,
the services and the command line."""

from __future__ import annotations

from datetime import date, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from inventory.db import Database
from inventory.devices import catalog
from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest, DeviceModelCreate, DeviceReceive
from inventory.devices.service import apply_action, get_device, receive_device
from inventory.salvage.models import HarvestedPart, SalvageAssessment
from tests.conftest import token_for
from tests.factories import make_world, receive, run_cli

ASSESSMENT = {
    "technician": "000123",
    "condition_grade": "C",
    "repair_cost": "180.00",
    "replacement_cost": "300.00",
    "battery_health": 55,
    "missing_parts": ["keyboard"],
    "notes": "Cracked hinge",
}
SANITIZATION = {
    "method": "purge",
    "tool": "Powerwash and firmware reset, ChromeOS 128",
    "technician": "000123",
    "verified_by": "000456",
}


async def _awaiting_salvage(db: Database, tag: str, site: str = "01M015") -> None:
    await receive(db, tag, site=site)
    await apply_action(
        db,
        tag,
        ActionRequest(action="request_salvage", technician="000123", data={"reason": "broken"}),
    )


async def _event_count(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(DeviceEvent)) or 0


async def test_assessment_recommends_with_reasons(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    response = await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recommendation"] == "harvest"
    assert body["warranty_active"] is True
    assert body["end_of_support"] == "2029-06-01"
    assert body["technician"] == "000123"
    assert body["condition_grade"] == "C"
    assert "battery health 55% is below the minimum of 60%" in body["reasons"]
    assert "missing parts: keyboard" in body["reasons"]
    assert body["thresholds"]["battery_health_min"] == 60
    assert body["decision"] is None


async def test_assessment_needs_awaiting_salvage(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    assert response.status_code == 409
    assert "awaiting_salvage" in response.json()["detail"]


async def test_assessment_needs_technician(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    body = {key: value for key, value in ASSESSMENT.items() if key != "technician"}
    response = await client.post("/api/v1/devices/0042/salvage/assessments", json=body)
    assert response.status_code == 422
    assert "technician is required" in response.json()["detail"]


async def test_harvest_without_sanitization_changes_nothing(
    client: AsyncTestClient, db: Database
) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    events_before = await _event_count(db)

    response = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={"decision": "harvest", "technician": "000123", "parts": ["battery"]},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "no data sanitization record" in detail
    assert "Record the sanitization" in detail
    assert (await get_device(db, "0042")).state == "awaiting_salvage"
    assert await _event_count(db) == events_before
    async with db.read() as session:
        assessment = await session.scalar(select(SalvageAssessment))
        parts = await session.scalar(select(func.count()).select_from(HarvestedPart))
    assert assessment is not None
    assert assessment.decision is None
    assert parts == 0


async def test_recycle_without_sanitization_refused(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await client.post(
        "/api/v1/devices/0042/salvage/assessments", json={**ASSESSMENT, "condition_grade": "D"}
    )
    response = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={"decision": "recycle", "technician": "000123"},
    )
    assert response.status_code == 422
    assert (await get_device(db, "0042")).state == "awaiting_salvage"


async def test_decision_against_recommendation_needs_reason(
    client: AsyncTestClient, db: Database
) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    refused = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={"decision": "reuse", "technician": "000123"},
    )
    assert refused.status_code == 422
    assert "differs from the recommendation 'harvest'" in refused.json()["detail"]

    accepted = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={"decision": "reuse", "technician": "000123", "reason": "Spare keyboard on hand"},
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["device"]["state"] == "enrolled"
    assert body["assessment"]["decision"] == "reuse"
    assert body["assessment"]["decision_reason"] == "Spare keyboard on hand"
    assert body["event"]["action"] == "assess_salvage"
    assert body["event"]["technician"]["employee_number"] == "000123"
    assert body["event"]["data"]["decision"] == "reuse"


async def test_harvest_stocks_parts_and_tracks_use(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    sanitized = await client.post("/api/v1/devices/0042/salvage/sanitizations", json=SANITIZATION)
    assert sanitized.status_code == 201, sanitized.text
    assert sanitized.json()["verified_by"] == "000456"

    decided = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={
            "decision": "harvest",
            "technician": "000456",
            "parts": ["battery", "screen"],
            "spare_site": "02M019",
        },
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["device"]["state"] == "harvested"
    assert body["event"]["data"]["sanitization_method"] == "purge"
    assert body["assessment"]["decided_by"] == "000456"

    stock = (await client.get("/api/v1/sites/02M019/spare-parts")).json()
    assert sorted(part["part"] for part in stock) == ["battery", "screen"]
    assert {part["source_asset_tag"] for part in stock} == {"0042"}
    battery = next(part for part in stock if part["part"] == "battery")

    await receive(db, "0043", site="02M019")
    await apply_action(
        db,
        "0043",
        ActionRequest(
            action="enroll",
            technician="000123",
            data={
                "operating_system": "ChromeOS",
                "management_profile": "Students",
                "user_profile_kind": "student",
            },
        ),
    )
    not_in_repair = await client.post(
        f"/api/v1/spare-parts/{battery['id']}/use",
        json={"asset_tag": "0043", "technician": "000123"},
    )
    assert not_in_repair.status_code == 409
    await apply_action(
        db,
        "0043",
        ActionRequest(action="open_repair", technician="000123", data={"problem": "battery"}),
    )
    used = await client.post(
        f"/api/v1/spare-parts/{battery['id']}/use",
        json={"asset_tag": "0043", "technician": "000123"},
    )
    assert used.status_code == 200, used.text
    assert used.json()["used_in_asset_tag"] == "0043"
    assert used.json()["source_asset_tag"] == "0042"
    again = await client.post(
        f"/api/v1/spare-parts/{battery['id']}/use",
        json={"asset_tag": "0043", "technician": "000123"},
    )
    assert again.status_code == 409

    record = (await client.get("/api/v1/devices/0043/salvage")).json()
    assert [part["source_asset_tag"] for part in record["parts"]] == ["0042"]
    remaining = (await client.get("/api/v1/sites/02M019/spare-parts")).json()
    assert [part["part"] for part in remaining] == ["screen"]


async def test_parts_only_with_harvest(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    response = await client.post(
        "/api/v1/devices/0042/salvage/decision",
        json={"decision": "reuse", "technician": "000123", "reason": "x", "parts": ["battery"]},
    )
    assert response.status_code == 422


async def test_device_without_storage_needs_no_sanitization(
    client: AsyncTestClient, db: Database
) -> None:
    await make_world(db)
    await catalog.create_device_model(
        db, DeviceModelCreate(manufacturer="Dell", model="P2422H", device_type="monitor")
    )
    await receive_device(
        db,
        DeviceReceive(
            asset_tag="M-1",
            serial_number="CN0123",
            manufacturer="Dell",
            model="P2422H",
            site="01M015",
            technician="000123",
        ),
    )
    await apply_action(
        db,
        "M-1",
        ActionRequest(action="request_salvage", technician="000123", data={"reason": "dead"}),
    )
    await client.post(
        "/api/v1/devices/M-1/salvage/assessments", json={**ASSESSMENT, "condition_grade": "D"}
    )
    response = await client.post(
        "/api/v1/devices/M-1/salvage/decision", json={"decision": "recycle", "technician": "000123"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["event"]["data"]["sanitization_method"] == "not_needed"
    record = (await client.get("/api/v1/devices/M-1/salvage")).json()
    assert record["has_storage"] is False


async def test_sanitization_input_is_checked(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    unknown = await client.post(
        "/api/v1/devices/0042/salvage/sanitizations", json={**SANITIZATION, "method": "wipe"}
    )
    assert unknown.status_code == 422
    assert "'wipe' is not one of clear, purge, destroy" in unknown.json()["detail"]
    future = (date.today() + timedelta(days=3)).isoformat()
    later = await client.post(
        "/api/v1/devices/0042/salvage/sanitizations",
        json={**SANITIZATION, "performed_on": future},
    )
    assert later.status_code == 422
    no_verifier = await client.post(
        "/api/v1/devices/0042/salvage/sanitizations", json={**SANITIZATION, "verified_by": "999"}
    )
    assert no_verifier.status_code == 422
    record = (await client.get("/api/v1/devices/0042/salvage")).json()
    assert record["sanitizations"] == []


async def test_salvage_record_hidden_from_other_sites(
    app, db: Database, anonymous_client: AsyncTestClient
) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0099", site="02M019")
    token = await token_for(db, "ps15", "site", sites=["01M015"])
    response = await anonymous_client.get(
        "/api/v1/devices/0099/salvage", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404


async def test_queue_lists_devices_awaiting_salvage(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    await _awaiting_salvage(db, "0099", site="02M019")
    await receive(db, "0100")
    await client.post("/api/v1/devices/0042/salvage/assessments", json=ASSESSMENT)
    everything = (await client.get("/api/v1/salvage/queue")).json()
    assert [item["asset_tag"] for item in everything["items"]] == ["0042", "0099"]
    assert everything["items"][0]["recommendation"] == "harvest"
    assert everything["items"][1]["recommendation"] is None
    one_site = (await client.get("/api/v1/salvage/queue", params={"site": "02M019"})).json()
    assert [item["asset_tag"] for item in one_site["items"]] == ["0099"]
    first = (await client.get("/api/v1/salvage/queue", params={"limit": 1})).json()
    second = (
        await client.get(
            "/api/v1/salvage/queue", params={"limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [item["asset_tag"] for item in second["items"]] == ["0099"]
    assert second["next_cursor"] is None


async def test_cli_takes_device_through_salvage(database_url: str, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042")
    steps = [
        ("salvage", "request", "0042", "--technician", "000123", "--reason", "cracked screen"),
        (
            "salvage",
            "assess",
            "0042",
            "--technician",
            "000123",
            "--grade",
            "d",
            "--repair-cost",
            "250",
            "--replacement-cost",
            "300",
            "--battery-health",
            "40",
        ),
        (
            "salvage",
            "sanitize",
            "0042",
            "--method",
            "destroy",
            "--tool",
            "shredder",
            "--technician",
            "000123",
            "--verified-by",
            "000456",
        ),
        ("salvage", "decide", "0042", "recycle", "--technician", "000123"),
    ]
    outputs = []
    for step in steps:
        result = run_cli(database_url, *step)
        assert result.returncode == 0, (step, result.stderr)
        outputs.append(result.stdout)
    assert "recommended recycle" in outputs[1]
    assert "battery health 40% is below the minimum of 60%" in outputs[1]
    assert "destroy with shredder" in outputs[2]
    assert "now recycle_pending" in outputs[3]
    assert (await get_device(db, "0042")).state == "recycle_pending"


async def test_cli_reports_bad_input(database_url: str, db: Database) -> None:
    await make_world(db)
    await _awaiting_salvage(db, "0042")
    result = run_cli(database_url, "salvage", "queue")
    assert result.returncode == 0, result.stderr
    assert "0042" in result.stdout
    decided = run_cli(database_url, "salvage", "decide", "0042", "reuse", "--technician", "000123")
    assert decided.returncode != 0
    assert "no open salvage assessment" in decided.stderr
    costly = run_cli(
        database_url,
        "salvage",
        "assess",
        "0042",
        "--technician",
        "000123",
        "--grade",
        "A",
        "--repair-cost",
        "-5",
        "--replacement-cost",
        "300",
    )
    assert costly.returncode != 0
    assert "repair_cost" in costly.stderr
