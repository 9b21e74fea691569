"""The scan page's action forms and receiving a device under an unused tag."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from inventory.accounts.service import create_user
from inventory.devices.models import DeviceEvent
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world, receive


@pytest.fixture
async def setup(db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    await create_user(db, "ps15", "site", PASSWORD, sites=["01M015"])
    await create_user(db, "boss", "admin", PASSWORD)


@pytest.fixture
async def browser(app):
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        yield client


def _hidden(html: str, action: str, name: str) -> str:
    form = html[html.index(f'id="action-{action}"') :]
    match = re.search(rf'name="{name}" value="([^"]*)"', form)
    assert match, (action, name)
    return match.group(1)


async def _post_action(browser, tag: str, action: str, fields: dict, page: str | None = None):
    page = page or (await browser.get(f"/a/{tag}")).text
    form = {
        "_csrf_token": browser.cookies.get("inventory_csrf"),
        "action": action,
        "expected_state": _hidden(page, action, "expected_state"),
        "idempotency_key": _hidden(page, action, "idempotency_key"),
        **fields,
    }
    return await browser.post(f"/a/{tag}/actions", data=form, follow_redirects=False)


async def _events(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(DeviceEvent))


async def test_technician_sees_allowed_actions(browser, setup) -> None:
    await sign_in(browser, "ana")
    page = (await browser.get("/a/0042")).text
    for action in ("enroll", "transfer", "request_salvage", "report_lost"):
        assert f'id="action-{action}"' in page
    assert 'id="action-deploy"' not in page
    assert 'name="technician"' not in page


async def test_action_form_records_event(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    response = await _post_action(
        browser,
        "0042",
        "enroll",
        {
            "operating_system": "ChromeOS",
            "management_profile": "students",
            "user_profile_kind": "student",
            "notes": "new cart",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/a/0042?done=enroll"
    page = (await browser.get(response.headers["location"])).text
    assert "Enroll recorded." in page
    assert "Ana Reyes" in page
    assert 'id="action-deploy"' in page


async def test_resent_form_applied_once(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    page = (await browser.get("/a/0042")).text
    first = await _post_action(browser, "0042", "request_salvage", {"reason": "old"}, page)
    again = await _post_action(browser, "0042", "request_salvage", {"reason": "old"}, page)
    assert first.status_code == 303
    assert again.status_code == 303
    assert await _events(db) == 2


async def test_missing_field_shows_error_and_keeps_input(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    response = await _post_action(
        browser, "0042", "enroll", {"operating_system": "ChromeOS", "notes": "keep me"}
    )
    assert response.status_code == 422
    assert "management_profile" in response.text
    assert "keep me" in response.text
    assert 'id="action-enroll" open' in response.text
    assert await _events(db) == 1


async def test_stale_page_gets_conflict(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    page = (await browser.get("/a/0042")).text
    await _post_action(browser, "0042", "report_lost", {}, page)
    stale = await _post_action(browser, "0042", "request_salvage", {"reason": "old"}, page)
    assert stale.status_code == 409
    assert "lost" in stale.text


async def test_site_user_only_reports_problems(browser, db, setup) -> None:
    await sign_in(browser, "ps15")
    page = (await browser.get("/a/0042")).text
    assert 'id="action-report_problem"' in page
    assert 'id="action-enroll"' not in page
    response = await _post_action(browser, "0042", "report_problem", {"problem": "cracked"}, page)
    assert response.status_code == 303
    forged = await browser.post(
        "/a/0042/actions",
        data={
            "_csrf_token": browser.cookies.get("inventory_csrf"),
            "action": "report_lost",
        },
    )
    assert forged.status_code == 403
    assert await _events(db) == 2


async def test_admin_names_technician(browser, db, setup) -> None:
    await sign_in(browser, "boss")
    page = (await browser.get("/a/0042")).text
    assert 'id="enroll-technician"' in page
    response = await _post_action(
        browser,
        "0042",
        "report_lost",
        {"technician": "000456"},
        page,
    )
    assert response.status_code == 303
    history = (await browser.get("/a/0042")).text
    assert "Ben Okafor" in history
    assert "boss" in history


async def test_receive_under_unused_tag(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    page = await browser.get("/a/PRE-0001")
    assert page.status_code == 404
    assert "Receive a device under PRE-0001" in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)
    form = {
        "_csrf_token": browser.cookies.get("inventory_csrf"),
        "idempotency_key": key,
        "serial_number": "NXNEW1",
        "manufacturer": "Acer",
        "model": "Chromebook 311 (C722)",
        "site": "01M015",
        "warranty_start": "2026-08-25",
        "warranty_end": "2029-08-24",
    }
    response = await browser.post("/a/PRE-0001/receive", data=form, follow_redirects=False)
    assert response.status_code == 303, response.text
    device = await browser.get("/a/PRE-0001")
    assert device.status_code == 200
    assert "Ana Reyes" in device.text
    again = await browser.post("/a/PRE-0001/receive", data=form, follow_redirects=False)
    assert again.status_code == 303


async def test_receive_errors_stay_on_form(browser, db, setup) -> None:
    await sign_in(browser, "ana")
    await browser.get("/a/PRE-0002")
    form = {
        "_csrf_token": browser.cookies.get("inventory_csrf"),
        "serial_number": "NXNEW2",
        "manufacturer": "Acer",
        "model": "Chromebook 311 (C722)",
        "site": "01M015",
        "warranty_start": "2026-08-25",
        "warranty_end": "2026-08-24",
    }
    response = await browser.post("/a/PRE-0002/receive", data=form)
    assert response.status_code == 422
    assert "before warranty_start" in response.text
    assert "NXNEW2" in response.text


async def test_site_user_cannot_receive(browser, setup) -> None:
    await sign_in(browser, "ps15")
    page = await browser.get("/a/PRE-0003")
    assert "Receive a device" not in page.text
    response = await browser.post(
        "/a/PRE-0003/receive", data={"_csrf_token": browser.cookies.get("inventory_csrf")}
    )
    assert response.status_code == 403
