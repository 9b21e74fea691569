"""The report pages over HTTP: who may see which report, periods, downloads, the command."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from inventory.accounts.service import create_user
from inventory.db import Database
from inventory.devices.schemas import ActionRequest
from inventory.devices.service import apply_action
from inventory.reports.periods import PeriodError, nearest_rank, select_period
from tests.conftest import PASSWORD, sign_in
from tests.factories import make_world, receive, run_cli

TODAY = datetime(2026, 12, 4).date()


@pytest.fixture
async def fleet(db: Database) -> None:
    """Device 0042 awaiting salvage at 01M015, and 0043 received at 02M019."""
    await make_world(db)
    earlier = datetime.now(UTC) - timedelta(days=3)
    await receive(db, "0042", occurred_at=earlier)
    await receive(db, "0043", site="02M019", occurred_at=earlier)
    await apply_action(
        db,
        "0042",
        ActionRequest(
            action="request_salvage",
            technician="000123",
            data={"reason": "old"},
            occurred_at=earlier,
        ),
    )


@asynccontextmanager
async def _signed_in(
    app: Litestar, db: Database, username: str, role: str, **scope
) -> AsyncIterator[AsyncTestClient]:
    """Open a client signed in to the pages as a new user with `role` and `scope`."""
    await create_user(db, username, role, PASSWORD, **scope)
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await sign_in(client, username)
        assert response.status_code == 303, response.text
        yield client


async def test_site_user_sees_own_site_report(app: Litestar, db: Database, fleet: None) -> None:
    async with _signed_in(app, db, "ps15", "site", sites=["01M015"]) as web:
        own = await web.get("/sites/01M015/report")
        assert own.status_code == 200
        assert "Devices by state" in own.text
        assert 'class="chart"' in own.text
        site_page = await web.get("/sites/01M015")
        assert 'href="/sites/01M015/report"' in site_page.text
        other = await web.get("/sites/02M019/report")
        assert other.status_code == 404
        download = await web.get("/sites/02M019/report?format=csv")
        assert download.status_code == 404


async def test_vendor_user_gets_no_site_report(app: Litestar, db: Database, fleet: None) -> None:
    async with _signed_in(app, db, "acer-user", "vendor", vendor="acer") as web:
        response = await web.get("/sites/01M015/report")
        assert response.status_code == 404


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("technician", 403), ("site", 403)])
async def test_district_view_is_for_admins(
    app: Litestar, db: Database, fleet: None, role: str, status: int
) -> None:
    scope = {"technician": "000123"} if role == "technician" else {}
    if role == "site":
        scope = {"sites": ["01M015"]}
    async with _signed_in(app, db, f"user-{role}", role, **scope) as web:
        response = await web.get("/district")
        assert response.status_code == status
        if status == 200:
            assert "Total (2 sites)" in response.text
            assert "Manhattan" in response.text
        home = await web.get("/")
        assert ('href="/district"' in home.text) == (role == "admin")


async def test_district_downloads_open(app: Litestar, db: Database, fleet: None) -> None:
    async with _signed_in(app, db, "boss", "admin") as web:
        xlsx = await web.get("/district?format=xlsx&sort=devices&order=desc")
        assert xlsx.status_code == 200
        assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
        codes = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
        assert codes[:2] == ["01M015", "02M019"]
        pdf = await web.get("/district?format=pdf")
        assert pdf.content.startswith(b"%PDF")


async def test_salvage_request_counts_in_report(app: Litestar, db: Database, fleet: None) -> None:
    async with _signed_in(app, db, "boss", "admin") as web:
        response = await web.get("/sites/01M015/report?format=csv")
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        assert "Awaiting salvage,1" in text
        assert "Ana Reyes,000123,request_salvage,1" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fiscal_year=2026", "not of the form 2026-27"),
        ("month=2026-13", "not a month"),
        ("from=2026-09", "needs both from and to"),
        ("from=2026-09&to=2026-01", "is before from"),
        ("month=2026-09&fiscal_year=2026-27", "Choose one period"),
        ("format=docx", "Unknown format"),
    ],
)
async def test_invalid_period_names_value(
    app: Litestar, db: Database, fleet: None, query: str, message: str
) -> None:
    async with _signed_in(app, db, "boss", "admin") as web:
        response = await web.get(f"/sites/01M015/report?{query}")
        assert response.status_code == 422
        assert message in response.text


def test_period_selection() -> None:
    assert select_period({}, TODAY).label == "Fiscal year 2026-27"
    month = select_period({"month": "2026-09"}, TODAY)
    assert (month.first_month, month.last_month) == (TODAY.replace(month=9, day=1),) * 2
    span = select_period({"from": "2025-11", "to": "2026-02"}, TODAY)
    assert [m.strftime("%Y-%m") for m in span.months()] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert span.end.isoformat() == "2026-02-28"
    with pytest.raises(PeriodError, match="at most 60"):
        select_period({"from": "2020-01", "to": "2026-01"}, TODAY)


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank({}, 50) is None
    assert nearest_rank({3: 1}, 90) == 3
    assert nearest_rank({1: 1, 2: 1, 3: 1, 4: 1}, 50) == 2
    assert nearest_rank({1: 9, 30: 1}, 90) == 1
    assert nearest_rank({1: 8, 30: 2}, 90) == 30


async def test_report_command_writes_files(database_url: str, db: Database, tmp_path) -> None:
    await make_world(db)
    await receive(db, "0042")
    out = tmp_path / "report.xlsx"
    result = run_cli(
        database_url,
        "report",
        "site",
        "01M015",
        "--format",
        "xlsx",
        "--out",
        str(out),
        "--fiscal-year",
        "2026-27",
    )
    assert result.returncode == 0, result.stderr
    first = openpyxl.load_workbook(out).worksheets[0]
    values = {row[0]: row[1] for row in first.iter_rows(min_row=3, values_only=True)}
    assert values["Devices in service"] == 1
    html = run_cli(database_url, "report", "district")
    assert html.returncode == 0, html.stderr
    assert "<svg" not in html.stdout
    assert "Total (2 sites)" in html.stdout
    bad = run_cli(database_url, "report", "site", "01M015", "--fiscal-year", "2026")
    assert bad.returncode == 1
    assert "not of the form 2026-27" in bad.stderr
    missing = run_cli(database_url, "report", "site", "NOPE")
    assert missing.returncode == 1
    assert "NOPE" in missing.stderr
    rebuilt = run_cli(database_url, "report", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
