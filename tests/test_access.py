"""Who may call what: every route of the OpenAPI document with every role, and object scope."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from sqlalchemy import update

from inventory.accounts.models import ApiToken
from inventory.accounts.service import revoke_token
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.types import utc_now
from tests.conftest import token_for
from tests.factories import make_world, receive

ROLES = ("anonymous", "admin", "technician", "site", "vendor")
ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


@pytest.fixture
async def world(db) -> dict:
    """Two sites, a device at each, one escalated to Acer, and a token per role."""
    made = await make_world(db)
    await receive(db, "0042")  # at 01M015
    await receive(db, "0099", site="02M019")
    await receive(db, "0500")  # escalated to acer below
    for action, data in [
        ("enroll", ENROLL),
        ("open_repair", {"problem": "dead"}),
        ("escalate", {"vendor": "acer", "problem": "dead"}),
    ]:
        await apply_action(db, "0500", ActionRequest(action=action, technician="000123", data=data))
    from inventory.vendors.schemas import VendorCreate
    from inventory.vendors.service import create_vendor

    await create_vendor(db, VendorCreate(code="dell", name="Dell"))
    tokens = {
        "admin": await token_for(db, "it-office"),
        "technician": await token_for(db, "ana", "technician", technician="000123"),
        "site": await token_for(db, "ps15", "site", sites=["01M015"]),
        "vendor": await token_for(db, "acer-rma", "vendor", vendor="acer"),
        "other_vendor": await token_for(db, "dell-rma", "vendor", vendor="dell"),
    }
    return {"tokens": tokens, "model_id": made["model"].id}


def _headers(world: dict, role: str) -> dict:
    if role == "anonymous":
        return {}
    return {"Authorization": f"Bearer {world['tokens'][role]}"}


def _declared_rules(app: Litestar) -> dict[tuple[str, str], str]:
    rules = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
        for handler in route.route_handlers:
            for method in handler.http_methods:
                rules[(path, method)] = handler.opt.get("access")
    return rules


def _fill(path: str, world: dict) -> str:
    values = {
        "asset_tag": "0042",
        "employee_number": "000123",
        "model_id": str(world["model_id"]),
        "escalation_id": "1",
        "batch_id": "1",
        "part_id": "1",
        "fiscal_year": "2026-27",
        "visit_id": "1",
        "assignment_id": "1",
        "ticket_id": "1",
    }
    code = "acer" if "/vendors/" in path else "01M015"
    path = path.replace("{code}", code)
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _expected(rule: str, role: str) -> set[int] | None:
    """Statuses the guard gives for a rule and role; None when it lets the request through."""
    if rule == "public":
        return None
    if role == "anonymous":
        return {401}
    if rule == "admin" and role != "admin":
        return {403}
    if rule == "staff" and role not in ("admin", "technician"):
        return {403}
    return None


async def test_every_route_declares_a_rule(app: Litestar) -> None:
    rules = _declared_rules(app)
    assert rules
    undeclared = {
        key for key, rule in rules.items() if rule not in {"public", "user", "staff", "admin"}
    }
    # Litestar's own OPTIONS handlers carry no rule and are treated as public.
    assert {method for _path, method in undeclared} <= {"OPTIONS"}


async def test_openapi_routes_with_every_role(anonymous_client, app: Litestar, world: dict) -> None:
    schema = (await anonymous_client.get("/schema/openapi.json")).json()
    rules = _declared_rules(app)
    checked = 0
    for path, operations in schema["paths"].items():
        for method in operations:
            rule = rules[(path, method.upper())]
            for role in ROLES:
                response = await anonymous_client.request(
                    method.upper(),
                    _fill(path, world),
                    headers=_headers(world, role),
                    json={} if method in ("post", "put", "patch") else None,
                )
                expected = _expected(rule, role)
                where = f"{method.upper()} {path} as {role} (rule {rule})"
                if expected is None:
                    assert response.status_code not in (401, 403), where
                    assert response.status_code < 500, where
                else:
                    assert response.status_code in expected, (where, response.text)
                if response.status_code >= 400:
                    assert set(response.json()) == {"status_code", "detail", "extra"}, where
                checked += 1
    assert checked >= 5 * 15


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        ("site", "/api/v1/devices/0042", 200),
        ("site", "/api/v1/devices/0099", 404),
        ("site", "/api/v1/devices/0099/history", 404),
        ("site", "/api/v1/sites/01M015", 200),
        ("site", "/api/v1/sites/02M019", 404),
        ("vendor", "/api/v1/devices/0500", 200),
        ("vendor", "/api/v1/devices/0042", 404),
        ("other_vendor", "/api/v1/devices/0500", 404),
        ("vendor", "/api/v1/vendors/acer", 200),
        ("vendor", "/api/v1/vendors/dell", 404),
        ("vendor", "/api/v1/sites/01M015", 404),
        ("technician", "/api/v1/devices/0099", 200),
    ],
)
async def test_object_scope(
    anonymous_client, world: dict, role: str, path: str, status: int
) -> None:
    response = await anonymous_client.get(path, headers=_headers(world, role))
    assert response.status_code == status, response.text


async def test_hidden_device_answers_like_missing_one(anonymous_client, world: dict) -> None:
    hidden = await anonymous_client.get("/api/v1/devices/0099", headers=_headers(world, "site"))
    missing = await anonymous_client.get("/api/v1/devices/0098", headers=_headers(world, "site"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace("0099", "X") == missing.json()["detail"].replace(
        "0098", "X"
    )


async def test_lists_are_scoped(anonymous_client, world: dict) -> None:
    site = await anonymous_client.get("/api/v1/devices", headers=_headers(world, "site"))
    assert [d["asset_tag"] for d in site.json()["items"]] == ["0042", "0500"]
    vendor = await anonymous_client.get("/api/v1/devices", headers=_headers(world, "vendor"))
    assert [d["asset_tag"] for d in vendor.json()["items"]] == ["0500"]
    other = await anonymous_client.get("/api/v1/devices", headers=_headers(world, "other_vendor"))
    assert other.json()["items"] == []
    sites = await anonymous_client.get("/api/v1/sites", headers=_headers(world, "site"))
    assert [s["code"] for s in sites.json()["items"]] == ["01M015"]
    hidden_filter = await anonymous_client.get(
        "/api/v1/devices", params={"site": "02M019"}, headers=_headers(world, "site")
    )
    assert hidden_filter.status_code == 404


async def test_technician_is_the_signed_in_one(anonymous_client, world: dict) -> None:
    headers = _headers(world, "technician")
    response = await anonymous_client.post(
        "/api/v1/devices/0042/actions", json={"action": "enroll", "data": ENROLL}, headers=headers
    )
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    assert event["technician"]["employee_number"] == "000123"
    assert event["actor"] == "ana"
    other = await anonymous_client.post(
        "/api/v1/devices/0042/actions",
        json={"action": "deploy", "technician": "000456", "data": {"room": "1"}},
        headers=headers,
    )
    assert other.status_code == 403


async def test_admin_acts_on_behalf_and_event_keeps_both(anonymous_client, world: dict) -> None:
    response = await anonymous_client.post(
        "/api/v1/devices/0042/actions",
        json={"action": "enroll", "technician": "000456", "data": ENROLL},
        headers=_headers(world, "admin"),
    )
    event = response.json()["event"]
    assert event["technician"] == {"employee_number": "000456", "name": "Ben Okafor"}
    assert event["actor"] == "it-office"


async def test_site_user_reports_problem_only(anonymous_client, world: dict) -> None:
    headers = _headers(world, "site")
    report = await anonymous_client.post(
        "/api/v1/devices/0042/actions",
        json={"action": "report_problem", "data": {"problem": "won't charge"}},
        headers=headers,
    )
    assert report.status_code == 200, report.text
    assert report.json()["device"]["state"] == "received"
    assert report.json()["event"]["actor"] == "ps15"
    enroll = await anonymous_client.post(
        "/api/v1/devices/0042/actions", json={"action": "enroll", "data": ENROLL}, headers=headers
    )
    assert enroll.status_code == 403
    elsewhere = await anonymous_client.post(
        "/api/v1/devices/0099/actions",
        json={"action": "report_problem", "data": {"problem": "x"}},
        headers=headers,
    )
    assert elsewhere.status_code == 404


async def test_vendor_updates_only_its_escalations(anonymous_client, world: dict) -> None:
    body = {"action": "vendor_return", "data": {"outcome": "board replaced"}}
    other = await anonymous_client.post(
        "/api/v1/devices/0500/actions", json=body, headers=_headers(world, "other_vendor")
    )
    assert other.status_code == 404
    mine = await anonymous_client.post(
        "/api/v1/devices/0500/actions", json=body, headers=_headers(world, "vendor")
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["event"]["actor"] == "acer-rma"
    assert mine.json()["event"]["technician"] is None
    # Back in repair, the device is no longer the vendor's to see.
    again = await anonymous_client.get("/api/v1/devices/0500", headers=_headers(world, "vendor"))
    assert again.status_code == 404


async def test_vendor_cannot_record_technician_steps(anonymous_client, world: dict) -> None:
    response = await anonymous_client.post(
        "/api/v1/devices/0500/actions",
        json={"action": "report_lost", "data": {}},
        headers=_headers(world, "vendor"),
    )
    assert response.status_code == 403


async def test_expired_and_revoked_tokens_rejected(anonymous_client, db, world: dict) -> None:
    token = world["tokens"]["technician"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await anonymous_client.get("/api/v1/devices", headers=headers)).status_code == 200
    async with db.write() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.name == "test", ApiToken.token_prefix == token[:10])
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    expired = await anonymous_client.get("/api/v1/devices", headers=headers)
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]

    site_headers = _headers(world, "site")
    assert (await anonymous_client.get("/api/v1/devices", headers=site_headers)).status_code == 200
    from inventory.accounts.service import list_tokens

    site_token = next(t for t in await list_tokens(db, "ps15"))
    await revoke_token(db, site_token.id)
    assert (await anonymous_client.get("/api/v1/devices", headers=site_headers)).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer", "Token inv_abc"]
)
async def test_bad_authorization_header(anonymous_client, world: dict, header: str) -> None:
    response = await anonymous_client.get("/api/v1/devices", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_token_stored_only_as_hash(db, world: dict) -> None:
    from sqlalchemy import select

    async with db.read() as session:
        stored = list((await session.execute(select(ApiToken.token_hash))).scalars())
    for token in world["tokens"].values():
        assert token not in stored
        assert all(token not in value for value in stored)


async def test_vendor_does_not_see_assignee(anonymous_client, db, world: dict) -> None:
    from inventory.devices.models import Device

    async with db.write() as session:
        await session.execute(
            update(Device).where(Device.asset_tag == "0500").values(assignee="Student 4711")
        )
    admin = await anonymous_client.get("/api/v1/devices/0500", headers=_headers(world, "admin"))
    assert admin.json()["assignee"] == "Student 4711"
    vendor = await anonymous_client.get("/api/v1/devices/0500", headers=_headers(world, "vendor"))
    assert vendor.json()["assignee"] is None
    listed = await anonymous_client.get("/api/v1/devices", headers=_headers(world, "vendor"))
    assert all(item["assignee"] is None for item in listed.json()["items"])


async def test_vendor_history_hides_assignee(anonymous_client, db, world: dict) -> None:
    admin = _headers(world, "admin")
    for action, data in [
        ("vendor_return", {"outcome": "fixed"}),
        ("complete_repair", {"resolution": "ok", "parts_used": []}),
        ("deploy", {"assignee": "Student 4711"}),
        ("open_repair", {"problem": "again"}),
        ("escalate", {"vendor": "acer", "problem": "again"}),
    ]:
        body = {"action": action, "technician": "000123", "data": data}
        response = await anonymous_client.post(
            "/api/v1/devices/0500/actions", json=body, headers=admin
        )
        assert response.status_code == 200, response.text
    history = await anonymous_client.get(
        "/api/v1/devices/0500/history", headers=_headers(world, "vendor")
    )
    assert "Student 4711" not in history.text
