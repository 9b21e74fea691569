from __future__ import annotations

from tests.factories import make_world


async def test_walk_through_lifecycle(client, db) -> None:
    await make_world(db)
    response = await client.post(
        "/api/v1/devices",
        json={
            "asset_tag": " 0042 ",
            "serial_number": "NXABC001",
            "manufacturer": "acer",
            "model": "Chromebook  311 (C722)",
            "site": "01M015",
            "technician": "000123",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["device"]["asset_tag"] == "0042"
    steps = [
        (
            "enroll",
            {
                "operating_system": "ChromeOS",
                "management_profile": "students",
                "user_profile_kind": "student",
            },
        ),
        ("deploy", {"assignee": "student 17"}),
        ("open_repair", {"problem": "cracked screen"}),
        ("complete_repair", {"resolution": "replaced screen", "parts_used": ["screen"]}),
    ]
    for action, data in steps:
        response = await client.post(
            "/api/v1/devices/0042/actions",
            json={"action": action, "technician": "000456", "data": data},
        )
        assert response.status_code == 200, response.text
    assert response.json()["device"]["state"] == "deployed"
    history = (await client.get("/api/v1/devices/0042/history")).json()
    assert [event["action"] for event in history["items"]] == [
        "receive",
        "enroll",
        "deploy",
        "open_repair",
        "complete_repair",
    ]
