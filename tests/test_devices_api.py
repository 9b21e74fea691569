"""The JSON API for devices: receive, actions, errors, lists and history, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from inventory.devices.models import Device, DeviceEvent
from tests.factories import make_world, receive

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


async def _count(db, model) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def _act(client, tag: str, action: str, data: dict | None = None, **extra):
    body = {"action": action, "technician": "000123", "data": data or {}, **extra}
    return await client.post(f"/api/v1/devices/{tag}/actions", json=body)


def _receive_body(**overrides) -> dict:
    body = {
        "asset_tag": "0042",
        "serial_number": "NXABC001",
        "manufacturer": "Acer",
        "model": "Chromebook 311 (C722)",
        "site": "01M015",
        "technician": "000123",
        "warranty_start": "2025-08-25",
        "warranty_end": "2028-08-24",
    }
    body.update(overrides)
    return body


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"status_code", "detail", "extra"}
    assert body["status_code"] == status
    assert isinstance(body["detail"], str)
    return body


async def test_demo_walk_records_each_step(client, db) -> None:
    await make_world(db)
    assert (await client.post("/api/v1/devices", json=_receive_body())).status_code == 201
    steps = [
        ("enroll", ENROLL, "enrolled"),
        ("deploy", {"room": "204"}, "deployed"),
        ("open_repair", {"problem": "hinge cracked"}, "in_repair"),
        ("complete_repair", {"resolution": "new hinge", "parts_used": ["hinge"]}, "deployed"),
    ]
    for action, data, state in steps:
        response = await _act(client, "0042", action, data)
        assert response.status_code == 200, response.text
        assert response.json()["device"]["state"] == state
        assert response.json()["event"]["technician"]["name"] == "Ana Reyes"

    history = (await client.get("/api/v1/devices/0042/history")).json()["items"]
    assert [event["action"] for event in history] == [
        "receive",
        "enroll",
        "deploy",
        "open_repair",
        "complete_repair",
    ]
    assert [event["sequence"] for event in history] == [1, 2, 3, 4, 5]
    assert [event["to_state"] for event in history] == [
        "received",
        "enrolled",
        "deployed",
        "in_repair",
        "deployed",
    ]
    assert all(event["technician"]["employee_number"] == "000123" for event in history)
    assert history[3]["data"] == {"problem": "hinge cracked"}


async def test_receive_trims_and_keeps_leading_zeros(client, db) -> None:
    await make_world(db)
    response = await client.post(
        "/api/v1/devices",
        json=_receive_body(asset_tag="  000917 ", serial_number=" 0A12 ", site=" 01M015 "),
    )
    assert response.status_code == 201, response.text
    device = response.json()["device"]
    assert device["asset_tag"] == "000917"
    assert device["serial_number"] == "0A12"
    assert device["site"] == "01M015"
    assert (await client.get("/api/v1/devices/%20000917%20")).json()["asset_tag"] == "000917"


async def test_model_matched_after_normalizing_case_and_spaces(client, db) -> None:
    await make_world(db)
    body = _receive_body(manufacturer="ACER", model="chromebook   311 (c722)")
    assert (await client.post("/api/v1/devices", json=body)).status_code == 201


async def test_unknown_model_is_not_matched_by_substring(client, db) -> None:
    await make_world(db)
    response = await client.post("/api/v1/devices", json=_receive_body(model="Chromebook 311"))
    body = _assert_error_shape(response, 422)
    assert "Chromebook 311" in body["detail"]
    assert await _count(db, Device) == 0


async def test_empty_identifier_is_invalid(client, db) -> None:
    await make_world(db)
    response = await client.post("/api/v1/devices", json=_receive_body(asset_tag="   "))
    _assert_error_shape(response, 400)
    assert await _count(db, Device) == 0


async def test_slash_in_asset_tag_is_invalid(client, db) -> None:
    await make_world(db)
    response = await client.post("/api/v1/devices", json=_receive_body(asset_tag="A/1"))
    _assert_error_shape(response, 400)


async def test_duplicate_asset_tag_names_existing_device(client, db) -> None:
    await make_world(db)
    await receive(db, "0042", serial="FIRST")
    response = await client.post("/api/v1/devices", json=_receive_body(serial_number="OTHER"))
    body = _assert_error_shape(response, 409)
    assert "0042" in body["detail"]
    assert body["extra"]["existing_serial_number"] == "FIRST"
    assert await _count(db, Device) == 1
    assert await _count(db, DeviceEvent) == 1


async def test_duplicate_serial_same_manufacturer_conflicts(client, db) -> None:
    await make_world(db)
    await receive(db, "0001", serial="NXABC001")
    response = await client.post("/api/v1/devices", json=_receive_body(asset_tag="0002"))
    body = _assert_error_shape(response, 409)
    assert body["extra"]["existing_asset_tag"] == "0001"
    assert await _count(db, Device) == 1


async def test_same_serial_other_manufacturer_allowed(client, db) -> None:
    await make_world(db)
    await receive(db, "0001", serial="NXABC001")
    model = {
        "manufacturer": "Dell",
        "model": "Chromebook 3110",
        "device_type": "chromebook",
    }
    assert (await client.post("/api/v1/device-models", json=model)).status_code == 201
    body = _receive_body(asset_tag="0002", manufacturer="Dell", model="Chromebook 3110")
    assert (await client.post("/api/v1/devices", json=body)).status_code == 201


async def test_warranty_end_before_start_rejected(client, db) -> None:
    await make_world(db)
    body = _receive_body(warranty_start="2026-08-25", warranty_end="2026-08-24")
    response = await client.post("/api/v1/devices", json=body)
    error = _assert_error_shape(response, 422)
    assert "2026-08-24" in error["detail"]
    assert await _count(db, Device) == 0
    assert await _count(db, DeviceEvent) == 0


async def test_dates_stay_the_same_day(client, db) -> None:
    await make_world(db)
    body = _receive_body(
        purchase_date="2024-01-01", warranty_start="2024-01-01", warranty_end="2026-12-31"
    )
    device = (await client.post("/api/v1/devices", json=body)).json()["device"]
    assert device["purchase_date"] == "2024-01-01"
    assert device["warranty_end"] == "2026-12-31"
    fetched = (await client.get("/api/v1/devices/0042")).json()
    assert fetched["warranty_start"] == "2024-01-01"


async def test_receive_needs_known_site_and_technician(client, db) -> None:
    await make_world(db)
    error = _assert_error_shape(
        await client.post("/api/v1/devices", json=_receive_body(site="99X999")), 422
    )
    assert "99X999" in error["detail"]
    error = _assert_error_shape(
        await client.post("/api/v1/devices", json=_receive_body(technician="999")), 422
    )
    assert "999" in error["detail"]
    assert await _count(db, Device) == 0


async def test_unknown_asset_tag_is_404_naming_it(client, db) -> None:
    await make_world(db)
    for response in (
        await client.get("/api/v1/devices/NOPE-1"),
        await client.get("/api/v1/devices/NOPE-1/history"),
        await _act(client, "NOPE-1", "enroll", ENROLL),
    ):
        body = _assert_error_shape(response, 404)
        assert "NOPE-1" in body["detail"]


async def test_forbidden_action_names_state_and_allowed(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "deploy", {"room": "1"})
    body = _assert_error_shape(response, 409)
    assert body["extra"]["current_state"] == "received"
    assert "enroll" in body["extra"]["allowed_actions"]
    assert "received" in body["detail"]
    assert await _count(db, DeviceEvent) == 1


async def test_missing_action_data_is_422_naming_field(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "enroll", {"operating_system": "ChromeOS"})
    body = _assert_error_shape(response, 422)
    assert set(body["extra"]["fields"]) == {"management_profile", "user_profile_kind"}


async def test_unknown_action_is_422(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    body = _assert_error_shape(await _act(client, "0042", "teleport"), 422)
    assert "teleport" in body["detail"]


async def test_action_without_technician_is_422(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await client.post(
        "/api/v1/devices/0042/actions", json={"action": "enroll", "data": ENROLL}
    )
    body = _assert_error_shape(response, 422)
    assert "technician" in body["extra"]["fields"]


async def test_expected_state_mismatch_is_409(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "enroll", ENROLL, expected_state="deployed")
    body = _assert_error_shape(response, 409)
    assert body["extra"]["current_state"] == "received"
    ok = await _act(client, "0042", "enroll", ENROLL, expected_state="received")
    assert ok.status_code == 200


async def test_future_occurred_at_rejected(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "enroll", ENROLL, occurred_at="2999-01-01T00:00:00Z")
    _assert_error_shape(response, 422)


async def test_naive_occurred_at_is_district_time(client, db) -> None:
    await make_world(db)
    await receive(db, "0042", occurred_at=datetime(2026, 1, 2, tzinfo=UTC))
    response = await _act(client, "0042", "enroll", ENROLL, occurred_at="2026-01-15T08:30:00")
    # America/Los_Angeles is UTC-8 in January.
    assert response.json()["event"]["occurred_at"].startswith("2026-01-15T16:30:00")


async def test_transfer_moves_site_and_keeps_state(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "transfer", {"site": "02M019"})
    assert response.status_code == 200, response.text
    assert response.json()["device"]["site"] == "02M019"
    assert response.json()["device"]["state"] == "received"
    assert response.json()["event"]["data"]["from_site"] == "01M015"
    bad = await _act(client, "0042", "transfer", {"site": "77Q777"})
    assert "77Q777" in _assert_error_shape(bad, 422)["detail"]


async def test_escalation_checks_warranty_on_that_day(client, db) -> None:
    await make_world(db)
    await receive(db, "0042", warranty_start=None, warranty_end=None)
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "open_repair", {"problem": "no power"})
    refused = await _act(client, "0042", "escalate", {"vendor": "acer", "problem": "no power"})
    assert "warranty_override_reason" in _assert_error_shape(refused, 422)["extra"]["fields"]
    data = {"vendor": "acer", "problem": "no power", "warranty_override_reason": "goodwill"}
    response = await _act(client, "0042", "escalate", data)
    assert response.status_code == 200, response.text
    assert response.json()["device"]["state"] == "with_vendor"


async def test_vendor_replacement_links_new_device(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "open_repair", {"problem": "dead"})
    await _act(client, "0042", "escalate", {"vendor": "acer", "problem": "dead"})
    response = await client.post(
        "/api/v1/devices/0042/actions",
        json={"action": "vendor_replace", "data": {"replacement_serial": "NEW-SN"}},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["device"]["state"] == "replaced"
    assert result["device"]["replaced_by"] == "0042-R"
    assert result["replacement"]["serial_number"] == "NEW-SN"
    assert result["replacement"]["replaces"] == "0042"
    assert result["event"]["technician"] is None

    history = (await client.get("/api/v1/devices/0042-R/history")).json()["items"]
    assert [event["asset_tag"] for event in history] == ["0042"] * 5 + ["0042-R"]
    assert history[-1]["action"] == "receive"


async def test_vendor_replacement_with_taken_serial_changes_nothing(client, db) -> None:
    await make_world(db)
    await receive(db, "0001", serial="TAKEN")
    await receive(db, "0042")
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "open_repair", {"problem": "dead"})
    await _act(client, "0042", "escalate", {"vendor": "acer", "problem": "dead"})
    events_before = await _count(db, DeviceEvent)
    response = await client.post(
        "/api/v1/devices/0042/actions",
        json={"action": "vendor_replace", "data": {"replacement_serial": "TAKEN"}},
    )
    _assert_error_shape(response, 409)
    assert (await client.get("/api/v1/devices/0042")).json()["state"] == "with_vendor"
    assert await _count(db, DeviceEvent) == events_before
    assert await _count(db, Device) == 2


async def test_list_filters(client, db) -> None:
    await make_world(db)
    await receive(db, "A1")
    await receive(db, "A2", site="02M019", technician="000456")
    await receive(db, "A3")
    await _act(client, "A3", "enroll", ENROLL)

    async def tags(**params) -> list[str]:
        response = await client.get("/api/v1/devices", params=params)
        assert response.status_code == 200, response.text
        return [item["asset_tag"] for item in response.json()["items"]]

    assert await tags() == ["A1", "A2", "A3"]
    assert await tags(site="02M019") == ["A2"]
    assert await tags(state="enrolled") == ["A3"]
    assert await tags(technician="000456") == ["A2"]
    model_id = (await client.get("/api/v1/devices/A1")).json()["model_id"]
    assert await tags(model_id=model_id) == ["A1", "A2", "A3"]
    assert await tags(model_id=model_id + 100) == []
    _assert_error_shape(await client.get("/api/v1/devices", params={"state": "bogus"}), 422)
    _assert_error_shape(await client.get("/api/v1/devices", params={"site": "NOPE"}), 404)


async def test_cursor_stable_while_rows_added(client, db) -> None:
    await make_world(db)
    for number in range(1, 8):
        await receive(db, f"T{number:03d}")
    first = (await client.get("/api/v1/devices", params={"limit": 3})).json()
    assert [item["asset_tag"] for item in first["items"]] == ["T001", "T002", "T003"]
    # Rows added before and after the cursor while the client pages.
    await receive(db, "T000")
    await receive(db, "T004A")
    seen = [item["asset_tag"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get("/api/v1/devices", params={"limit": 3, "cursor": cursor})).json()
        seen.extend(item["asset_tag"] for item in page["items"])
        cursor = page["next_cursor"]
    assert seen == ["T001", "T002", "T003", "T004", "T004A", "T005", "T006", "T007"]
    assert len(seen) == len(set(seen))


async def test_bad_cursor_and_limit(client, db) -> None:
    await make_world(db)
    _assert_error_shape(await client.get("/api/v1/devices", params={"cursor": "!!"}), 422)
    _assert_error_shape(await client.get("/api/v1/devices", params={"limit": 0}), 422)
    _assert_error_shape(await client.get("/api/v1/devices", params={"limit": 100000}), 422)


async def test_history_pages(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "deploy", {"assignee": "Room cart 3"})
    first = (await client.get("/api/v1/devices/0042/history", params={"limit": 2})).json()
    assert [event["action"] for event in first["items"]] == ["receive", "enroll"]
    rest = (
        await client.get(
            "/api/v1/devices/0042/history", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [event["action"] for event in rest["items"]] == ["deploy"]
    assert rest["next_cursor"] is None


async def test_unknown_body_field_rejected(client, db) -> None:
    await make_world(db)
    response = await client.post("/api/v1/devices", json=_receive_body(colour="red"))
    _assert_error_shape(response, 400)


async def test_openapi_and_health(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/devices/{asset_tag}/actions" in schema["paths"]
    health = await client.get("/health")
    assert health.json() == {"status": "ok", "database": "ok"}
    assert health.headers["x-request-id"]


async def test_reference_data_duplicates_conflict(client, db) -> None:
    await make_world(db)
    site = {"code": "01M015", "name": "Again", "kind": "school"}
    assert (
        "01M015"
        in _assert_error_shape(await client.post("/api/v1/sites", json=site), 409)["detail"]
    )
    tech = {"employee_number": "000123", "name": "Someone"}
    _assert_error_shape(await client.post("/api/v1/technicians", json=tech), 409)
    vendor = {"code": "acer", "name": "Acer"}
    _assert_error_shape(await client.post("/api/v1/vendors", json=vendor), 409)
    model = {"manufacturer": "acer", "model": "CHROMEBOOK 311 (C722)", "device_type": "x"}
    _assert_error_shape(await client.post("/api/v1/device-models", json=model), 409)
    _assert_error_shape(await client.get("/api/v1/sites/NOPE"), 404)
    _assert_error_shape(await client.get("/api/v1/technicians/NOPE"), 404)
    _assert_error_shape(await client.get("/api/v1/vendors/NOPE"), 404)
    _assert_error_shape(await client.get("/api/v1/device-models/999"), 404)


async def test_receive_by_model_id(client, db) -> None:
    world = await make_world(db)
    body = _receive_body()
    del body["manufacturer"], body["model"]
    body["model_id"] = world["model"].id
    response = await client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["device"]["model"] == "Chromebook 311 (C722)"


async def test_repair_return_state_cleared_when_lost(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "open_repair", {"problem": "fan"})
    await _act(client, "0042", "report_lost")
    await _act(client, "0042", "found")
    await _act(client, "0042", "enroll", ENROLL)
    await _act(client, "0042", "open_repair", {"problem": "fan"})
    done = await _act(client, "0042", "complete_repair", {"resolution": "ok", "parts_used": []})
    assert done.json()["device"]["state"] == "enrolled"


async def test_step_before_last_one_rejected(client, db) -> None:
    await make_world(db)
    await receive(db, "0042", occurred_at=datetime(2026, 3, 1, 12, tzinfo=UTC))
    early = await _act(client, "0042", "enroll", ENROLL, occurred_at="2026-02-01T09:00:00Z")
    body = _assert_error_shape(early, 422)
    assert "before the device's last recorded step" in body["detail"]
    assert await _count(db, DeviceEvent) == 1


async def test_action_data_types_checked(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await _act(client, "0042", "enroll", ENROLL)
    nested = await _act(client, "0042", "open_repair", {"problem": {"a": 1}})
    _assert_error_shape(nested, 400)
    number = await _act(client, "0042", "open_repair", {"problem": 1e20})
    _assert_error_shape(number, 400)
    unknown = await _act(client, "0042", "open_repair", {"problem": "x", "resolution": "fake"})
    assert "resolution" in _assert_error_shape(unknown, 422)["extra"]["fields"]
    long_text = await _act(client, "0042", "open_repair", {"problem": "x" * 5000})
    assert "problem" in _assert_error_shape(long_text, 422)["extra"]["fields"]
    await _act(client, "0042", "open_repair", {"problem": "dead"})
    await _act(client, "0042", "escalate", {"vendor": "acer", "problem": "dead"})
    bad_tag = await client.post(
        "/api/v1/devices/0042/actions",
        json={
            "action": "vendor_replace",
            "data": {"replacement_serial": "NEW1", "replacement_asset_tag": "NEW/../x"},
        },
    )
    fields = _assert_error_shape(bad_tag, 422)["extra"]["fields"]
    assert "replacement_asset_tag" in fields
    assert await _count(db, Device) == 1


async def test_invisible_characters_in_identifiers(client, db) -> None:
    await make_world(db)
    await receive(db, "ATK-0001")
    for tag in ("ATK-0001\u200b", "ATK\u202e1000", "ATK\u0085X", "ATK\u2028X"):
        response = await client.post("/api/v1/devices", json=_receive_body(asset_tag=tag))
        _assert_error_shape(response, 400)
    # A fullwidth letter typed on a phone is the same tag as the printed one.
    fullwidth = await client.post(
        "/api/v1/devices", json=_receive_body(asset_tag="\uff21TK-0001", serial_number="Z9")
    )
    assert "ATK-0001" in _assert_error_shape(fullwidth, 409)["detail"]
    assert (await client.get("/api/v1/devices/%EF%BC%A1TK-0001")).status_code == 404


async def test_control_characters_in_address_rejected(client, db) -> None:
    await make_world(db)
    for path in ("/api/v1/devices/a%00b", "/api/v1/devices?site=%00", "/a/%00"):
        response = await client.get(path)
        body = _assert_error_shape(response, 400)
        assert "control characters" in body["detail"]


async def test_nul_in_body_text_is_rejected(client, db) -> None:
    await make_world(db)
    response = await client.post("/api/v1/devices", json=_receive_body(notes="a\u0000b"))
    assert response.status_code in (400, 422)
    assert await _count(db, Device) == 0


async def test_cursor_with_wrong_value_types(client, db) -> None:
    import base64
    import json

    await make_world(db)
    for value in ([1], {"x": 1}, None, 5):
        raw = json.dumps({"asset_tag": value}).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response = await client.get("/api/v1/devices", params={"cursor": cursor})
        _assert_error_shape(response, 422)


async def test_out_of_range_numbers(client, db) -> None:
    await make_world(db)
    assert (await client.get(f"/api/v1/device-models/{2**63}")).status_code == 404
    _assert_error_shape(await client.get("/api/v1/devices", params={"model_id": 2**40}), 400)
    body = _receive_body()
    del body["manufacturer"], body["model"]
    body["model_id"] = 2**63
    _assert_error_shape(await client.post("/api/v1/devices", json=body), 400)
    await receive(db, "0042")
    far = await _act(client, "0042", "enroll", ENROLL, occurred_at="9999-12-31T23:59:59-12:00")
    assert far.status_code == 422


async def test_unknown_expected_state_lists_states(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    response = await _act(client, "0042", "enroll", ENROLL, expected_state="bogus")
    assert "received" in _assert_error_shape(response, 422)["detail"]


async def test_lost_device_cannot_be_reported_lost_again(client, db) -> None:
    await make_world(db)
    await receive(db, "0042")
    assert (await _act(client, "0042", "report_lost")).status_code == 200
    _assert_error_shape(await _act(client, "0042", "report_lost"), 409)
