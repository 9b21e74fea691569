"""The IT office's planning page."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient

from inventory.accounts.service import create_user
from inventory.db import Database
from inventory.plans import service
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world


def _form(page_client, **fields: str) -> dict[str, str]:
    return {"_csrf_token": page_client.cookies.get("inventory_csrf", ""), **fields}


async def test_plans_page_sets_days(page_client, db: Database) -> None:
    await make_world(db)
    await service.plans_from_enrollment(db, "2026-27", user="tester")
    page = await page_client.get("/plans/2026-27")
    assert page.status_code == 200, page.text
    assert "Manhattan" in page.text
    region = await page_client.get("/plans/2026-27", params={"region": "Manhattan"})
    assert "01M015" in region.text

    saved = await page_client.post(
        "/plans/2026-27/sites/01M015",
        data=_form(page_client, days="3", state="submitted", region="Manhattan"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "region=Manhattan" in saved.headers["location"]
    plan = await service.get_plan(db, "01M015", "2026-27")
    assert plan.days == 3
    assert plan.state == "submitted"

    rebuilt = await page_client.post(
        "/plans/2026-27/schedule", data=_form(page_client, region="Manhattan")
    )
    assert rebuilt.status_code == 200
    assert "Schedule rebuilt: 3 technician-days" in rebuilt.text
    assert "Ana Reyes" in rebuilt.text


async def test_plans_page_shows_rejection(page_client, db: Database) -> None:
    await make_world(db)
    await service.set_plan(db, "01M015", "2026-27", 3, user="tester")
    for state in ("submitted", "locked"):
        await service.set_plan_state(db, "01M015", "2026-27", state, user="tester", reason=None)
    response = await page_client.post(
        "/plans/2026-27/sites/01M015",
        data=_form(page_client, days="1", region="Manhattan"),
    )
    assert response.status_code == 200
    assert "may be increased but not reduced" in response.text
    plan = await service.get_plan(db, "01M015", "2026-27")
    assert plan.days == 3


async def test_plans_page_admin_only(app: Litestar, db: Database) -> None:
    await make_world(db)
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        anonymous = await browser.get("/plans/2026-27", follow_redirects=False)
        assert anonymous.status_code in (303, 401)
        assert (await sign_in(browser, "ana")).status_code == 303
        response = await browser.get("/plans/2026-27")
        assert response.status_code == 403
