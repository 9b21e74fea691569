"""Printing QR labels for devices from the API, the site page and the command line."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import zxingcpp
from litestar.testing import AsyncTestClient

from inventory.accounts.service import create_user
from tests.conftest import PASSWORD, sign_in, token_for
from tests.factories import make_world, receive, run_cli

BASE = "https://inventory.example.org"


def _decoded_urls(pdf: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(pdf)
    texts = []
    for page in document:
        image = page.render(scale=300 / 72).to_pil()
        texts += [
            result.text
            for result in zxingcpp.read_barcodes(image)
            if result.format == zxingcpp.BarcodeFormat.QRCode
        ]
    return sorted(texts)


async def _devices(db) -> None:
    await make_world(db)
    await receive(db, "000917")
    await receive(db, "000918")
    await receive(db, "B-1", site="02M019")


async def test_api_labels_decode_to_device_urls(client, db) -> None:
    await _devices(db)
    response = await client.get("/api/v1/labels.pdf", params={"site": "01M015"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-label-count"] == "2"
    assert _decoded_urls(response.content) == [f"{BASE}/a/000917", f"{BASE}/a/000918"]


async def test_api_labels_by_tags_and_template(client, db) -> None:
    await _devices(db)
    response = await client.get(
        "/api/v1/labels.pdf", params={"tags": "B-1, 000917", "template": "avery-l7160", "skip": 3}
    )
    assert response.status_code == 200, response.text
    assert _decoded_urls(response.content) == [f"{BASE}/a/000917", f"{BASE}/a/B-1"]


async def test_api_labels_errors(client, db) -> None:
    await _devices(db)
    missing = await client.get("/api/v1/labels.pdf", params={"tags": "NOPE"})
    assert missing.status_code == 404
    assert "NOPE" in missing.json()["detail"]
    template = await client.get("/api/v1/labels.pdf", params={"template": "avery-9999"})
    assert template.status_code == 422
    assert "avery-5160" in template.json()["detail"]
    skip = await client.get("/api/v1/labels.pdf", params={"skip": 30})
    assert skip.status_code == 422
    empty = await client.get("/api/v1/labels.pdf", params={"state": "recycled"})
    assert empty.status_code == 404


async def test_site_user_cannot_print_labels(anonymous_client, db) -> None:
    await _devices(db)
    token = await token_for(db, "ps15", "site", sites=["01M015"])
    response = await anonymous_client.get(
        "/api/v1/labels.pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403


async def test_site_page_labels_for_technician(app, db) -> None:
    await _devices(db)
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        await sign_in(browser, "ana")
        page = await browser.get("/sites/02M019")
        assert 'href="/sites/02M019/labels.pdf"' in page.text
        response = await browser.get("/sites/02M019/labels.pdf")
        assert response.status_code == 200
        assert _decoded_urls(response.content) == [f"{BASE}/a/B-1"]


async def test_labels_command(db, database_url: str, tmp_path: Path) -> None:
    await _devices(db)
    out = tmp_path / "labels.pdf"
    result = run_cli(
        database_url,
        "labels",
        "--out",
        str(out),
        "--tags",
        "000918,000917",
        "--template",
        "avery-5163",
        base_url=BASE,
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote 2 labels on 1 pages" in result.stdout
    assert _decoded_urls(out.read_bytes()) == [f"{BASE}/a/000917", f"{BASE}/a/000918"]
    listed = run_cli(database_url, "labels", "templates")
    assert "avery-5160" in listed.stdout
