"""Request bodies above INVENTORY_MAX_BODY_KB get 413 with the error shape and the limit."""

from __future__ import annotations

import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from inventory.app import create_app
from inventory.config import Settings
from inventory.db import Database
from tests.conftest import token_for
from tests.factories import make_world, receive


async def test_oversized_action_body_gets_413(settings: Settings, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042")
    token = await token_for(db, "ana", "technician", technician="000123")
    app = create_app(settings.model_copy(update={"max_body_kb": 1}))
    body = b'{"action": "audit_seen", "data": {"room": "' + b"x" * 2048 + b'"}}'
    async with AsyncTestClient(app=app) as client:
        response = await client.post(
            "/api/v1/devices/0042/actions",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    error = response.json()
    assert error["status_code"] == 413
    assert "1 KiB" in error["detail"]
    assert error["extra"] == {"max_body_bytes": 1024}
    async with db.read() as session:
        events = await session.scalar(text("SELECT count(*) FROM device_events"))
    assert events == 1


async def test_body_within_limit_is_accepted(settings: Settings, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042")
    token = await token_for(db, "ana", "technician", technician="000123")
    app = create_app(settings.model_copy(update={"max_body_kb": 1}))
    async with AsyncTestClient(app=app) as client:
        response = await client.post(
            "/api/v1/devices/0042/actions",
            json={"action": "audit_seen", "data": {"room": "114"}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code in (200, 201), response.text


async def test_oversized_form_gets_413(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"max_body_kb": 1}))
    async with AsyncTestClient(app=app) as client:
        response = await client.post(
            "/login",
            content=b"username=" + b"a" * 4096,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413, response.text
    assert "1 KiB" in response.text


async def test_chunked_body_over_limit_gets_413(db: Database, live_server: str) -> None:
    # Chunked transfer has no Content-Length, so the limit must hold on the bytes received.
    await make_world(db)
    await receive(db, "0042")
    token = await token_for(db, "ana", "technician", technician="000123")

    async def chunks():
        for _ in range(24):
            yield b"x" * 65536

    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{live_server}/api/v1/devices/0042/actions",
            content=chunks(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
    assert response.status_code == 413
    assert "1024 KiB" in response.json()["detail"]
