"""Scan sessions: the /scan page, its JSON endpoint /scan/apply, and the service worker."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlmodel import col

from inventory.accounts.service import create_user
from inventory.devices.models import DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.web.scan import tag_from_scan
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world, receive

ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}


@pytest.fixture
async def setup(db) -> None:
    """Device 0042 deployed and 0043 enrolled at 01M015, and one user per role."""
    await make_world(db)
    # Two days ago, so that a scan kept on a phone for a while is still the latest step.
    earlier = datetime.now(UTC) - timedelta(days=2)
    for tag in ("0042", "0043"):
        await receive(db, tag, occurred_at=earlier)
        await apply_action(
            db,
            tag,
            ActionRequest(action="enroll", technician="000123", data=ENROLL, occurred_at=earlier),
        )
    await apply_action(
        db,
        "0042",
        ActionRequest(
            action="deploy", technician="000123", data={"room": "12"}, occurred_at=earlier
        ),
    )
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    await create_user(db, "ps15", "site", PASSWORD, sites=["01M015"])
    await create_user(db, "acer-rma", "vendor", PASSWORD, vendor="acer")
    await create_user(db, "boss", "admin", PASSWORD)


@pytest.fixture
async def browser(app):
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        yield client


async def _signed_in(browser, username: str) -> str:
    """Sign in and open /scan; return the CSRF token the page carries."""
    response = await sign_in(browser, username)
    assert response.status_code == 303, response.text
    page = await browser.get("/scan")
    assert page.status_code == 200, page.text
    match = re.search(r'data-csrf-token="([^"]+)"', page.text)
    assert match
    return match.group(1)


async def _apply(browser, token: str | None, **body):
    headers = {"X-CSRFToken": token} if token else {}
    return await browser.post("/scan/apply", json=body, headers=headers)


async def _events(db, action: str | None = None) -> list[DeviceEvent]:
    query = select(DeviceEvent).order_by(col(DeviceEvent.id))
    if action:
        query = query.where(col(DeviceEvent.action) == action)
    async with db.read() as session:
        return list(await session.scalars(query))


async def _event_count(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(DeviceEvent))


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("0042", "0042"),
        ("https://inventory.example.org/a/0042", "0042"),
        ("https://inventory.example.org/a/A%207", "A 7"),
        ("http://127.0.0.1:8000/a/%C3%891/", "É1"),
        ("https://district.example/inventory/a/PRE-0001", "PRE-0001"),
    ],
)
def test_tag_from_scan_reduces_label_url(text: str, tag: str) -> None:
    assert tag_from_scan(text) == tag


def test_tag_from_scan_rejects_other_urls() -> None:
    with pytest.raises(ValueError, match="not an asset label"):
        tag_from_scan("https://example.org/sites/01M015")


async def test_scan_page_redirects_anonymous(browser, setup) -> None:
    response = await browser.get("/scan", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fscan"


@pytest.mark.parametrize("username", ["ps15", "acer-rma"])
async def test_scan_page_forbidden_to_site_and_vendor(browser, setup, username: str) -> None:
    await sign_in(browser, username)
    response = await browser.get("/scan")
    assert response.status_code == 403
    assert "Only technicians and the IT office" in response.text
    home = await browser.get("/")
    assert 'href="/scan"' not in home.text


async def test_scan_page_for_technician(browser, setup) -> None:
    await _signed_in(browser, "ana")
    page = (await browser.get("/scan")).text
    assert 'data-user="ana"' in page
    assert 'data-admin="false"' in page
    assert 'id="scan-technician"' not in page
    assert '<script src="/static/scan.js" defer></script>' in page
    assert 'data-service-worker="/scan/sw.js?v=' in page
    assert 'href="/scan"' in page


async def test_scan_page_asks_admin_for_technician(browser, setup) -> None:
    await _signed_in(browser, "boss")
    page = (await browser.get("/scan")).text
    assert 'data-admin="true"' in page
    assert 'id="scan-technician"' in page


async def test_site_page_links_scan_sessions(browser, setup) -> None:
    await sign_in(browser, "ana")
    page = (await browser.get("/sites/01M015")).text
    assert 'href="/scan?action=collect&amp;site=01M015"' in page
    assert 'href="/scan?action=audit_seen&amp;site=01M015"' in page
    assert 'href="/scan?action=transfer&amp;site=01M015"' in page


async def test_site_page_hides_scan_links_from_site_user(browser, setup) -> None:
    await sign_in(browser, "ps15")
    page = (await browser.get("/sites/01M015")).text
    assert "Start a scan session" not in page


async def test_apply_collect_records_technician(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(
        browser, token, asset_tag="0042", action="collect", idempotency_key="k-collect"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["asset_tag"] == "0042"
    assert body["state"] == "enrolled"
    assert body["state_label"] == "Enrolled"
    assert body["site"] == "01M015"
    [event] = await _events(db, "collect")
    assert event.technician_name == "Ana Reyes"
    assert event.actor == "ana"
    assert body["event_id"] == event.id


async def test_apply_reduces_label_url(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(
        browser,
        token,
        asset_tag="https://inventory.example.org/a/0043",
        action="audit_seen",
        data={"room": "Library"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["asset_tag"] == "0043"
    [event] = await _events(db, "audit_seen")
    assert event.data == {"room": "Library"}


async def test_apply_transfer(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(
        browser, token, asset_tag="0043", action="transfer", data={"site": "02M019"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["site"] == "02M019"
    assert response.json()["state"] == "enrolled"
    again = await _apply(
        browser, token, asset_tag="0043", action="transfer", data={"site": "02M019"}
    )
    assert again.status_code == 422
    assert "already at site" in again.json()["extra"]["fields"]["site"]


async def test_apply_unknown_tag_is_404(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(browser, token, asset_tag="NOPE-1", action="collect")
    assert response.status_code == 404
    body = response.json()
    assert body["status_code"] == 404
    assert body["detail"] == "Device with asset tag 'NOPE-1' not found."
    assert body["extra"] == {"asset_tag": "NOPE-1"}


async def test_apply_forbidden_transition_is_409(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(browser, token, asset_tag="0043", action="collect")
    assert response.status_code == 409
    body = response.json()
    assert body["status_code"] == 409
    assert "not allowed for a device in state 'enrolled'" in body["detail"]
    assert body["extra"]["current_state"] == "enrolled"
    assert "deploy" in body["extra"]["allowed_actions"]
    assert await _events(db, "collect") == []


async def test_apply_rejects_other_actions(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(browser, token, asset_tag="0043", action="report_lost")
    assert response.status_code == 400
    assert response.json()["status_code"] == 400
    assert await _events(db, "report_lost") == []


async def test_apply_rejects_invalid_tag(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(browser, token, asset_tag="https://example.org/x", action="collect")
    assert response.status_code == 400
    assert "not an asset label" in response.text


async def test_apply_needs_csrf_header(browser, db, setup) -> None:
    await _signed_in(browser, "ana")
    before = await _event_count(db)
    response = await _apply(browser, None, asset_tag="0042", action="collect")
    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF token verification failed"
    wrong = await _apply(browser, "0" * 128, asset_tag="0042", action="collect")
    assert wrong.status_code == 403
    assert await _event_count(db) == before


async def test_apply_needs_sign_in(browser, db, setup) -> None:
    await browser.get("/login")
    token = browser.cookies.get("inventory_csrf")
    response = await _apply(browser, token, asset_tag="0042", action="collect")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401


@pytest.mark.parametrize("username", ["ps15", "acer-rma"])
async def test_apply_forbidden_to_site_and_vendor(browser, db, setup, username: str) -> None:
    await sign_in(browser, username)
    token = browser.cookies.get("inventory_csrf")
    response = await _apply(browser, token, asset_tag="0042", action="collect")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only technicians and the IT office may do this."
    assert await _events(db, "collect") == []


async def test_retried_key_gives_one_event(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    body = {
        "asset_tag": "0042",
        "action": "collect",
        "idempotency_key": "9b7e4f0a-retry",
        "scanned_by": "ana",
    }
    first = await _apply(browser, token, **body, seconds_since_scan=30)
    # A retry after a lost response is sent later, so its age differs; it is the same scan.
    second = await _apply(browser, token, **body, seconds_since_scan=95)
    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    assert len(await _events(db, "collect")) == 1


async def test_key_reused_for_other_tag_rejected(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    body = {"action": "audit_seen", "idempotency_key": "same-key"}
    first = await _apply(browser, token, asset_tag="0042", **body)
    assert first.status_code == 200
    other = await _apply(browser, token, asset_tag="0043", **body)
    assert other.status_code == 422
    assert "same-key" in other.json()["detail"]
    assert len(await _events(db, "audit_seen")) == 1


async def test_scan_age_sets_occurred_at(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    before = datetime.now(UTC)
    response = await _apply(
        browser, token, asset_tag="0042", action="collect", seconds_since_scan=3600
    )
    assert response.status_code == 200, response.text
    [event] = await _events(db, "collect")
    occurred = event.occurred_at.replace(tzinfo=UTC)
    recorded = event.recorded_at.replace(tzinfo=UTC)
    assert before - timedelta(seconds=3610) < occurred < before - timedelta(seconds=3590)
    assert recorded >= before - timedelta(seconds=1)


async def test_scan_older_than_last_step_dated_now(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    before = datetime.now(UTC)
    response = await _apply(
        browser,
        token,
        asset_tag="0042",
        action="collect",
        idempotency_key="k-old",
        seconds_since_scan=3 * 86400,
    )
    assert response.status_code == 200, response.text
    [event] = await _events(db, "collect")
    assert event.occurred_at.replace(tzinfo=UTC) >= before - timedelta(seconds=1)
    assert event.notes is not None
    assert event.notes.startswith("Scanned at ")
    assert "the device has a later step" in event.notes
    again = await _apply(
        browser,
        token,
        asset_tag="0042",
        action="collect",
        idempotency_key="k-old",
        seconds_since_scan=3 * 86400 + 60,
    )
    assert again.json() == response.json()
    assert len(await _events(db, "collect")) == 1


async def test_scan_age_limit(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(
        browser, token, asset_tag="0042", action="collect", seconds_since_scan=200 * 86400
    )
    assert response.status_code == 400
    assert await _events(db, "collect") == []


async def test_scan_by_other_user_rejected(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(
        browser, token, asset_tag="0042", action="collect", scanned_by="someone-else"
    )
    assert response.status_code == 403
    assert response.json()["extra"] == {"scanned_by": "someone-else", "signed_in": "ana"}
    assert await _events(db, "collect") == []


async def test_technician_cannot_name_another(browser, db, setup) -> None:
    token = await _signed_in(browser, "ana")
    response = await _apply(browser, token, asset_tag="0042", action="collect", technician="000456")
    assert response.status_code == 200, response.text
    [event] = await _events(db, "collect")
    assert event.technician_name == "Ana Reyes"


async def test_admin_names_technician(browser, db, setup) -> None:
    token = await _signed_in(browser, "boss")
    missing = await _apply(browser, token, asset_tag="0042", action="collect")
    assert missing.status_code == 422
    assert missing.json()["extra"]["fields"] == {"technician": "required for this action"}
    response = await _apply(browser, token, asset_tag="0042", action="collect", technician="000456")
    assert response.status_code == 200, response.text
    [event] = await _events(db, "collect")
    assert event.technician_name == "Ben Okafor"
    assert event.actor == "boss"


async def test_check_names_site_and_technician(browser, setup) -> None:
    await _signed_in(browser, "ana")
    response = await browser.get("/scan/check", params={"action": "transfer", "site": "02M019"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "action": "transfer",
        "site": {"code": "02M019", "name": "P.S. 019 Asher Levy"},
        "technician": {"employee_number": "000123", "name": "Ana Reyes"},
    }


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"action": "transfer"}, "A transfer session needs a destination site code."),
        ({"action": "transfer", "site": "99X999"}, "Site '99X999' not found."),
        ({"action": "collect", "site": " "}, None),
    ],
)
async def test_check_site_values(browser, setup, params, detail) -> None:
    await _signed_in(browser, "ana")
    response = await browser.get("/scan/check", params=params)
    if detail is None:
        assert response.status_code == 200, response.text
        assert response.json()["site"] is None
    else:
        assert response.status_code == 422
        assert response.json()["detail"] == detail


async def test_check_admin_needs_technician(browser, setup) -> None:
    await _signed_in(browser, "boss")
    missing = await browser.get("/scan/check", params={"action": "collect"})
    assert missing.status_code == 422
    assert missing.json()["extra"] == {"field": "technician"}
    unknown = await browser.get("/scan/check", params={"action": "collect", "technician": "999"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "Technician '999' not found."
    found = await browser.get("/scan/check", params={"action": "collect", "technician": "000456"})
    assert found.json()["technician"] == {"employee_number": "000456", "name": "Ben Okafor"}


async def test_service_worker_is_public(browser, setup) -> None:
    response = await browser.get("/scan/sw.js?v=abc")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/scan"
    assert response.headers["cache-control"] == "no-cache"
    assert 'const PAGE = "/scan";' in response.text
