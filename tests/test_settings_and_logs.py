"""Settings from the environment, and the log lines of requests and state changes."""

from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from inventory.config import Settings
from inventory.logs import JsonFormatter
from tests.factories import make_world, receive


def test_production_needs_a_secret_key(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_ENVIRONMENT", "production")
    monkeypatch.delenv("INVENTORY_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert "INVENTORY_SECRET_KEY" in str(raised.value)
    monkeypatch.setenv("INVENTORY_SECRET_KEY", "a-long-random-value-for-production-use")
    assert Settings().environment == "production"


def test_settings_read_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("INVENTORY_BASE_URL", "https://assets.district.example/")
    monkeypatch.setenv("INVENTORY_TIMEZONE", "America/New_York")
    settings = Settings()
    assert settings.base_url == "https://assets.district.example"
    assert settings.zone.key == "America/New_York"


@pytest.mark.parametrize(
    ("name", "value"),
    [("INVENTORY_TIMEZONE", "Mars/Olympus"), ("INVENTORY_BASE_URL", "assets.example")],
)
def test_invalid_setting_named(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as raised:
        Settings()
    assert value in str(raised.value)


def test_secret_not_in_repr() -> None:
    settings = Settings(secret_key="do-not-show-this")
    assert "do-not-show-this" not in repr(settings)


def test_json_formatter_hides_secrets() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "login", None, None)
    record.password = "hunter2"
    record.user = "ana"
    line = json.loads(JsonFormatter().format(record))
    assert line["password"] == "[hidden]"
    assert line["user"] == "ana"
    assert line["message"] == "login"


async def test_request_and_state_change_logged(client, db, caplog) -> None:
    await make_world(db)
    await receive(db, "0042")
    caplog.set_level(logging.INFO)
    response = await client.post(
        "/api/v1/devices/0042/actions",
        json={
            "action": "enroll",
            "technician": "000456",
            "data": {
                "operating_system": "ChromeOS",
                "management_profile": "students",
                "user_profile_kind": "student",
            },
        },
        headers={"X-Request-ID": "req-123"},
    )
    assert response.headers["x-request-id"] == "req-123"
    change = next(r for r in caplog.records if r.getMessage() == "state change")
    assert change.asset_tag == "0042"
    assert change.action == "enroll"
    assert change.from_state == "received"
    assert change.to_state == "enrolled"
    assert change.technician == "000456"
    request = next(r for r in caplog.records if r.getMessage() == "request")
    assert request.method == "POST"
    assert request.path == "/api/v1/devices/0042/actions"
    assert request.status == 200
    assert request.duration_ms >= 0
    line = json.loads(JsonFormatter().format(change))
    assert line["request_id"] == "req-123"
    assert line["asset_tag"] == "0042"
    # The event keeps the request id too.
    history = (await client.get("/api/v1/devices/0042/history")).json()["items"]
    assert history[-1]["request_id"] == "req-123"


async def test_unsafe_request_id_replaced(client) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert response.headers["x-request-id"] != "bad id\nwith newline"
    assert " " not in response.headers["x-request-id"]


async def test_security_headers(client) -> None:
    response = await client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    login = await client.get("/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]


def test_every_setting_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert f"`INVENTORY_{name.upper()}`" in text, name
        assert field.description, name
        assert field.description in text, name


async def test_refused_request_logged_with_its_status(anonymous_client, caplog) -> None:
    # The token is refused before any response starts; the log line has the 401 sent.
    caplog.set_level(logging.INFO)
    response = await anonymous_client.get("/api/v1/devices")
    assert response.status_code == 401
    request = next(r for r in caplog.records if r.getMessage() == "request")
    assert request.status == 401
