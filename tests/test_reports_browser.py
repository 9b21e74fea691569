"""A site report in headless Chromium: its charts, figures and printed layout."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.test_browser import _context, _sign_in, browser, devices  # noqa: F401

pytestmark = pytest.mark.browser


async def test_site_report_shows_charts_and_figures(
    browser,  # noqa: F811
    db,
    devices,  # noqa: F811
    live_server,
) -> None:
    context = await _context(browser)
    page = await context.new_page()
    console_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    await _sign_in(page, live_server, "/sites/01M015/report")

    figures = page.locator("#key_figures .key-figures div")
    await expect(figures.filter(has_text="Devices in service").locator("dd")).to_have_text("5")
    await expect(figures.filter(has_text="Deployed").locator("dd")).to_have_text("4")
    charts = page.locator("svg.chart")
    assert await charts.count() >= 5
    state_chart = page.locator("#by_state svg.chart")
    await expect(state_chart).to_have_attribute("aria-label", "Devices by state")
    await expect(state_chart.locator("text.chart-value")).to_have_text(["1", "4"])
    box = await state_chart.bounding_box()
    assert box is not None
    # The chart fits the phone's width instead of running off the screen.
    assert box["width"] <= 412
    assert console_errors == []

    await page.emulate_media(media="print")
    await expect(page.locator(".report-period")).to_be_hidden()
    await expect(state_chart).to_be_visible()
    await context.close()
