"""The pages in headless Chromium against a real server: a device's scan page, scan sessions
and scans kept on the phone while it is offline.

Uses Debian's /usr/bin/chromium through Playwright (no browser download). Without it the
tests are skipped, except under CI, where they must run.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    Route,
    ViewportSize,
    async_playwright,
    expect,
)
from sqlalchemy import select
from sqlmodel import col

from inventory.accounts.service import create_user
from inventory.devices.models import Device, DeviceEvent
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from tests.conftest import PASSWORD
from tests.factories import make_world, receive

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_PRESENT = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A phone held upright: the scan page is laid out for this first.
PHONE: ViewportSize = {"width": 412, "height": 915}
ENROLL = {
    "operating_system": "ChromeOS",
    "management_profile": "students",
    "user_profile_kind": "student",
}
# How long a result may take to show: a request to the local server, or a retry timer.
RESULT_TIMEOUT_MS = 15_000
expect.set_options(timeout=RESULT_TIMEOUT_MS)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM_PRESENT:
        message = f"{CHROMIUM} is missing; install it with `apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the browser tests")
        pytest.skip(message)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _context(browser: Browser, **options: Any) -> BrowserContext:
    context = await browser.new_context(viewport=PHONE, **options)
    context.set_default_timeout(RESULT_TIMEOUT_MS)
    return context


@pytest.fixture
async def devices(db) -> None:
    """Deployed 0042 to 0045, enrolled 0050, and the technician user ana, all at 01M015."""
    await make_world(db)
    earlier = datetime.now(UTC) - timedelta(days=1)
    for tag in ("0042", "0043", "0044", "0045", "0050"):
        await receive(db, tag, occurred_at=earlier)
        await apply_action(
            db,
            tag,
            ActionRequest(action="enroll", technician="000123", data=ENROLL, occurred_at=earlier),
        )
        if tag != "0050":
            await apply_action(
                db,
                tag,
                ActionRequest(
                    action="deploy", technician="000123", data={"room": "7"}, occurred_at=earlier
                ),
            )
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")


async def _sign_in(page: Page, base: str, next_path: str) -> None:
    await page.goto(f"{base}/login?next={quote(next_path, safe='')}")
    await page.fill("#login-username", "ana")
    await page.fill("#login-password", PASSWORD)
    await page.click("button:text('Sign in')")
    await page.wait_for_url(f"{base}{next_path}")


async def _start_session(page: Page, base: str, action_label: str) -> None:
    await _sign_in(page, base, "/scan")
    await page.get_by_label(action_label).check()
    await page.click("button:text('Start scanning')")
    await expect(page.locator("#scan-session")).to_be_visible()
    await expect(page.locator("#scan-input")).to_be_focused()


async def _scan(page: Page, text: str) -> None:
    """Type into the focused field as a handheld scanner does: the text, then Enter."""
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")


def _row(page: Page, tag: str, status: str | None = None):
    """Return the list entry of a tag, or of a tag in one status when it was scanned twice."""
    rows = page.locator(f"#scan-list li[data-status={status}]" if status else "#scan-list li")
    return rows.filter(has=page.locator(".scan-tag", has_text=re.compile(f"^{re.escape(tag)}$")))


async def _expect_counts(page: Page, **counts: int) -> None:
    for status, value in counts.items():
        await expect(page.locator(f"#scan-count-{status}")).to_have_text(str(value))


async def _events(db, tag: str, action: str) -> int:
    async with db.read() as session:
        rows = await session.scalars(
            select(col(DeviceEvent.id))
            .join(Device, col(Device.id) == col(DeviceEvent.device_id))
            .where(col(Device.asset_tag) == tag, col(DeviceEvent.action) == action)
        )
        return len(list(rows))


async def test_device_page_action_in_history(browser, db, devices, live_server) -> None:
    await receive(db, "0100")
    context = await _context(browser)
    page = await context.new_page()
    await _sign_in(page, live_server, "/a/0100")
    await page.click("#action-enroll summary")
    await page.fill("#enroll-operating_system", "ChromeOS 124")
    await page.fill("#enroll-management_profile", "students/grade-5")
    await page.select_option("#enroll-user_profile_kind", "student")
    await page.click("#action-enroll button[type=submit]")
    await page.wait_for_url(f"{live_server}/a/0100?done=enroll")
    await expect(page.locator(".form-notice")).to_have_text("Enroll recorded.")
    newest = page.locator("ol.history li.event").last
    await expect(newest.locator("strong.action")).to_have_text("Enroll")
    await expect(newest).to_contain_text("Ana Reyes")
    await expect(newest).to_contain_text("ChromeOS 124")
    assert await _events(db, "0100", "enroll") == 1
    await context.close()


async def test_scan_session_lists_each_result(browser, db, devices, live_server) -> None:
    context = await _context(browser)
    page = await context.new_page()
    await _start_session(page, live_server, "Collect")
    await expect(page.locator("#scan-session-heading")).to_have_text("Collect")
    await expect(page.locator("#scan-camera-note")).to_contain_text("BarcodeDetector")
    await _scan(page, "0042")
    await _scan(page, "http://127.0.0.1:8000/a/0043")
    await _scan(page, "NOPE-9")
    await _scan(page, "0050")
    await _scan(page, "0042")

    await _expect_counts(page, done=2, failed=2, waiting=0, duplicate=1)
    for tag in ("0042", "0043"):
        await expect(_row(page, tag, "done").locator(".scan-result")).to_have_text("Enrolled")
    unknown = _row(page, "NOPE-9")
    await expect(unknown).to_have_attribute("data-status", "failed")
    await expect(unknown.locator(".scan-result")).to_have_text("Unknown asset tag")
    await expect(unknown.locator(".scan-detail")).to_have_text(
        "Device with asset tag 'NOPE-9' not found."
    )
    forbidden = _row(page, "0050")
    await expect(forbidden).to_have_attribute("data-status", "failed")
    await expect(forbidden.locator(".scan-result")).to_have_text(
        "Already in stock: the device is Enrolled"
    )
    await expect(forbidden.locator(".scan-detail")).to_contain_text("allowed: deploy")
    newest = page.locator("#scan-list li").first
    await expect(newest).to_have_attribute("data-status", "duplicate")
    await expect(newest.locator(".scan-tag")).to_have_text("0042")
    await expect(newest.locator(".scan-result")).to_contain_text("Already scanned")
    await expect(page.locator("#scan-input")).to_be_focused()

    assert await _events(db, "0042", "collect") == 1
    assert await _events(db, "0043", "collect") == 1
    assert await _events(db, "0050", "collect") == 0
    await context.close()


async def test_offline_scan_sent_once(browser, db, devices, live_server) -> None:
    context = await _context(browser)
    page = await context.new_page()
    await _start_session(page, live_server, "Collect")
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await _scan(page, "0042")
    await expect(_row(page, "0042")).to_have_attribute("data-status", "done")

    await context.set_offline(True)
    await _scan(page, "0043")
    waiting = _row(page, "0043")
    await expect(waiting).to_have_attribute("data-status", "waiting")
    await expect(waiting.locator(".scan-status")).to_have_text("Waiting")
    await expect(page.locator("#scan-connection")).to_contain_text("Offline")
    await _expect_counts(page, done=1, waiting=1)
    # The service worker serves the cached page, and the waiting scan is still listed.
    await page.reload()
    await expect(_row(page, "0043")).to_have_attribute("data-status", "waiting")
    assert await _events(db, "0043", "collect") == 0

    await context.set_offline(False)
    await expect(_row(page, "0043")).to_have_attribute("data-status", "done")
    await _expect_counts(page, done=2, waiting=0)
    assert await _events(db, "0043", "collect") == 1

    await page.goto(f"{live_server}/a/0043")
    collects = page.locator("ol.history strong.action", has_text=re.compile("^Collect$"))
    await expect(collects).to_have_count(1)
    await context.close()


async def test_lost_response_applied_once(browser, db, devices, live_server) -> None:
    # Blocked service workers, so that every request of the page passes the route below.
    context = await _context(browser, service_workers="block")
    page = await context.new_page()
    keys: list[str] = []
    first_status: list[int] = []

    async def lose_first_response(route: Route) -> None:
        body = route.request.post_data_json
        assert isinstance(body, dict)
        keys.append(body["idempotency_key"])
        if len(keys) > 1:
            await route.continue_()
            return
        # The server applies the scan, but its response never reaches the page.
        first_status.append((await route.fetch()).status)
        await route.abort("connectionreset")

    await page.route("**/scan/apply", lose_first_response)
    await _start_session(page, live_server, "Seen in audit")
    await _scan(page, "0044")
    await expect(_row(page, "0044")).to_have_attribute("data-status", "done")
    assert first_status == [200]
    assert len(keys) >= 2
    assert len(set(keys)) == 1
    assert await _events(db, "0044", "audit_seen") == 1
    await context.close()


# Linux Chromium has no BarcodeDetector and the test machine has no camera, so the page gets
# a stand-in for both: a canvas stream as the camera, and a detector that reports whatever
# the test puts in window.labelsInView.
FAKE_CAMERA = """
window.labelsInView = [];
window.BarcodeDetector = class {
  static async getSupportedFormats() { return ["qr_code"]; }
  async detect() { return window.labelsInView.map((rawValue) => ({ rawValue })); }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 32;
  canvas.height = 32;
  const context = canvas.getContext("2d");
  setInterval(() => context.fillRect(0, 0, 1, 1), 100);
  return canvas.captureStream(10);
};
"""


async def test_camera_applies_each_label_once(browser, db, devices, live_server) -> None:
    context = await _context(browser)
    await context.add_init_script(FAKE_CAMERA)
    page = await context.new_page()
    await _start_session(page, live_server, "Seen in audit")
    await page.click("#scan-camera-toggle")
    await expect(page.locator("#scan-camera-view")).to_be_visible()
    await page.evaluate("window.labelsInView = ['http://127.0.0.1:8000/a/0042']")
    await expect(_row(page, "0042")).to_have_attribute("data-status", "done")
    # The label stays in view for a second: it is read many times but applied once.
    await page.wait_for_timeout(1000)
    await page.evaluate("window.labelsInView = ['http://127.0.0.1:8000/a/0043']")
    await expect(_row(page, "0043")).to_have_attribute("data-status", "done")
    await expect(page.locator("#scan-list li")).to_have_count(2)
    await _expect_counts(page, done=2, duplicate=0)
    await page.click("#scan-camera-toggle")
    await expect(page.locator("#scan-camera-view")).to_be_hidden()
    assert await _events(db, "0042", "audit_seen") == 1
    await context.close()
