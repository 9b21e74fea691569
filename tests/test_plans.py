"""Rate cards, service plans and the schedule through the API and the command line."""

from __future__ import annotations

from decimal import Decimal

from inventory.db import Database
from inventory.plans import service
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site
from tests.conftest import token_for
from tests.factories import make_world, run_cli

YEAR = "/api/v1/fiscal-years/2026-27"


async def test_rate_card_gives_published_rates(client, db: Database) -> None:
    response = await client.put(f"{YEAR}/rate-card", json={"annual_cost": "130753"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provisional"] is True
    rates = {int(days): Decimal(rate) for days, rate in body["day_rates"].items()}
    assert rates == {1: 26151, 2: 52301, 3: 78452, 4: 104602, 5: 130753}


async def test_final_rates_recost_plans(client, db: Database) -> None:
    await make_world(db)
    await client.put(f"{YEAR}/rate-card", json={"annual_cost": "120000"})
    created = await client.post(f"{YEAR}/plans/from-enrollment")
    assert created.json() == {"created": 2}
    plan = (await client.get(f"{YEAR}/plans/01M015")).json()
    assert plan["days"] == 2
    assert plan["recommended_days"] == 2
    assert Decimal(plan["annual_cost"]) == 48000
    assert plan["cost_provisional"] is True

    final = await client.put(
        f"{YEAR}/rate-card", json={"annual_cost": "130753", "provisional": False}
    )
    assert final.json()["plans_recosted"] == 2
    plan = (await client.get(f"{YEAR}/plans/01M015")).json()
    assert Decimal(plan["annual_cost"]) == 52301
    assert plan["cost_provisional"] is False
    history = (await client.get(f"{YEAR}/plans/01M015/history")).json()
    assert [change["kind"] for change in history] == ["created", "cost"]
    assert Decimal(history[1]["old_value"]) == 48000
    assert Decimal(history[1]["new_value"]) == 52301
    assert "final rate card" in history[1]["reason"]

    back = await client.put(f"{YEAR}/rate-card", json={"annual_cost": "1", "provisional": True})
    assert back.status_code == 409


async def test_locked_plan_refuses_reduction(client, db: Database) -> None:
    await make_world(db)
    assert (await client.put(f"{YEAR}/plans/01M015", json={"days": 3})).status_code == 200
    for state in ("submitted", "locked"):
        response = await client.post(f"{YEAR}/plans/01M015/state", json={"state": state})
        assert response.status_code == 200, response.text

    reduced = await client.put(f"{YEAR}/plans/01M015", json={"days": 2})
    assert reduced.status_code == 409
    assert "locked" in reduced.json()["detail"]
    cancelled = await client.post(f"{YEAR}/plans/01M015/state", json={"state": "cancelled"})
    assert cancelled.status_code == 409
    assert "cannot be cancelled" in cancelled.json()["detail"]
    plan = (await client.get(f"{YEAR}/plans/01M015")).json()
    assert plan["days"] == 3
    assert plan["state"] == "locked"

    increased = await client.put(f"{YEAR}/plans/01M015", json={"days": 5})
    assert increased.status_code == 200
    assert increased.json()["days"] == 5


async def test_lock_year_locks_submitted(client, db: Database) -> None:
    await make_world(db)
    await client.post(f"{YEAR}/plans/from-enrollment")
    await client.post(f"{YEAR}/plans/01M015/state", json={"state": "submitted"})
    assert (await client.post(f"{YEAR}/lock")).json() == {"locked": 1}
    states = {p["site"]: p["state"] for p in (await client.get(f"{YEAR}/plans")).json()}
    assert states == {"01M015": "locked", "02M019": "draft"}


async def test_central_office_cannot_buy(client, db: Database) -> None:
    await create_site(db, SiteCreate(code="CO1", name="Central office", kind="central_office"))
    response = await client.put(f"{YEAR}/plans/CO1", json={"days": 1})
    assert response.status_code == 422
    assert "tickets" in response.json()["detail"]


async def test_bad_fiscal_year_named(client, db: Database) -> None:
    response = await client.get("/api/v1/fiscal-years/2026-28/plans")
    assert response.status_code == 422
    assert "2026-28" in response.json()["detail"]


async def test_schedule_and_hand_changes(client, db: Database) -> None:
    world = await make_world(db)
    await client.post(f"{YEAR}/plans/from-enrollment")
    for code in ("01M015", "02M019"):
        await client.post(f"{YEAR}/plans/{code}/state", json={"state": "submitted"})
    report = (await client.post(f"{YEAR}/schedule")).json()
    assert report["assignments"] == 4
    assert report["days_short"] == 0
    assert report["extra_technicians"] == 0
    rows = (await client.get(f"{YEAR}/assignments")).json()
    assert len(rows) == 4
    assert world["technicians"][0].employee_number in {row["technician"] for row in rows}

    taken = rows[0]
    clash = await client.post(
        f"{YEAR}/assignments",
        json={
            "technician": taken["technician"],
            "site": "02M019" if taken["site"] == "01M015" else "01M015",
            "weekday": taken["weekday"],
        },
    )
    assert clash.status_code == 409
    over = await client.post(
        f"{YEAR}/assignments",
        json={"technician": "000456", "site": "01M015", "weekday": 4},
    )
    assert over.status_code == 409
    assert "bought 2" in over.json()["detail"]

    removed = await client.delete(f"/api/v1/assignments/{taken['id']}")
    assert removed.status_code == 204
    added = await client.post(
        f"{YEAR}/assignments",
        json={
            "technician": taken["technician"],
            "site": taken["site"],
            "weekday": taken["weekday"],
        },
    )
    assert added.status_code == 201, added.text


async def test_summary_and_load(client, db: Database) -> None:
    await make_world(db)
    await client.put(f"{YEAR}/rate-card", json={"annual_cost": "130753"})
    await client.put(f"{YEAR}/plans/01M015", json={"days": 3})
    await client.put(f"{YEAR}/plans/02M019", json={"days": 2})
    summary = (await client.get(f"{YEAR}/summary")).json()
    assert summary["days"] == 5
    assert Decimal(summary["fte"]) == 1
    assert Decimal(summary["annual_cost"]) == 78452 + 52301
    assert [row["group"] for row in summary["by_region"]] == ["Manhattan"]
    load = (await client.get(f"{YEAR}/technician-load")).json()
    assert [row["technician"] for row in load] == ["000123", "000456"]


async def test_site_user_sees_own_plan_only(client, db: Database) -> None:
    await make_world(db)
    await client.post(f"{YEAR}/plans/from-enrollment")
    token = await token_for(db, "ps15", "site", sites=["01M015"])
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get(f"{YEAR}/plans/01M015", headers=headers)).status_code == 200
    assert (await client.get(f"{YEAR}/plans/02M019", headers=headers)).status_code == 404
    assert (await client.get(f"{YEAR}/plans", headers=headers)).status_code == 403


async def test_plans_commands(database_url: str, db: Database) -> None:
    await make_world(db)
    rates = run_cli(
        database_url,
        "plans",
        "rates",
        "--fiscal-year",
        "2026-27",
        "--annual-cost",
        "130753",
        "--final",
    )
    assert rates.returncode == 0, rates.stderr
    assert "$26,151" in rates.stdout
    created = run_cli(database_url, "plans", "from-enrollment", "--fiscal-year", "2026-27")
    assert "Created 2" in created.stdout
    for code in ("01M015", "02M019"):
        result = run_cli(
            database_url, "plans", "state", code, "submitted", "--fiscal-year", "2026-27"
        )
        assert result.returncode == 0, result.stderr
    assigned = run_cli(database_url, "plans", "assign", "--fiscal-year", "2026-27")
    assert assigned.returncode == 0, assigned.stderr
    assert "000123" in assigned.stdout
    assert "Every purchased day has a technician." in assigned.stdout
    bad = run_cli(database_url, "plans", "assign", "--fiscal-year", "2026")
    assert bad.returncode != 0
    assert "2026" in bad.stderr


async def test_plans_from_enrollment_skips_planned(db: Database) -> None:
    await make_world(db)
    await service.set_plan(db, "01M015", "2026-27", 4, user="tester")
    assert await service.plans_from_enrollment(db, "2026-27", user="tester") == 1
    plan = await service.get_plan(db, "01M015", "2026-27")
    assert plan.days == 4
