"""The import API: preview, import, the upload limit, roles, and the device CSV export."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from inventory.app import create_app
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceEvent
from inventory.imports.formats import DEVICE_TEMPLATE
from tests.conftest import token_for
from tests.factories import make_world, receive

BODY = (
    b"asset_tag,serial_number,manufacturer,model,site\n"
    b"000101,SN1,Acer,Chromebook 311 (C722),01M015\n"
    b"000102,SN2,Acer,Chromebook 311 (C722),02M019\n"
)
CSV = {"Content-Type": "text/csv"}


async def _devices(db: Database) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Device)) or 0


async def test_preview_then_import(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    preview = await client.post(
        "/api/v1/imports/devices",
        params={"dry_run": "true", "technician": "000123", "filename": "fleet.csv"},
        content=BODY,
        headers=CSV,
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["counts"]["created"] == 2
    assert body["committed"] is False
    assert "'asset_tag' -> asset_tag" in body["mapping"]
    assert body["source"] == "fleet.csv"
    assert await _devices(db) == 0

    done = await client.post(
        "/api/v1/imports/devices", params={"technician": "000123"}, content=BODY, headers=CSV
    )
    assert done.status_code == 200, done.text
    assert done.json()["committed"] is True
    assert await _devices(db) == 2
    async with db.read() as session:
        actor = await session.scalar(select(DeviceEvent.actor))
    assert actor == "test-admin"


async def test_rejected_rows_give_422_and_csv_report(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await receive(db, "000101", serial="SN1")
    response = await client.post(
        "/api/v1/imports/devices",
        params={"technician": "000123", "report_format": "csv"},
        content=BODY,
        headers=CSV,
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0] == "line,key,outcome,reasons"
    assert lines[1].startswith("2,000101,rejected,asset tag '000101' is already used")
    assert lines[2] == "3,000102,created,"
    assert await _devices(db) == 1


async def test_oversize_upload_gets_413(settings: Settings, db: Database) -> None:
    small = settings.model_copy(update={"import_max_bytes": 1024})
    token = await token_for(db, "admin-413")
    app: Litestar = create_app(small)
    async with AsyncTestClient(app=app) as test_client:
        response = await test_client.post(
            "/api/v1/imports/devices",
            params={"technician": "000123"},
            content=BODY + b"x" * 2048,
            headers={**CSV, "Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 413
    assert "1,024 bytes" in response.json()["detail"]
    assert response.json()["extra"] == {"max_bytes": 1024}


async def test_technician_imports_as_themselves(anonymous_client: AsyncTestClient, db) -> None:
    await make_world(db)
    token = await token_for(db, "ana", "technician", technician="000123")
    headers = {**CSV, "Authorization": f"Bearer {token}"}
    response = await anonymous_client.post(
        "/api/v1/imports/devices", params={"technician": "000456"}, content=BODY, headers=headers
    )
    assert response.status_code == 403
    response = await anonymous_client.post("/api/v1/imports/devices", content=BODY, headers=headers)
    assert response.status_code == 200, response.text
    async with db.read() as session:
        names = set(await session.scalars(select(DeviceEvent.technician_name)))
    assert names == {"Ana Reyes"}


async def test_site_user_cannot_import(anonymous_client: AsyncTestClient, db: Database) -> None:
    world = await make_world(db)
    token = await token_for(db, "school", "site", sites=[world["sites"][0].code])
    response = await anonymous_client.post(
        "/api/v1/imports/devices",
        content=BODY,
        headers={**CSV, "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


async def test_sites_upload(client: AsyncTestClient, db: Database) -> None:
    response = await client.post(
        "/api/v1/imports/sites",
        content=b"DBN,Name,total_enrollment\n01M015,P.S. 015 ROBERTO CLEMENTE   ,189\n",
        headers=CSV,
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 1


async def test_device_csv_export(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042", serial="=SUM(A1)")
    response = await client.get("/api/v1/devices.csv")
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(DEVICE_TEMPLATE)
    assert lines[1].startswith("0042,'=SUM(A1),Acer,Chromebook 311 (C722),")
    missing = await client.get("/api/v1/devices.csv", params={"site": "NOPE"})
    assert missing.status_code == 404
