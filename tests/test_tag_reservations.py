"""Reserving asset tags and printing their labels before the devices arrive."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import AsyncTestClient

from inventory.accounts.service import create_user
from inventory.devices.reservations import batch_tags, reserve_tags
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world, receive, run_cli
from tests.test_label_printing import BASE, _decoded_urls


async def test_reserve_continues_after_highest_tag(client, db) -> None:
    await make_world(db)
    await receive(db, "K-000041")
    response = await client.post(
        "/api/v1/tag-reservations", json={"count": 3, "prefix": "K-", "site": "01M015"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["tags"] == ["K-000042", "K-000043", "K-000044"]
    again = await client.post("/api/v1/tag-reservations", json={"count": 2, "prefix": "K-"})
    assert again.json()["tags"] == ["K-000045", "K-000046"]


async def test_batch_labels_decode(client, db) -> None:
    await make_world(db)
    batch = (
        await client.post("/api/v1/tag-reservations", json={"count": 2, "prefix": "P", "digits": 4})
    ).json()["batch"]
    pdf = await client.get("/api/v1/labels.pdf", params={"batch": batch})
    assert pdf.status_code == 200, pdf.text
    assert _decoded_urls(pdf.content) == [f"{BASE}/a/P0001", f"{BASE}/a/P0002"]


async def test_reserve_rejects_bad_input(client, db) -> None:
    await make_world(db)
    for body in (
        {"count": 0},
        {"count": 9000},
        {"count": 1, "prefix": "A/B"},
        {"count": 20, "prefix": "Z", "digits": 1},
    ):
        response = await client.post("/api/v1/tag-reservations", json=body)
        assert response.status_code in (400, 422), (body, response.text)


async def test_scanning_reserved_tag_offers_receive(app, db) -> None:
    await make_world(db)
    await create_user(db, "ana", "technician", PASSWORD, technician="000123")
    batch = await reserve_tags(db, count=1, prefix="R-", site="02M019")
    tag = batch.tags[0]
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as browser:
        await sign_in(browser, "ana")
        page = await browser.get(f"/a/{tag}")
        assert page.status_code == 404
        assert batch.batch in page.text
        assert 'value="02M019"' in page.text
    result = await receive(db, tag, site="02M019")
    assert result.event.data["reserved_batch"] == batch.batch
    assert await batch_tags(db, batch.batch) == []


async def test_reserve_command(db, database_url: str, tmp_path: Path) -> None:
    await make_world(db)
    out = tmp_path / "reserved.pdf"
    result = run_cli(
        database_url,
        "labels",
        "reserve",
        "--count",
        "3",
        "--prefix",
        "Q",
        "--digits",
        "5",
        "--site",
        "01M015",
        "--out",
        str(out),
        base_url=BASE,
    )
    assert result.returncode == 0, result.stderr
    assert "Reserved 3 tags (Q00001 to Q00003)" in result.stdout
    assert _decoded_urls(out.read_bytes()) == [f"{BASE}/a/Q0000{n}" for n in (1, 2, 3)]
