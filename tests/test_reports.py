"""Site reports and the district view against direct queries on a randomly driven fleet.

A fleet of devices at two sites goes through random lifecycle actions. Then every figure of
the report (on the page's data, in CSV, XLSX and PDF) is compared with figures computed here
straight from the devices and events tables. The summary tables kept event by event are also
compared with a rebuild from the events.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import openpyxl
import pypdfium2
import pytest
from sqlalchemy import select, text

from inventory.db import Database
from inventory.devices import catalog
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.schemas import ActionRequest, DeviceModelCreate
from inventory.devices.service import apply_action
from inventory.lifecycle import STATE_LABELS, TERMINAL_STATES, State, allowed_actions
from inventory.reports import summary
from inventory.reports.district import district_report
from inventory.reports.downloads import cell_text, to_csv, to_pdf, to_xlsx
from inventory.reports.figures import FIGURES
from inventory.reports.periods import Period, nearest_rank, select_period
from inventory.reports.site import site_report
from inventory.reports.tables import Report
from inventory.sites.models import Site
from tests.factories import make_world, receive

SUMMARY_TABLES = (
    "report_device_counts",
    "report_step_counts",
    "report_outcome_counts",
    "report_repair_turnarounds",
    "report_open_repairs",
    "report_open_repair_counts",
    "report_site_model_counts",
    "report_site_years",
    "report_region_turnarounds",
)
# The count columns of each summary table (the last ones); a row whose counts are all zero
# is the same as no row.
COUNT_COLUMNS = {
    "report_site_model_counts": 5,
    "report_open_repairs": 0,
    "report_open_repair_counts": 2,
    # The outcome and turnaround counts, and the turnaround percentiles (None without any).
    "report_site_years": 8,
}
REPAIR = {"in_repair", "with_vendor"}
IN_SERVICE = {s.value for s in State} - {s.value for s in TERMINAL_STATES} - {"lost"}
ENROLL = {"operating_system": "", "management_profile": "students", "user_profile_kind": "student"}


def _action_data(action: str, step: int, rng: random.Random) -> dict[str, Any]:
    decision = rng.choice(["reuse", "harvest", "recycle"])
    data: dict[str, dict[str, Any]] = {
        "enroll": {**ENROLL, "operating_system": rng.choice(["ChromeOS", "Windows 11"])},
        "deploy": {"room": str(rng.randint(100, 120))},
        "transfer": {"site": "SITE"},
        "open_repair": {"problem": "cracked screen"},
        "complete_repair": {"resolution": "new screen", "parts_used": ["screen"]},
        "escalate": {
            "vendor": "acer",
            "problem": "no power",
            "warranty_override_reason": "district policy",
        },
        "vendor_acknowledge": {"rma_number": f"RMA-{step}"},
        "vendor_return": {"outcome": "mainboard replaced"},
        "vendor_deny": {"reason": "liquid damage"},
        "vendor_replace": {"replacement_serial": f"NEW-{step}"},
        "request_salvage": {"reason": "old"},
        "assess_salvage": {
            "decision": decision,
            "assessment": "graded",
            "sanitization_method": "purge",
        },
        "recycle": {"recycling_batch": "RB-1"},
        "report_problem": {"problem": "sticky keys"},
    }
    return data.get(action, {})


# Repairs are made likelier, and loss rarer, so that every figure gets counts.
ACTION_WEIGHTS = {
    "open_repair": 4.0,
    "complete_repair": 4.0,
    "escalate": 2.0,
    "vendor_return": 2.0,
    "vendor_replace": 2.0,
    "request_salvage": 1.5,
    "assess_salvage": 3.0,
    "recycle": 3.0,
    "report_lost": 0.3,
    "audit_seen": 0.3,
    # Needs an acknowledged escalation, which a random order seldom gives.
    "ship_to_vendor": 0.0,
    "report_problem": 0.3,
}
NO_TECHNICIAN_ACTIONS = {
    "vendor_acknowledge",
    "ship_to_vendor",
    "vendor_return",
    "vendor_deny",
    "vendor_replace",
    "report_problem",
}


async def _drive_fleet(db: Database, seed: int, steps: int) -> datetime:
    """Receive 24 devices, then apply `steps` random actions; return the first instant."""
    await make_world(db)
    await catalog.create_device_model(
        db,
        DeviceModelCreate(
            manufacturer="Dell",
            model="OptiPlex 3050",
            device_type="desktop",
            operating_system="Windows 10",
            end_of_support=date(2025, 10, 14),
            end_of_support_precision="day",
        ),
    )
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=420)
    today = datetime.now(UTC).date()
    tags = [f"R{index:03d}" for index in range(24)]
    for index, tag in enumerate(tags):
        await receive(
            db,
            tag,
            site="01M015" if index % 3 else "02M019",
            warranty_end=today + timedelta(days=rng.choice([-30, 10, 45, 89, 90, 91, 400])),
            occurred_at=start,
        )
    async with db.write() as session:
        # Half the devices are desktops, so the report has two types and two models.
        desktop = await session.scalar(
            select(DeviceModel.id).where(DeviceModel.model == "OptiPlex 3050")
        )
        await session.execute(
            Device.__table__.update()
            .where(Device.asset_tag.in_(tags[::2]))
            .values(model_id=desktop)
        )
        await session.run_sync(lambda sync: summary.rebuild(sync.connection()))

    live = list(tags)
    for step in range(steps):
        tag = rng.choice(live)
        async with db.read() as session:
            device = await session.scalar(select(Device).where(Device.asset_tag == tag))
            site_code = await session.scalar(select(Site.code).where(Site.id == device.site_id))
        choices = [
            name
            for name in allowed_actions(State(device.state))
            if name not in ("escalation_export", "found") or rng.random() < 0.3
        ]
        if not choices:
            live.remove(tag)
            continue
        weights = [ACTION_WEIGHTS.get(name, 1.0) for name in choices]
        action = rng.choices(choices, weights)[0]
        data = _action_data(action, step, rng)
        if action == "transfer":
            data["site"] = "02M019" if site_code == "01M015" else "01M015"
        technician = None
        if action not in NO_TECHNICIAN_ACTIONS:
            technician = rng.choice(["000123", "000456"])
        result = await apply_action(
            db,
            tag,
            ActionRequest(
                action=action,
                technician=technician,
                data=data,
                occurred_at=start + timedelta(days=1 + step * 400 / steps, hours=rng.random()),
            ),
        )
        if result.replacement is not None:
            live.append(result.replacement.asset_tag)
    return start


async def _summary_rows(db: Database) -> dict[str, list[tuple]]:
    rows = {}
    async with db.read() as session:
        for table in SUMMARY_TABLES:
            result = await session.execute(text(f"SELECT * FROM {table}"))
            counted = COUNT_COLUMNS.get(table, 1)
            found = [
                tuple(value for value in row)
                for row in result
                # A count that went back to zero is the same as no row.
                if not (counted and not any(row[-counted:]))
            ]
            rows[table] = sorted(found, key=repr)
    return rows


def _month(instant: datetime, zone) -> date:
    return instant.astimezone(zone).date().replace(day=1)


async def _expected(db: Database, code: str, period: Period) -> dict[str, Any]:
    """Compute the site's figures directly from the devices and events tables."""
    zone = db.settings.zone
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    async with db.read() as session:
        site_id = await session.scalar(select(Site.id).where(Site.code == code))
        devices = list(
            await session.execute(
                select(Device, DeviceModel).join(DeviceModel, DeviceModel.id == Device.model_id)
            )
        )
        events = list(
            (
                await session.execute(
                    select(DeviceEvent).order_by(DeviceEvent.device_id, DeviceEvent.sequence)
                )
            ).scalars()
        )
    here = [(device, model) for device, model in devices if device.site_id == site_id]
    in_service = [(d, m) for d, m in here if d.state in IN_SERVICE]
    fiscal_end = date(today.year + (today.month >= 7), 6, 30)
    figures: dict[str, Any] = {
        "devices": len(in_service),
        "deployed": sum(d.state == "deployed" for d, _ in here),
        "in_repair": sum(d.state == "in_repair" for d, _ in here),
        "with_vendor": sum(d.state == "with_vendor" for d, _ in here),
        "lost": sum(d.state == "lost" for d, _ in here),
        "warranty_ending": sum(
            d.warranty_end is not None and today <= d.warranty_end <= today + timedelta(days=90)
            for d, _ in in_service
        ),
        "eos_past": sum(m.end_of_support < today for _, m in in_service),
        "eos_this_year": sum(today <= m.end_of_support <= fiscal_end for _, m in in_service),
        "eos_next_year": sum(
            fiscal_end < m.end_of_support <= fiscal_end.replace(year=fiscal_end.year + 1)
            for _, m in in_service
        ),
        "open_escalations": sum(d.state == "with_vendor" for d, _ in here),
    }
    in_period = [
        event
        for event in events
        if event.site_id == site_id
        and period.first_month <= _month(event.occurred_at, zone) <= period.last_month
    ]
    opened: dict[int, tuple[int, datetime]] = {}
    turnarounds: Counter[int] = Counter()
    for event in events:
        was, now_open = event.from_state in REPAIR, event.to_state in REPAIR
        if not was and now_open:
            opened[event.device_id] = (event.site_id, event.occurred_at)
        elif was and now_open:
            opened[event.device_id] = (event.site_id, opened[event.device_id][1])
        elif was:
            _site, since = opened.pop(event.device_id)
            month = _month(event.occurred_at, zone)
            if (
                event.action in ("complete_repair", "vendor_replace")
                and event.site_id == site_id
                and period.first_month <= month <= period.last_month
            ):
                turnarounds[(event.occurred_at - since).days] += 1
    open_here = [since for site, since in opened.values() if site == site_id]
    figures["open_repairs"] = len(open_here)
    figures["oldest_repair_days"] = (now - min(open_here)).days if open_here else None
    figures["repairs_opened"] = sum(e.action == "open_repair" for e in in_period)
    figures["repairs_closed"] = sum(turnarounds.values())
    figures["turnaround_median"] = nearest_rank(turnarounds, 50)
    figures["turnaround_p90"] = nearest_rank(turnarounds, 90)
    for name, state in (
        ("reuse", "enrolled"),
        ("harvest", "harvested"),
        ("recycle", "recycle_pending"),
    ):
        figures[name] = sum(e.action == "assess_salvage" and e.to_state == state for e in in_period)
    figures["recycled"] = sum(e.action == "recycle" for e in in_period)

    by_state = Counter(STATE_LABELS[State(d.state)] for d, _ in here)
    by_type = Counter(m.device_type for _, m in in_service)
    by_system = Counter(d.operating_system or m.operating_system for d, m in in_service)
    steps = Counter(
        (e.technician_name or "No technician", e.action)
        for e in in_period
        if e.action != "escalation_export"
    )
    return {
        "figures": figures,
        "turnarounds": turnarounds,
        "by_state": by_state,
        "by_type": by_type,
        "by_operating_system": by_system,
        "steps": steps,
        "warranty": sorted(
            d.asset_tag
            for d, _ in in_service
            if d.warranty_end is not None and today <= d.warranty_end <= today + timedelta(days=90)
        ),
        "open_repairs": sorted(
            d.asset_tag for d, _ in here if d.id in opened and opened[d.id][0] == site_id
        ),
    }


def _check_report(report: Report, expected: dict[str, Any]) -> None:
    figures = dict(report.table("key_figures").rows)
    for key, label in FIGURES.items():
        assert figures[label] == expected["figures"][key], label
    for key in ("by_state", "by_type", "by_operating_system"):
        assert dict(report.table(key).rows) == dict(expected[key]), key
    technicians = Counter()
    for name, _number, action, count in report.table("technicians").rows:
        technicians[(name, action)] += count
    assert technicians == expected["steps"]
    assert sorted(row[0] for row in report.table("warranty_ending").rows) == expected["warranty"]
    assert sorted(row[0] for row in report.table("open_repairs").rows) == expected["open_repairs"]
    repairs = report.table("repairs")
    assert sum(row[1] for row in repairs.rows) == expected["figures"]["repairs_opened"]
    assert sum(row[2] for row in repairs.rows) == expected["figures"]["repairs_closed"]


def _csv_tables(content: bytes) -> dict[str, list[list[str]]]:
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    tables: dict[str, list[list[str]]] = {}
    index = 3
    while index < len(lines):
        title = lines[index][0]
        rows = []
        index += 2
        while index < len(lines) and lines[index]:
            if not lines[index][0].startswith("Note: "):
                rows.append(lines[index])
            index += 1
        tables[title] = rows
        index += 1
    return tables


def _check_downloads(report: Report) -> None:
    in_csv = _csv_tables(to_csv(report))
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx(report)), read_only=True)
    assert len(workbook.worksheets) == len(report.tables)
    for table, sheet in zip(report.tables, workbook.worksheets, strict=True):
        expected_text = [[cell_text(value) for value in row] for row in table.rows]
        assert in_csv[table.title] == expected_text, table.title
        sheet_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        body = sheet_rows[2 : 2 + len(table.rows)]
        as_text = [
            [cell_text(value.date() if isinstance(value, datetime) else value) for value in row]
            for row in body
        ]
        assert as_text == expected_text, table.title

    document = pypdfium2.PdfDocument(to_pdf(report))
    try:
        pdf_text = " ".join(
            document[index].get_textpage().get_text_range() for index in range(len(document))
        )
    finally:
        document.close()
    words = " ".join(pdf_text.split())
    for label, value in report.table("key_figures").rows:
        assert f"{label} {cell_text(value)}".strip() in words, label


@pytest.mark.parametrize("seed", [7])
async def test_site_report_matches_direct_queries(db: Database, seed: int) -> None:
    await _drive_fleet(db, seed, steps=160)
    today = datetime.now(UTC).astimezone(db.settings.zone).date()
    periods = [
        select_period({}, today),
        select_period(
            {
                "fiscal_year": f"{today.year - 1 - (today.month < 7)}-"
                f"{(today.year - (today.month < 7)) % 100:02d}"
            },
            today,
        ),
        select_period(
            {
                "from": (today - timedelta(days=450)).strftime("%Y-%m"),
                "to": today.strftime("%Y-%m"),
            },
            today,
        ),
    ]
    reached: Counter[str] = Counter()
    for period in periods:
        for code in ("01M015", "02M019"):
            report = await site_report(db, code, period)
            expected = await _expected(db, code, period)
            _check_report(report, expected)
            reached.update({k: v for k, v in expected["figures"].items() if v})
    # The random run must reach the figures it checks, or the comparison proves little.
    for key in ("repairs_closed", "open_repairs", "recycled", "warranty_ending", "lost"):
        assert reached[key] > 0, key
    _check_downloads(await site_report(db, "01M015", periods[2]))


async def test_summary_equals_rebuild(db: Database) -> None:
    await _drive_fleet(db, 11, steps=120)
    kept = await _summary_rows(db)
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild)
    assert await _summary_rows(db) == kept


async def test_district_rows_equal_site_reports(db: Database) -> None:
    await _drive_fleet(db, 3, steps=100)
    today = datetime.now(UTC).astimezone(db.settings.zone).date()
    period = select_period(
        {"from": (today - timedelta(days=450)).strftime("%Y-%m"), "to": today.strftime("%Y-%m")},
        today,
    )
    district = await district_report(db, period, sort="devices", descending=True)
    table = district.tables[0]
    rows = {row[1]: row for row in table.rows}
    for code in ("01M015", "02M019"):
        site_rows = dict((await site_report(db, code, period)).table("key_figures").rows)
        assert rows[code][3:] == [site_rows[label] for label in FIGURES.values()], code
    total = table.rows[-1]
    assert total[1] == "Total (2 sites)"
    devices = list(FIGURES).index("devices") + 3
    assert total[devices] == rows["01M015"][devices] + rows["02M019"][devices]
    assert table.total_rows == {2, 3}
    _check_downloads_district(district)


async def test_district_fiscal_years_match_direct_queries(db: Database) -> None:
    """A fiscal year is read from the fiscal-year tables; other periods from the months."""
    await _drive_fleet(db, 3, steps=160)
    today = datetime.now(UTC).astimezone(db.settings.zone).date()
    start = today.year - (today.month < 7)
    periods = [
        select_period({}, today),
        select_period({"fiscal_year": f"{start - 1}-{start % 100:02d}"}, today),
    ]
    column = {key: index + 3 for index, key in enumerate(FIGURES)}
    closed = 0
    for period in periods:
        assert period.fiscal_year() is not None
        table = (await district_report(db, period)).tables[0]
        rows = {row[1]: row for row in table.rows}
        merged: Counter[int] = Counter()
        for code in ("01M015", "02M019"):
            expected = await _expected(db, code, period)
            assert rows[code][3:] == [expected["figures"][key] for key in FIGURES], code
            merged.update(expected["turnarounds"])
        for total in table.rows[-2:]:
            assert total[column["repairs_closed"]] == sum(merged.values())
            assert total[column["turnaround_median"]] == nearest_rank(merged, 50)
            assert total[column["turnaround_p90"]] == nearest_rank(merged, 90)
        closed += sum(merged.values())
    # The random run must close repairs in these years, or the percentiles prove little.
    assert closed > 0


def test_period_fiscal_year() -> None:
    today = date(2026, 12, 5)
    year = select_period({}, today).fiscal_year()
    assert year is not None
    assert year.label == "2026-27"
    assert select_period({"month": "2026-07"}, today).fiscal_year() is None
    whole = select_period({"from": "2025-07", "to": "2026-06"}, today).fiscal_year()
    assert whole is not None
    assert whole.label == "2025-26"
    assert select_period({"from": "2025-07", "to": "2026-05"}, today).fiscal_year() is None


def _check_downloads_district(report: Report) -> None:
    table = report.tables[0]
    assert _csv_tables(to_csv(report))[table.title] == [
        [cell_text(value) for value in row] for row in table.rows
    ]


async def test_concurrent_moves_keep_counts(db: Database) -> None:
    """Deploys and collects at once change the same two counter rows in opposite directions."""
    await make_world(db)
    earlier = datetime.now(UTC) - timedelta(hours=2)
    tags = [f"C{index:02d}" for index in range(16)]
    for index, tag in enumerate(tags):
        await receive(db, tag, occurred_at=earlier)
        await apply_action(
            db,
            tag,
            ActionRequest(
                action="enroll",
                technician="000123",
                data=ENROLL | {"operating_system": "X"},
                occurred_at=earlier,
            ),
        )
        if index % 2:
            await apply_action(
                db,
                tag,
                ActionRequest(
                    action="deploy", technician="000123", data={"room": "1"}, occurred_at=earlier
                ),
            )

    def move(index: int, tag: str):
        if index % 2:
            return apply_action(db, tag, ActionRequest(action="collect", technician="000456"))
        request = ActionRequest(action="deploy", technician="000456", data={"room": "2"})
        return apply_action(db, tag, request)

    await asyncio.gather(*(move(index, tag) for index, tag in enumerate(tags)))
    kept = await _summary_rows(db)
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild)
    assert await _summary_rows(db) == kept
    counts = {row[1]: row[-1] for row in kept["report_device_counts"]}
    assert counts == {"enrolled": 8, "deployed": 8}
    # in_service, deployed, in_repair, with_vendor and lost of the one site and model.
    assert [row[2:] for row in kept["report_site_model_counts"]] == [(16, 8, 0, 0, 0)]
