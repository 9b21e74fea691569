"""Visits: check-in and check-out, device steps linked to visits, delivery and timesheets."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from inventory.db import Database
from inventory.errors import ConflictError
from inventory.fiscal import FiscalYear
from inventory.plans import reports, service, visits
from inventory.plans.schemas import CheckIn, VisitRead
from inventory.reports.periods import fiscal_year_period
from inventory.reports.site import site_report
from inventory.sites.schemas import SiteCreate
from inventory.sites.service import create_site, find_site
from tests.conftest import token_for
from tests.factories import make_world, receive

ENROLL = {"operating_system": "ChromeOS", "management_profile": "s", "user_profile_kind": "student"}


async def _check_in(client, at: datetime, site: str = "01M015", technician: str = "000123"):
    response = await client.post(
        "/api/v1/visits", json={"site": site, "technician": technician, "at": at.isoformat()}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_steps_during_visit_record_it(client, db: Database) -> None:
    await make_world(db)
    visit = await _check_in(client, datetime.now(UTC) - timedelta(hours=1))
    await receive(db, "V100")
    enrolled = await client.post(
        "/api/v1/devices/V100/actions",
        json={"action": "enroll", "technician": "000123", "data": ENROLL},
    )
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["event"]["visit_id"] == visit["id"]
    other = await client.post(
        "/api/v1/devices/V100/actions",
        json={"action": "deploy", "technician": "000456", "data": {"room": "101"}},
    )
    assert other.json()["event"]["visit_id"] is None

    out = await client.post(f"/api/v1/visits/{visit['id']}/check-out", json={"mileage": "12.5"})
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["events"] == 2
    assert body["minutes_on_site"] >= 59
    assert Decimal(body["mileage"]) == Decimal("12.5")
    assert body["mileage_paid_by"] == "district"

    history = (await client.get("/api/v1/devices/V100/history")).json()
    assert [event["visit_id"] for event in history["items"]] == [visit["id"], visit["id"], None]


async def test_step_after_checkout_not_linked(client, db: Database) -> None:
    await make_world(db)
    start = datetime.now(UTC) - timedelta(hours=3)
    visit = await _check_in(client, start)
    await client.post(
        f"/api/v1/visits/{visit['id']}/check-out",
        json={"at": (start + timedelta(hours=1)).isoformat()},
    )
    device = await receive(db, "V200")
    assert device.event.visit_id is None


async def test_second_check_in_conflicts(client, db: Database) -> None:
    await make_world(db)
    visit = await _check_in(client, datetime.now(UTC) - timedelta(minutes=5))
    again = await client.post("/api/v1/visits", json={"site": "02M019", "technician": "000123"})
    assert again.status_code == 409
    assert str(visit["id"]) in again.json()["detail"]
    early = await client.post(
        f"/api/v1/visits/{visit['id']}/check-out",
        json={"at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    )
    assert early.status_code == 422
    assert "before check-in" in early.json()["detail"]


async def test_office_pays_own_mileage(client, db: Database) -> None:
    await make_world(db)
    await create_site(
        db, SiteCreate(code="R1", name="Region 1 office", kind="region_office", region="Bronx")
    )
    visit = await _check_in(client, datetime.now(UTC) - timedelta(minutes=30), site="R1")
    out = await client.post(f"/api/v1/visits/{visit['id']}/check-out", json={"mileage": "4"})
    assert out.json()["mileage_paid_by"] == "site"


async def test_technician_checks_in_self(client, db: Database) -> None:
    await make_world(db)
    token = await token_for(db, "ana", "technician", technician="000123")
    headers = {"Authorization": f"Bearer {token}"}
    own = await client.post("/api/v1/visits", json={"site": "01M015"}, headers=headers)
    assert own.status_code == 201, own.text
    assert own.json()["technician"] == "000123"
    other = await client.post(
        "/api/v1/visits", json={"site": "01M015", "technician": "000456"}, headers=headers
    )
    assert other.status_code == 403


async def test_delivered_days_equal_visits(client, db: Database) -> None:
    await make_world(db)
    await service.set_plan(db, "01M015", "2025-26", 2, user="tester")
    # Three visits in September 2025 by two technicians, two of them on one date.
    days = [
        (datetime(2025, 9, 2, 15, tzinfo=UTC), "000123"),
        (datetime(2025, 9, 9, 15, tzinfo=UTC), "000123"),
        (datetime(2025, 9, 9, 16, tzinfo=UTC), "000456"),
        (datetime(2025, 10, 7, 15, tzinfo=UTC), "000123"),
    ]
    for at, technician in days:
        visit = await _check_in(client, at, technician=technician)
        await client.post(
            f"/api/v1/visits/{visit['id']}/check-out",
            json={"at": (at + timedelta(hours=2)).isoformat()},
        )
    closed = await client.post(
        "/api/v1/closed-days", json={"closed_on": "2025-09-01", "reason": "Labor Day"}
    )
    assert closed.status_code == 201, closed.text
    own = await client.post(
        "/api/v1/closed-days",
        json={"closed_on": "2025-09-05", "site": "01M015", "reason": "staff development"},
    )
    assert own.status_code == 201

    months = (await client.get("/api/v1/fiscal-years/2025-26/sites/01M015/delivery")).json()
    assert [month["month"] for month in months][:3] == ["2025-07", "2025-08", "2025-09"]
    september = months[2]
    # September 2025 has 22 weekdays; Labor Day and the site's own closed day leave 20.
    assert september["open_weekdays"] == 20
    assert Decimal(september["purchased_days"]) == Decimal("8.0")
    assert september["delivered_days"] == 3
    assert september["minutes_on_site"] == 360
    assert months[3]["delivered_days"] == 1
    assert sum(month["delivered_days"] for month in months) == len(days)

    other = (await client.get("/api/v1/fiscal-years/2025-26/sites/02M019/delivery")).json()
    assert other[2]["open_weekdays"] == 21
    assert Decimal(other[2]["purchased_days"]) == 0


async def test_site_delivery_callable_in_session(db: Database) -> None:
    await make_world(db)
    async with db.read() as session:
        site = await find_site(session, "01M015")
        assert site.id is not None
        months = await reports.site_delivery(session, site.id, "2026-27")
    assert len(months) == 12
    assert months[-1].month == "2027-06"


async def test_closed_day_rules(client, db: Database) -> None:
    await make_world(db)
    weekend = await client.post(
        "/api/v1/closed-days", json={"closed_on": "2025-09-06", "reason": "Saturday"}
    )
    assert weekend.status_code == 422
    first = await client.post(
        "/api/v1/closed-days", json={"closed_on": "2025-11-27", "reason": "Thanksgiving"}
    )
    assert first.status_code == 201
    again = await client.post(
        "/api/v1/closed-days", json={"closed_on": "2025-11-27", "reason": "Thanksgiving"}
    )
    assert again.status_code == 409
    listed = (await client.get("/api/v1/fiscal-years/2025-26/closed-days")).json()
    assert [row["closed_on"] for row in listed] == ["2025-11-27"]


async def test_timesheet_csv(client, db: Database) -> None:
    await make_world(db)
    at = datetime(2025, 9, 2, 15, tzinfo=UTC)
    visit = await _check_in(client, at)
    await client.post(
        f"/api/v1/visits/{visit['id']}/check-out",
        json={"at": (at + timedelta(minutes=90)).isoformat(), "mileage": "7.5"},
    )
    response = await client.get(
        "/api/v1/technicians/000123/timesheet", params={"start": "2025-09-01", "end": "2025-09-30"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["date"] == "2025-09-02"
    assert rows[0]["site"] == "01M015"
    # 15:00 UTC is 08:00 in Los Angeles in September.
    assert rows[0]["checked_in"] == "08:00"
    assert rows[0]["minutes_on_site"] == "90"
    assert rows[1]["date"] == "total"
    assert rows[1]["mileage"] == "7.5"
    backwards = await client.get(
        "/api/v1/technicians/000123/timesheet", params={"start": "2025-09-30", "end": "2025-09-01"}
    )
    assert backwards.status_code == 422
    assert date(2025, 9, 1).isoformat() in backwards.json()["detail"]


async def test_racing_check_ins_one_wins(db: Database) -> None:
    await make_world(db)
    request = CheckIn(site="01M015", technician="000123")
    results = await asyncio.gather(
        visits.check_in(db, request, None),
        visits.check_in(db, request, None),
        return_exceptions=True,
    )
    wins = [result for result in results if isinstance(result, VisitRead)]
    conflicts = [result for result in results if isinstance(result, ConflictError)]
    assert len(wins) == 1, results
    assert len(conflicts) == 1, results


async def test_site_report_shows_days_delivered_against_purchased(client, db: Database) -> None:
    await make_world(db)
    await service.set_plan(db, "01M015", "2025-26", 2, user="tester")
    for at in (datetime(2025, 9, 2, 15, tzinfo=UTC), datetime(2025, 10, 7, 15, tzinfo=UTC)):
        visit = await _check_in(client, at)
        await client.post(
            f"/api/v1/visits/{visit['id']}/check-out",
            json={"at": (at + timedelta(hours=2)).isoformat()},
        )
    period = fiscal_year_period(FiscalYear.parse("2025-26"))
    months = await reports.delivery_for_site(db, "01M015", "2025-26")

    report = await site_report(db, "01M015", period)
    table = next(table for table in report.tables if table.key == "service_days")
    assert table.note is None
    assert [row[0] for row in table.rows[:-1]] == [month.month for month in months]
    assert table.rows[2] == ["2025-09", str(months[2].purchased_days), 1]
    total = sum((month.purchased_days for month in months), Decimal(0))
    assert table.rows[-1] == ["Total", str(total), 2]
    assert table.total_rows == {len(months)}

    # A site without a plan shows zero days bought and a note that tickets serve it.
    other = await site_report(db, "02M019", period)
    unplanned = next(table for table in other.tables if table.key == "service_days")
    assert unplanned.rows[-1] == ["Total", "0.0", 0]
    assert unplanned.note is not None
    assert "tickets" in unplanned.note
