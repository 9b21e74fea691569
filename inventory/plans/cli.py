"""The `inventory plans` commands: rates, plans, the weekly schedule, reports, timesheets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

import click

from inventory.db import Database
from inventory.plans import assignments, reports, service, visits
from inventory.plans.schemas import ClosedDayCreate

T = TypeVar("T")

FISCAL_YEAR = click.option(
    "--fiscal-year", required=True, metavar="YYYY-YY", help="Fiscal year, such as 2026-27."
)


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    # Imported here because inventory.cli imports this module to register the group.
    from inventory.cli import _run_with_db, _settings

    return _run_with_db(_settings(), work)


def _parse_date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-09-01", param_hint=option
        ) from exc


@click.group()
def plans() -> None:
    """Service plans, rate cards, technician schedules and visits per fiscal year."""


@plans.command("rates")
@FISCAL_YEAR
@click.option(
    "--annual-cost", required=True, help="Annual cost of one full-time technician, in dollars."
)
@click.option("--final", is_flag=True, help="These are the published rates, not provisional.")
def rates(fiscal_year: str, annual_cost: str, final: bool) -> None:
    """Set a fiscal year's rate card and recompute the cost of its plans."""
    try:
        cost = Decimal(annual_cost.replace(",", "").lstrip("$"))
    except InvalidOperation as exc:
        raise click.BadParameter(
            f"{annual_cost!r} is not an amount such as 130753", param_hint="--annual-cost"
        ) from exc
    card = _run(lambda db: service.set_rate_card(db, fiscal_year, cost, not final, None))
    kind = "provisional" if card.provisional else "final"
    click.echo(f"Rate card {card.fiscal_year} ({kind}): ${card.annual_cost} for 5 days.")
    for days, rate in card.day_rates.items():
        click.echo(f"  {days} day{'s' if days > 1 else ''}: ${rate:,}")
    click.echo(f"Plans recosted: {card.plans_recosted}.")


@plans.command("from-enrollment")
@FISCAL_YEAR
def from_enrollment(fiscal_year: str) -> None:
    """Create draft plans at the recommended days for every buying site without one."""
    created = _run(lambda db: service.plans_from_enrollment(db, fiscal_year, user=None))
    click.echo(f"Created {created} draft plans for {fiscal_year}.")


@plans.command("set")
@click.argument("site")
@FISCAL_YEAR
@click.option("--days", required=True, type=click.IntRange(0, 5), help="Days per week, 0 to 5.")
@click.option("--reason", help="Why the days change, kept in the plan's history.")
def set_days(site: str, fiscal_year: str, days: int, reason: str | None) -> None:
    """Create a site's plan or change its purchased days per week."""
    plan = _run(lambda db: service.set_plan(db, site, fiscal_year, days, user=None, reason=reason))
    cost = f"${plan.annual_cost:,}" if plan.annual_cost is not None else "no rate card yet"
    click.echo(
        f"{plan.site} {plan.fiscal_year}: {plan.days} days per week ({plan.state}), "
        f"{plan.recommended_days} recommended, {cost}."
    )


@plans.command("state")
@click.argument("site")
@click.argument("state", type=click.Choice(["draft", "submitted", "locked", "cancelled"]))
@FISCAL_YEAR
@click.option("--reason", help="Why, kept in the plan's history.")
def set_state(site: str, state: str, fiscal_year: str, reason: str | None) -> None:
    """Submit, lock, cancel or reopen a site's plan."""
    plan = _run(
        lambda db: service.set_plan_state(db, site, fiscal_year, state, user=None, reason=reason)
    )
    click.echo(f"{plan.site} {plan.fiscal_year}: {plan.state}.")


@plans.command("lock")
@FISCAL_YEAR
def lock(fiscal_year: str) -> None:
    """Lock every submitted plan of the year as budget development closes."""
    count = _run(lambda db: service.lock_year(db, fiscal_year, None))
    click.echo(f"Locked {count} plans for {fiscal_year}.")


@plans.command("assign")
@FISCAL_YEAR
def assign(fiscal_year: str) -> None:
    """Rebuild the weekly schedule from submitted and locked plans and print it."""

    async def work(db: Database) -> tuple:
        report = await assignments.assign_year(db, fiscal_year, None)
        return report, await assignments.list_assignments(db, fiscal_year)

    report, rows = _run(work)
    for line in assignments.weekly_table(rows):
        click.echo(line)
    click.echo(
        f"{report.assignments} technician-days scheduled, "
        f"{report.home_region_share:.1%} in the technician's home region."
    )
    if report.days_short:
        click.echo(
            f"{report.days_short} purchased days at {len(report.sites_short)} sites have no "
            f"technician; {report.extra_technicians} more technicians would serve them all."
        )
        for code, days in report.sites_short.items():
            click.echo(f"  {code}: {days} days short")
    else:
        click.echo("Every purchased day has a technician.")


@plans.command("schedule")
@FISCAL_YEAR
@click.option("--technician", metavar="EMPLOYEE_NUMBER", help="Only this technician.")
def show_schedule(fiscal_year: str, technician: str | None) -> None:
    """Print the stored weekly schedule without rebuilding it."""
    rows = _run(lambda db: assignments.list_assignments(db, fiscal_year, technician))
    for line in assignments.weekly_table(rows):
        click.echo(line)


@plans.command("summary")
@FISCAL_YEAR
def summary(fiscal_year: str) -> None:
    """Print the year's purchased days, FTE and cost by region and by site kind."""
    result = _run(lambda db: reports.fiscal_summary(db, fiscal_year))
    click.echo(
        f"{result.fiscal_year}: {result.sites_with_plans} sites, {result.days} days per week, "
        f"{result.fte} FTE, ${result.annual_cost:,}."
    )
    for title, rows in (("Region", result.by_region), ("Site kind", result.by_kind)):
        click.echo(f"{title:<20} {'sites':>6} {'days':>6} {'FTE':>6} {'cost':>14}")
        for row in rows:
            click.echo(
                f"{row.group[:20]:<20} {row.sites:>6} {row.days:>6} {row.fte:>6} "
                f"{'$' + format(row.annual_cost, ','):>14}"
            )


@plans.command("delivery")
@click.argument("site")
@FISCAL_YEAR
def delivery(site: str, fiscal_year: str) -> None:
    """Print a site's days delivered against purchased, per month."""
    months = _run(lambda db: reports.delivery_for_site(db, site, fiscal_year))
    click.echo(f"{'month':<8} {'open weekdays':>13} {'purchased':>9} {'delivered':>9}")
    for month in months:
        click.echo(
            f"{month.month:<8} {month.open_weekdays:>13} {month.purchased_days:>9} "
            f"{month.delivered_days:>9}"
        )


@plans.command("closed-day")
@click.argument("day")
@click.option("--site", help="Site code; leave out to close every site.")
@click.option("--reason", required=True, help="Such as Thanksgiving or a staff development day.")
def closed_day(day: str, site: str | None, reason: str) -> None:
    """Record a weekday (YYYY-MM-DD) on which a site, or every site, is not visited."""
    data = ClosedDayCreate(closed_on=_parse_date(day, "DAY"), site=site, reason=reason)
    row = _run(lambda db: reports.add_closed_day(db, data))
    click.echo(f"{row.closed_on} closed for {row.site or 'every site'}: {row.reason}.")


@plans.command("timesheet")
@click.argument("employee_number")
@click.option("--start", required=True, help="First day of the period, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day of the period, YYYY-MM-DD.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write.")
def timesheet(employee_number: str, start: str, end: str, out: Path | None) -> None:
    """Write a technician's visits for a period as CSV."""
    first = _parse_date(start, "--start")
    last = _parse_date(end, "--end")
    text = _run(lambda db: visits.timesheet_csv(db, employee_number, first, last))
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {out}.", err=True)
