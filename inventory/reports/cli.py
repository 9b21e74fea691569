"""The work behind `inventory report ...`: write a report file, rebuild the summary."""

from __future__ import annotations

import sys
from pathlib import Path

from inventory.db import Database
from inventory.errors import InvalidInputError
from inventory.reports import summary
from inventory.reports.district import district_report
from inventory.reports.downloads import render
from inventory.reports.periods import PeriodError, select_period
from inventory.reports.site import site_report
from inventory.reports.tables import Report
from inventory.timeutil import district_today


def _period(db: Database, fiscal_year: str | None, month: str | None):
    try:
        return select_period(
            {"fiscal_year": fiscal_year, "month": month}, district_today(db.settings.zone)
        )
    except PeriodError as exc:
        raise InvalidInputError(str(exc)) from exc


def to_html(report: Report) -> bytes:
    """Render the report as a page that reads on its own, without the service's links."""
    from inventory.reports.charts import render_chart
    from inventory.web import template_environment

    environment = template_environment()
    template = environment.get_template("report_file.html")
    charts = {
        table.key: render_chart(table.chart, table.title)
        for table in report.tables
        if table.chart is not None
    }
    return template.render(report=report, charts=charts).encode("utf-8")


def _write(report: Report, fmt: str, out: Path | None) -> str:
    content = to_html(report) if fmt == "html" else render(report, fmt)
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
        return f"Wrote {report.title}, {report.period_label}."
    out.write_bytes(content)
    return f"Wrote {report.title}, {report.period_label}, to {out} ({len(content)} bytes)."


async def write_site_report(
    db: Database,
    code: str,
    fmt: str,
    out: Path | None,
    fiscal_year: str | None,
    month: str | None,
) -> str:
    report = await site_report(db, code, _period(db, fiscal_year, month))
    return _write(report, fmt, out)


async def write_district_report(
    db: Database, fmt: str, out: Path | None, fiscal_year: str | None, month: str | None
) -> str:
    report = await district_report(db, _period(db, fiscal_year, month))
    return _write(report, fmt, out)


async def rebuild_summary(db: Database) -> str:
    async with db.write() as session:
        connection = await session.connection()
        await connection.run_sync(summary.rebuild, db.settings.zone)
    return "Rebuilt the report summary from the devices and their events."
