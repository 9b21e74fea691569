"""The district view: every site's key figures in one table, grouped by region, with totals."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.errors import ForbiddenError, InvalidInputError
from inventory.reports.figures import (
    FIGURES,
    SiteFigures,
    region_turnarounds,
    site_figures,
    total_figures,
)
from inventory.reports.periods import Period
from inventory.reports.site import report_dates
from inventory.reports.tables import Report, ReportTable
from inventory.sites.models import Site

NO_REGION = "No region"
SITE_COLUMNS = {"code": "Site code", "name": "Site name"}
SORT_KEYS = [*SITE_COLUMNS, *FIGURES]


def _sort_rows(
    rows: list[tuple[Any, SiteFigures]], sort: str, descending: bool
) -> list[tuple[Any, SiteFigures]]:
    def key(item: tuple[Any, SiteFigures]) -> Any:
        site, figures = item
        if sort in SITE_COLUMNS:
            return getattr(site, sort).casefold()
        value = figures.values.get(sort)
        return value if value is not None else -1

    # Sites with equal values stay in site code order, whichever way the column sorts.
    ordered = sorted(rows, key=lambda item: item[0].code)
    ordered.sort(key=key, reverse=descending)
    if sort not in SITE_COLUMNS:
        # A missing value (such as no completed repairs) sorts last either way.
        ordered.sort(key=lambda item: item[1].values.get(sort) is None)
    return ordered


async def district_report(
    db: Database,
    period: Period,
    principal: Principal | None = None,
    *,
    sort: str = "code",
    descending: bool = False,
    now: datetime | None = None,
) -> Report:
    """Build the district view; only admins (or the command line, with no user) may."""
    if principal is not None and not principal.is_admin:
        raise ForbiddenError("The district view is for the IT office (admin users) only.")
    if sort not in SORT_KEYS:
        raise InvalidInputError(
            f"Unknown sort column {sort!r}; use one of {', '.join(SORT_KEYS)}.", sort=sort
        )
    dates = report_dates(db, now)
    async with db.read() as session:
        # Core execution, as in site_figures, without the ORM's per-row result handling.
        connection = await session.connection()
        sites = list(await connection.execute(select(Site.id, Site.code, Site.name, Site.region)))
        figures = await site_figures(session, period, dates)
        stored_histograms = await region_turnarounds(connection, period)

    regions: dict[str, list[tuple[Any, SiteFigures]]] = defaultdict(list)
    empty = total_figures([])
    for site in sites:
        regions[site.region or NO_REGION].append((site, figures.get(site.id or 0, empty)))
    # The stored histograms key sites without a region by "", which this view shows as
    # NO_REGION, together with any region that is literally named so.
    histograms: dict[str, Counter[int]] | None = None
    if stored_histograms is not None:
        histograms = defaultdict(Counter)
        for region, histogram in stored_histograms.items():
            histograms[region or NO_REGION].update(histogram)

    rows: list[list] = []
    totals: set[int] = set()
    region_totals = []
    for region in sorted(regions, key=lambda name: (name == NO_REGION, name.casefold())):
        members = _sort_rows(regions[region], sort, descending)
        for site, site_values in members:
            rows.append(
                [region, site.code, site.name, *(site_values.values[key] for key in FIGURES)]
            )
        region_total = total_figures(
            [values for _, values in members],
            None if histograms is None else histograms.get(region, Counter()),
        )
        region_totals.append(region_total)
        totals.add(len(rows))
        rows.append(
            [
                region,
                f"Total ({len(members)} sites)",
                "",
                *(region_total.values[key] for key in FIGURES),
            ]
        )
    district = total_figures(region_totals)
    totals.add(len(rows))
    rows.append(
        ["All regions", f"Total ({len(sites)} sites)", "", *(district.values[k] for k in FIGURES)]
    )
    table = ReportTable(
        key="district",
        title="Sites by region",
        columns=["Region", "Site code", "Site name", *FIGURES.values()],
        rows=rows,
        note="Totals add the sites' counts; a total's median and 90th percentile come from "
        "all its sites' repairs, and its oldest open repair is the oldest of its sites'.",
        total_rows=totals,
    )
    return Report(
        title="District view",
        subtitle=f"Every site's key figures, {period.label}",
        today=dates.today,
        period_label=period.label,
        tables=[table],
        context={"period": period, "sort": sort, "descending": descending},
    )
