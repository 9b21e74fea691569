"""The report pages and their downloads: a site's report, and the district view for admins."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import Template

from inventory.db import Database
from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import InvalidInputError
from inventory.fiscal import FiscalYear
from inventory.reports.charts import render_chart
from inventory.reports.district import SORT_KEYS, district_report
from inventory.reports.downloads import FORMATS, render
from inventory.reports.periods import Period, PeriodError, select_period
from inventory.reports.site import site_report
from inventory.reports.tables import Report
from inventory.timeutil import district_today
from inventory.web.errors import HTML_EXCEPTION_HANDLERS

log = logging.getLogger(__name__)

# Fiscal years offered in the period selector: this many before the current one, and the next.
YEARS_BACK = 4


def read_period(db: Database, request: Request) -> Period:
    params = {
        name: request.query_params.get(name) for name in ("fiscal_year", "month", "from", "to")
    }
    try:
        return select_period(params, district_today(db.settings.zone))
    except PeriodError as exc:
        raise InvalidInputError(str(exc), **{k: v for k, v in params.items() if v}) from exc


def read_format(request: Request) -> str:
    fmt = (request.query_params.get("format") or "html").strip().casefold()
    if fmt != "html" and fmt not in FORMATS:
        raise InvalidInputError(
            f"Unknown format {fmt!r}; use html, {', '.join(FORMATS)}.", format=fmt
        )
    return fmt


def download(report: Report, fmt: str, stem: str) -> Response[bytes]:
    content = render(report, fmt)
    filename = f"{stem}.{fmt}".encode("ascii", "replace").decode().replace('"', "")
    return Response(
        content,
        media_type=FORMATS[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def page_context(db: Database, report: Report, period: Period) -> dict[str, Any]:
    current = FiscalYear.containing(district_today(db.settings.zone))
    years = [FiscalYear(current.start_year - back) for back in range(YEARS_BACK, -1, -1)]
    years.append(current.next())
    return {
        "report": report,
        "period": period,
        "period_query": urlencode(period.query()),
        "fiscal_years": [year.label for year in years],
        "charts": {
            table.key: render_chart(table.chart, table.title)
            for table in report.tables
            if table.chart is not None
        },
    }


class ReportPageController(Controller):
    include_in_schema = False
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/sites/{code:str}/report", name="site_report", opt={"access": "user"})
    async def site_report_page(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, code: FromPath[str]
    ) -> Response[Any]:
        """Show a site's report, or download it with ?format=csv, xlsx or pdf."""
        fmt = read_format(request)
        period = read_period(db, request)
        report = await site_report(db, code, period, principal)
        log.info("site report", extra={"site": code.strip(), "format": fmt})
        if fmt != "html":
            stem = f"site-report-{report.context['site'].code}-{period.first_month:%Y-%m}"
            return download(report, fmt, stem)
        return Template(
            template_name="report_site.html",
            context={**page_context(db, report, period), "site": report.context["site"]},
        )

    @get("/district", name="district_report", opt={"access": "admin"})
    async def district_page(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep
    ) -> Response[Any]:
        """Show every site's key figures by region, or download them with ?format=."""
        fmt = read_format(request)
        period = read_period(db, request)
        sort = (request.query_params.get("sort") or "code").strip()
        order = (request.query_params.get("order") or "asc").strip()
        if order not in ("asc", "desc"):
            raise InvalidInputError(f"Unknown order {order!r}; use asc or desc.", order=order)
        report = await district_report(db, period, principal, sort=sort, descending=order == "desc")
        if fmt != "html":
            return download(report, fmt, f"district-report-{period.first_month:%Y-%m}")
        table = report.tables[0]
        return Template(
            template_name="report_district.html",
            context={
                **page_context(db, report, period),
                "table": table,
                "sort_keys": SORT_KEYS,
                "sort": sort,
                "order": order,
            },
        )
