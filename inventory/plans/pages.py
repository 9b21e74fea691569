"""The IT office's planning page: a fiscal year's plans by region, the schedule and totals.

The forms call the same operations as the JSON API and the `inventory plans` commands.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import ServiceError
from inventory.fiscal import FiscalYear
from inventory.plans import assignments, reports, service
from inventory.plans.rules import PLAN_STATES, WEEKDAYS
from inventory.timeutil import district_today
from inventory.web.errors import HTML_EXCEPTION_HANDLERS


def _back(fiscal_year: str, region: str | None, **query: str) -> Redirect:
    params = {"region": region, **query} if region else query
    suffix = f"?{urlencode(params)}" if params else ""
    return Redirect(path=f"/plans/{fiscal_year}{suffix}", status_code=303)


class PlanPageController(Controller):
    include_in_schema = False
    opt = {"access": "admin"}
    exception_handlers = HTML_EXCEPTION_HANDLERS  # type: ignore[assignment]

    @get("/plans", name="plans_current")
    async def current(self, db: DatabaseDep) -> Redirect:
        year = FiscalYear.containing(district_today(db.settings.zone))
        return Redirect(path=f"/plans/{year.label}", status_code=303)

    @get("/plans/{fiscal_year:str}", name="plans")
    async def plans_page(
        self, request: Request, db: DatabaseDep, fiscal_year: FromPath[str]
    ) -> Template:
        year = service.parse_fiscal_year(fiscal_year)
        region = request.query_params.get("region") or None
        summary = await reports.fiscal_summary(db, year.label)
        plans = await service.list_plans(db, year.label, region) if region else []
        schedule = await assignments.list_assignments(db, year.label) if region is not None else []
        plan_sites = {plan.site for plan in plans}
        return Template(
            template_name="plans.html",
            context={
                "year": year,
                "region": region,
                "summary": summary,
                "plans": plans,
                "states": PLAN_STATES,
                "weekdays": WEEKDAYS,
                "schedule": [row for row in schedule if row.site in plan_sites],
                "message": request.query_params.get("done"),
                "error": request.query_params.get("error"),
            },
        )

    @post("/plans/{fiscal_year:str}/sites/{code:str}", name="plans_site")
    async def set_site_plan(
        self,
        request: Request,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        code: FromPath[str],
    ) -> Response[Any]:
        form = await request.form()
        region = str(form.get("region") or "") or None
        user = principal.username if principal else None
        try:
            days = int(str(form.get("days", "")))
        except ValueError:
            return _back(fiscal_year, region, error=f"Days for {code} must be a number 0 to 5.")
        state = str(form.get("state") or "")
        try:
            plan = await service.set_plan(db, code, fiscal_year, days, user=user)
            if state and state != plan.state:
                plan = await service.set_plan_state(
                    db, code, fiscal_year, state, user=user, reason=None
                )
        except ServiceError as exc:
            if exc.status_code == 404:
                raise
            return _back(fiscal_year, region, error=exc.detail)
        done = f"{plan.site}: {plan.days} days per week, {plan.state}."
        return _back(fiscal_year, region, done=done)

    @post("/plans/{fiscal_year:str}/schedule", name="plans_schedule")
    async def rebuild_schedule(
        self, request: Request, db: DatabaseDep, principal: PrincipalDep, fiscal_year: FromPath[str]
    ) -> Response[Any]:
        form = await request.form()
        region = str(form.get("region") or "") or None
        user = principal.username if principal else None
        report = await assignments.assign_year(db, fiscal_year, user)
        done = (
            f"Schedule rebuilt: {report.assignments} technician-days, "
            f"{report.home_region_share:.0%} in the home region."
        )
        if report.days_short:
            done += (
                f" {report.days_short} days at {len(report.sites_short)} sites have no "
                f"technician; {report.extra_technicians} more technicians would serve them."
            )
        return _back(fiscal_year, region, done=done)
