"""Signing in to the pages: sessions, CSRF, expiry, throttling and scope."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from inventory.accounts.models import WebSession
from inventory.accounts.service import create_user
from inventory.types import utc_now
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world, receive

HTTPS = "https://testserver.local"


@pytest.fixture
async def browser(app):
    async with AsyncTestClient(app=app, base_url=HTTPS) as client:
        yield client


@pytest.fixture
async def users(db) -> None:
    await make_world(db)
    await receive(db, "0042")
    await receive(db, "0099", site="02M019")
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    await create_user(db, "ps15", "site", PASSWORD, sites=["01M015"])


async def test_pages_redirect_to_sign_in(browser, users) -> None:
    response = await browser.get("/a/0042", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fa%2F0042"


async def test_sign_in_sets_safe_cookie_and_returns(browser, users) -> None:
    await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "username": " ANA ",
            "password": PASSWORD,
            "next": "/a/0042",
            "_csrf_token": browser.cookies.get("inventory_csrf"),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/a/0042"
    cookie = next(
        value
        for value in response.headers.get_list("set-cookie")
        if value.startswith("inventory_session=")
    )
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    page = await browser.get("/a/0042")
    assert page.status_code == 200
    assert "ana" in page.text


async def test_wrong_password_and_unknown_user_look_the_same(browser, users) -> None:
    wrong = await sign_in(browser, "ana", "not the password")
    unknown = await sign_in(browser, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert wrong.text.replace("ana", "X") == unknown.text.replace("nobody", "X")


async def test_form_post_without_csrf_token_is_403(browser, users) -> None:
    await browser.get("/login")
    response = await browser.post("/login", data={"username": "ana", "password": PASSWORD})
    assert response.status_code == 403
    await sign_in(browser, "ana")
    logout = await browser.post("/logout", data={})
    assert logout.status_code == 403


async def test_sign_out_ends_session(browser, users) -> None:
    await sign_in(browser, "ana")
    cookie = browser.cookies.get("inventory_session")
    response = await browser.post(
        "/logout",
        data={"_csrf_token": browser.cookies.get("inventory_csrf")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    browser.cookies.set("inventory_session", cookie, domain="testserver.local")
    again = await browser.get("/", follow_redirects=False)
    assert again.status_code == 303


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
async def test_session_expires(browser, db, users, column: str) -> None:
    await sign_in(browser, "ana")
    assert (await browser.get("/", follow_redirects=False)).status_code == 200
    async with db.write() as session:
        await session.execute(update(WebSession).values(**{column: utc_now() - timedelta(days=2)}))
    assert (await browser.get("/", follow_redirects=False)).status_code == 303


async def test_failed_sign_ins_throttled_per_user(browser, users) -> None:
    for _ in range(5):
        assert (await sign_in(browser, "ana", "bad password")).status_code == 401
    throttled = await sign_in(browser, "ana", PASSWORD)
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    # Another user from the same address is not yet throttled.
    assert (await sign_in(browser, "ps15")).status_code == 303


async def test_failed_sign_ins_throttled_per_address(browser, users) -> None:
    for number in range(20):
        await sign_in(browser, f"guess{number}", "bad password")
    assert (await sign_in(browser, "ana")).status_code == 429


async def test_session_cookie_does_not_open_the_api(browser, users) -> None:
    await sign_in(browser, "ana")
    response = await browser.get("/api/v1/devices")
    assert response.status_code == 401


async def test_site_user_sees_only_own_sites(browser, users) -> None:
    await sign_in(browser, "ps15")
    home = await browser.get("/")
    assert "01M015" in home.text
    assert "02M019" not in home.text
    assert (await browser.get("/a/0042")).status_code == 200
    assert (await browser.get("/a/0099")).status_code == 404
    assert (await browser.get("/sites/02M019")).status_code == 404


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
async def test_next_cannot_leave_the_site(browser, users, target: str) -> None:
    await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "username": "ana",
            "password": PASSWORD,
            "next": target,
            "_csrf_token": browser.cookies.get("inventory_csrf"),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


async def test_password_never_logged(browser, users, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    await sign_in(browser, "ana", "a-secret-guess-123")
    await sign_in(browser, "ana")
    assert "a-secret-guess-123" not in caplog.text
    assert PASSWORD not in caplog.text
