"""The import page: preview an upload, then import it; roles and the upload limit."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from inventory.accounts.service import create_user
from inventory.db import Database
from inventory.devices.models import Device
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world

BODY = (
    b"Asset Tag;Serial Number;Manufacturer;Model;Site\r\n"
    b"000101;SN1;Acer;Chromebook 311 (C722);01M015\r\n"
)


async def _devices(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Device)) or 0


def _form(client: AsyncTestClient, **fields: str) -> dict[str, str]:
    return {"_csrf_token": client.cookies.get("inventory_csrf", ""), **fields}


async def test_preview_then_import(page_client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    page = await page_client.get("/imports")
    assert page.status_code == 200
    assert "Preview" in page.text
    preview = await page_client.post(
        "/imports",
        data=_form(page_client, kind="devices", technician="000123", action="preview"),
        files={"file": ("fleet.csv", BODY, "text/csv")},
    )
    assert preview.status_code == 200, preview.text
    assert "Dry run, nothing written" in preview.text
    assert "&#39;Asset Tag&#39; -&gt; asset_tag" in preview.text
    assert await _devices(db) == 0
    done = await page_client.post(
        "/imports",
        data=_form(page_client, kind="devices", technician="000123", action="import"),
        files={"file": ("fleet.csv", BODY, "text/csv")},
    )
    assert done.status_code == 200, done.text
    assert "Imported: 1 rows" in done.text
    assert await _devices(db) == 1


async def test_rejected_rows_shown(page_client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    response = await page_client.post(
        "/imports",
        data=_form(page_client, kind="devices", technician="000123", action="import"),
        files={"file": ("fleet.csv", BODY.replace(b"SN1", b"6.37702E+15"), "text/csv")},
    )
    assert response.status_code == 422
    assert "scientific notation" in response.text
    assert await _devices(db) == 0


async def test_technician_cannot_import_sites(app, db: Database) -> None:
    await make_world(db)
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        assert (await sign_in(browser, "ana")).status_code == 303
        page = await browser.get("/imports")
        assert page.status_code == 200
        assert 'value="sites"' not in page.text
        response = await browser.post(
            "/imports",
            data=_form(browser, kind="sites", action="import"),
            files={"file": ("sites.csv", b"code,name\n01X001,School\n", "text/csv")},
        )
        assert response.status_code == 403
