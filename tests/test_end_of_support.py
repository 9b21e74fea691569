"""End of support: model dates from a list, device overrides, and the forecast."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from inventory.db import Database
from inventory.devices import catalog
from inventory.devices.models import Device, DeviceModel
from inventory.devices.schemas import DeviceModelCreate
from inventory.fiscal import FiscalYear
from inventory.salvage.end_of_support import forecast, parse_end_of_support
from inventory.sites.models import Site
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from tests.factories import make_world, receive, run_cli


def test_parse_end_of_support_precision() -> None:
    assert parse_end_of_support("2027") == (date(2027, 1, 1), "year")
    assert parse_end_of_support(" 2027-06 ") == (date(2027, 6, 1), "month")
    assert parse_end_of_support("2027-06-30") == (date(2027, 6, 30), "day")


@pytest.mark.parametrize("text", ["June 2027", "27", "2027-6", ""])
def test_parse_end_of_support_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a year"):
        parse_end_of_support(text)


async def _generated_fleet(db: Database, seed: int) -> list[tuple[str, date | None, str]]:
    """Insert a random fleet; return each device's site, expected end of support and state."""
    rng = random.Random(seed)
    await make_world(db)
    await create_site(db, SiteCreate(code="03X100", name="Bronx School", region="Bronx"))
    years = [2025, 2026, 2027, 2028, 2029, 2030, 2032, None]
    model_ids: dict[int, date | None] = {}
    for index, year in enumerate(years):
        end = date(year, rng.choice([1, 6, 7, 12]), 1) if year else None
        model = await catalog.create_device_model(
            db,
            DeviceModelCreate(
                manufacturer="Acme",
                model=f"Book {index}",
                device_type="chromebook",
                end_of_support=end,
                end_of_support_precision="month" if end else None,
            ),
        )
        model_ids[model.id] = end
    states = ["enrolled", "deployed", "in_repair", "received", "lost", "recycled", "harvested"]
    fleet = []
    async with db.write() as session:
        site_ids = {
            code: site_id for code, site_id in await session.execute(select(Site.code, Site.id))
        }
        for number in range(400):
            model_id = rng.choice(list(model_ids))
            code = rng.choice(sorted(site_ids))
            state = rng.choice(states)
            session.add(
                Device(
                    asset_tag=f"G{number:05d}",
                    serial_number=f"S{number:05d}",
                    manufacturer_key="acme",
                    model_id=model_id,
                    site_id=site_ids[code],
                    state=state,
                )
            )
            fleet.append((code, model_ids[model_id], state))
    return fleet


async def test_forecast_equals_direct_count(db: Database) -> None:
    fleet = await _generated_fleet(db, seed=7)
    first = FiscalYear(2026)

    result = await forecast(db, first_year="2026-27", years=4)

    counted = {"enrolled", "deployed", "in_repair", "received"}
    expected: Counter[tuple[str, str]] = Counter()
    before = 0
    for code, end, state in fleet:
        if end is None or state not in counted:
            continue
        if end < first.start:
            before += 1
        elif end <= FiscalYear(2029).end:
            expected[(code, FiscalYear.containing(end).label)] += 1
    got = {(row.site, row.fiscal_year): row.devices for row in result.rows}
    assert got == dict(expected)
    assert result.already_unsupported == before
    assert result.first_fiscal_year == "2026-27"
    assert result.last_fiscal_year == "2029-30"
    assert sum(got.values()) > 0


async def test_forecast_for_one_site(db: Database) -> None:
    fleet = await _generated_fleet(db, seed=11)
    result = await forecast(db, site_code="02M019", first_year="2024-25", years=10)
    assert {row.site for row in result.rows} == {"02M019"}
    expected = sum(
        1
        for code, end, state in fleet
        if code == "02M019"
        and end is not None
        and state in {"enrolled", "deployed", "in_repair", "received"}
        and end >= date(2024, 7, 1)
    )
    assert sum(row.devices for row in result.rows) == expected


async def test_device_override_moves_forecast(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    await receive(db, "0042")
    base = (
        await client.get("/api/v1/end-of-support/forecast", params={"first_year": "2026-27"})
    ).json()
    assert [(row["fiscal_year"], row["devices"]) for row in base["rows"]] == [("2028-29", 1)]

    override = await client.put(
        "/api/v1/devices/0042/end-of-support",
        json={"end_of_support": "2027-03-01", "precision": "month", "reason": "Board failing"},
    )
    assert override.status_code == 200, override.text
    moved = (
        await client.get("/api/v1/end-of-support/forecast", params={"first_year": "2026-27"})
    ).json()
    assert [(row["fiscal_year"], row["devices"]) for row in moved["rows"]] == [("2026-27", 1)]
    record = (await client.get("/api/v1/devices/0042/salvage")).json()
    assert record["end_of_support"] == "2027-03-01"
    assert record["end_of_support_source"] == "device"

    cleared = await client.delete("/api/v1/devices/0042/end-of-support")
    assert cleared.status_code == 204
    record = (await client.get("/api/v1/devices/0042/salvage")).json()
    assert record["end_of_support_source"] == "model"
    again = await client.delete("/api/v1/devices/0042/end-of-support")
    assert again.status_code == 404


async def test_forecast_input_is_checked(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    bad_year = await client.get("/api/v1/end-of-support/forecast", params={"first_year": "2026"})
    assert bad_year.status_code == 422
    assert "2026-27" in bad_year.json()["detail"]
    too_long = await client.get("/api/v1/end-of-support/forecast", params={"years": 99})
    assert too_long.status_code == 422


async def test_import_matches_exact_names_only(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    for name in ("Macbook Air 5,1", "MacBook Air 6,1"):
        await catalog.create_device_model(
            db, DeviceModelCreate(manufacturer="Apple", model=name, device_type="laptop")
        )
    body = (
        "manufacturer,model,end_of_support\n"
        "ACER,  chromebook   311 (c722) ,2030-06\n"
        "Acer,Chromebook 311,2031\n"
        'Apple,"macbook air 5,1",2024\n'
        'Apple,"MacBook Air 6,1",2025-09-30\n'
    )
    dry = await client.post(
        "/api/v1/device-models/end-of-support",
        content=body.encode(),
        params={"dry_run": "true"},
        headers={"Content-Type": "text/csv"},
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["updated"] == 3
    async with db.read() as session:
        unchanged = await session.scalar(
            select(DeviceModel.end_of_support).where(DeviceModel.model == "Chromebook 311 (C722)")
        )
    assert unchanged == date(2029, 6, 1)

    response = await client.post(
        "/api/v1/device-models/end-of-support",
        content=body.encode(),
        headers={"Content-Type": "text/csv"},
    )
    report = response.json()
    assert report["updated"] == 3
    assert report["unmatched"] == ["Acer Chromebook 311"]
    async with db.read() as session:
        dates = dict(
            (
                await session.execute(
                    select(DeviceModel.model, DeviceModel.end_of_support_precision)
                )
            ).all()
        )
    assert dates == {
        "Chromebook 311 (C722)": "month",
        "Macbook Air 5,1": "year",
        "MacBook Air 6,1": "day",
    }


async def test_import_rejects_malformed_file(client: AsyncTestClient, db: Database) -> None:
    await make_world(db)
    wrong_columns = await client.post(
        "/api/v1/device-models/end-of-support",
        content=b"maker,name,aue\nAcer,X,2030\n",
        headers={"Content-Type": "text/csv"},
    )
    assert wrong_columns.status_code == 422
    assert "end_of_support" in wrong_columns.json()["detail"]
    bad_date = await client.post(
        "/api/v1/device-models/end-of-support",
        content=b"manufacturer,model,end_of_support\nAcer,Chromebook 311 (C722),soon\n",
        headers={"Content-Type": "text/csv"},
    )
    assert bad_date.status_code == 422
    assert "Line 2" in bad_date.json()["detail"]


async def test_cli_import_and_forecast(database_url: str, db: Database, tmp_path) -> None:
    await make_world(db)
    await receive(db, "0042")
    path = tmp_path / "aue.csv"
    path.write_text("manufacturer,model,end_of_support\nAcer,Chromebook 311 (C722),2027\n")
    imported = run_cli(database_url, "end-of-support", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    assert "updated 1" in imported.stdout
    result = run_cli(
        database_url, "end-of-support", "forecast", "--first-year", "2026-27", "--years", "2"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["site,fiscal_year,devices", "01M015,2026-27,1"]
