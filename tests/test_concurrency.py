"""Two people acting on one device at once, and retried requests."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import func, select

from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.errors import ConflictError
from inventory.lifecycle import ActionNotAllowedError
from tests.conftest import token_for
from tests.factories import make_world, receive

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


async def _events(db, action: str) -> int:
    async with db.read() as session:
        return await session.scalar(
            select(func.count()).select_from(DeviceEvent).where(DeviceEvent.action == action)
        )


async def _enrolled_device(db, tag: str = "0042") -> None:
    await make_world(db)
    await receive(db, tag)
    await apply_action(db, tag, ActionRequest(action="enroll", technician="000123", data=ENROLL))


async def test_fifty_concurrent_repairs_one_wins_service(db) -> None:
    await _enrolled_device(db)
    request = ActionRequest(action="open_repair", technician="000456", data={"problem": "screen"})
    results = await asyncio.gather(
        *(apply_action(db, "0042", request) for _ in range(50)), return_exceptions=True
    )
    outcomes = Counter(type(result).__name__ for result in results)
    assert outcomes["ActionResult"] == 1, outcomes
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(losers) == 49
    assert all(isinstance(r, ConflictError | ActionNotAllowedError) for r in losers), outcomes
    assert await _events(db, "open_repair") == 1


async def test_fifty_concurrent_repairs_one_wins_http(db, live_server: str) -> None:
    await _enrolled_device(db)
    token = await token_for(db, "ben", "technician", technician="000456")
    body = {"action": "open_repair", "data": {"problem": "screen"}}
    limits = httpx.Limits(max_connections=50)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=live_server, limits=limits, timeout=60, headers=headers
    ) as http:
        responses = await asyncio.gather(
            *(http.post("/api/v1/devices/0042/actions", json=body) for _ in range(50))
        )
    statuses = Counter(response.status_code for response in responses)
    assert statuses == Counter({200: 1, 409: 49}), statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["extra"]["current_state"] == "in_repair"
    assert await _events(db, "open_repair") == 1
    async with db.read() as session:
        event = await session.scalar(select(DeviceEvent).where(DeviceEvent.action == "open_repair"))
    assert event.technician_name == "Ben Okafor"
    assert event.actor == "ben"


async def test_retry_with_same_key_applied_once(client, db) -> None:
    await _enrolled_device(db)
    body = {"action": "deploy", "technician": "000123", "data": {"room": "12"}}
    headers = {"Idempotency-Key": "3f1c9a2e-retry"}
    first = await client.post("/api/v1/devices/0042/actions", json=body, headers=headers)
    second = await client.post("/api/v1/devices/0042/actions", json=body, headers=headers)
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert await _events(db, "deploy") == 1


async def test_retried_receive_applied_once(client, db) -> None:
    await make_world(db)
    body = {
        "asset_tag": "0100",
        "serial_number": "SN-0100",
        "manufacturer": "Acer",
        "model": "Chromebook 311 (C722)",
        "site": "01M015",
        "technician": "000123",
    }
    headers = {"Idempotency-Key": "receive-0100"}
    first = await client.post("/api/v1/devices", json=body, headers=headers)
    second = await client.post("/api/v1/devices", json=body, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json() == first.json()
    assert await _events(db, "receive") == 1


async def test_key_reused_for_other_request_rejected(client, db) -> None:
    await _enrolled_device(db)
    headers = {"Idempotency-Key": "same-key"}
    body = {"action": "deploy", "technician": "000123", "data": {"room": "12"}}
    assert (
        await client.post("/api/v1/devices/0042/actions", json=body, headers=headers)
    ).is_success
    other = {"action": "collect", "technician": "000123", "data": {}}
    response = await client.post("/api/v1/devices/0042/actions", json=other, headers=headers)
    assert response.status_code == 422
    assert "same-key" in response.json()["detail"]
    assert await _events(db, "collect") == 0


async def test_concurrent_retries_with_same_key_applied_once(db) -> None:
    await _enrolled_device(db)
    request = ActionRequest(action="deploy", technician="000123", data={"room": "7"})
    results = await asyncio.gather(
        *(
            apply_action(db, "0042", request, idempotency_key="k-1", fingerprint="f")
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    assert all(not isinstance(result, Exception) for result in results), results
    assert len({result.event.id for result in results}) == 1
    assert await _events(db, "deploy") == 1


async def test_failed_request_is_not_remembered(client, db) -> None:
    await _enrolled_device(db)
    headers = {"Idempotency-Key": "fix-and-retry"}
    bad = {"action": "open_repair", "technician": "000123", "data": {}}
    assert (
        await client.post("/api/v1/devices/0042/actions", json=bad, headers=headers)
    ).status_code == 422
    # The same key may carry the corrected request, since nothing was applied.
    good = {"action": "open_repair", "technician": "000123", "data": {"problem": "fan"}}
    response = await client.post("/api/v1/devices/0042/actions", json=good, headers=headers)
    assert response.status_code == 200, response.text
