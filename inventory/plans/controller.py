"""HTTP routes for rate cards, service plans, schedules, closed days, visits and reports."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, delete, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from inventory.deps import DatabaseDep, PrincipalDep
from inventory.errors import InvalidInputError
from inventory.plans import assignments, reports, service, visits
from inventory.plans.schemas import (
    AssignmentCreate,
    AssignmentRead,
    CheckIn,
    CheckOut,
    ClosedDayCreate,
    ClosedDayRead,
    FiscalSummary,
    MonthDelivery,
    PlanChangeRead,
    PlanRead,
    PlanSet,
    PlanStateSet,
    RateCardRead,
    RateCardSet,
    ScheduleReport,
    TechnicianLoad,
    VisitRead,
)
from inventory.sites.service import find_site


class FiscalYearController(Controller):
    """Everything planned per fiscal year: rates, plans, the schedule and the totals."""

    path = "/api/v1/fiscal-years/{fiscal_year:str}"
    tags = ["service plans"]

    @get("/rate-card", summary="Get a fiscal year's rate card", opt={"access": "staff"})
    async def get_rate_card(self, db: DatabaseDep, fiscal_year: FromPath[str]) -> RateCardRead:
        return await service.get_rate_card(db, fiscal_year)

    @put("/rate-card", summary="Set a fiscal year's rate card", opt={"access": "admin"})
    async def set_rate_card(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        data: JSONBody[RateCardSet],
    ) -> RateCardRead:
        user = principal.username if principal else None
        return await service.set_rate_card(
            db, fiscal_year, data.annual_cost, data.provisional, user
        )

    @get("/plans", summary="List a fiscal year's service plans", opt={"access": "staff"})
    async def list_plans(
        self, db: DatabaseDep, fiscal_year: FromPath[str], region: FromQuery[str | None] = None
    ) -> list[PlanRead]:
        return await service.list_plans(db, fiscal_year, region)

    @post(
        "/plans/from-enrollment",
        summary="Create draft plans at the recommended days for sites without one",
        status_code=200,
        opt={"access": "admin"},
    )
    async def plans_from_enrollment(
        self, db: DatabaseDep, principal: PrincipalDep, fiscal_year: FromPath[str]
    ) -> dict[str, int]:
        user = principal.username if principal else None
        created = await service.plans_from_enrollment(db, fiscal_year, user=user)
        return {"created": created}

    @get("/plans/{code:str}", summary="Get a site's service plan", opt={"access": "user"})
    async def get_plan(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        code: FromPath[str],
    ) -> PlanRead:
        async with db.read() as session:
            await find_site(session, code, principal)
        return await service.get_plan(db, code, fiscal_year)

    @put("/plans/{code:str}", summary="Set a site's purchased days", opt={"access": "admin"})
    async def set_plan(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        code: FromPath[str],
        data: JSONBody[PlanSet],
    ) -> PlanRead:
        user = principal.username if principal else None
        return await service.set_plan(
            db, code, fiscal_year, data.days, user=user, reason=data.reason
        )

    @post(
        "/plans/{code:str}/state",
        summary="Submit, lock, cancel or reopen a plan",
        status_code=200,
        opt={"access": "admin"},
    )
    async def set_plan_state(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        code: FromPath[str],
        data: JSONBody[PlanStateSet],
    ) -> PlanRead:
        user = principal.username if principal else None
        return await service.set_plan_state(
            db, code, fiscal_year, data.state, user=user, reason=data.reason
        )

    @get("/plans/{code:str}/history", summary="List a plan's changes", opt={"access": "staff"})
    async def plan_history(
        self, db: DatabaseDep, fiscal_year: FromPath[str], code: FromPath[str]
    ) -> list[PlanChangeRead]:
        return await service.plan_history(db, code, fiscal_year)

    @post(
        "/lock",
        summary="Lock every submitted plan as budget development closes",
        status_code=200,
        opt={"access": "admin"},
    )
    async def lock(
        self, db: DatabaseDep, principal: PrincipalDep, fiscal_year: FromPath[str]
    ) -> dict[str, int]:
        user = principal.username if principal else None
        return {"locked": await service.lock_year(db, fiscal_year, user)}

    @post(
        "/schedule",
        summary="Rebuild the weekly schedule from submitted and locked plans",
        status_code=200,
        opt={"access": "admin"},
    )
    async def build_schedule(
        self, db: DatabaseDep, principal: PrincipalDep, fiscal_year: FromPath[str]
    ) -> ScheduleReport:
        user = principal.username if principal else None
        return await assignments.assign_year(db, fiscal_year, user)

    @get("/assignments", summary="List the weekly schedule", opt={"access": "staff"})
    async def list_assignments(
        self,
        db: DatabaseDep,
        fiscal_year: FromPath[str],
        technician: FromQuery[str | None] = None,
        site: FromQuery[str | None] = None,
    ) -> list[AssignmentRead]:
        return await assignments.list_assignments(db, fiscal_year, technician, site)

    @post(
        "/assignments",
        summary="Add one weekly day by hand",
        status_code=201,
        opt={"access": "admin"},
    )
    async def add_assignment(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        data: JSONBody[AssignmentCreate],
    ) -> AssignmentRead:
        user = principal.username if principal else None
        return await assignments.add_assignment(db, fiscal_year, data, user)

    @get("/closed-days", summary="List closed days", opt={"access": "staff"})
    async def list_closed_days(
        self, db: DatabaseDep, fiscal_year: FromPath[str]
    ) -> list[ClosedDayRead]:
        return await reports.list_closed_days(db, fiscal_year)

    @get("/summary", summary="Total purchased days, FTE and cost", opt={"access": "staff"})
    async def summary(self, db: DatabaseDep, fiscal_year: FromPath[str]) -> FiscalSummary:
        return await reports.fiscal_summary(db, fiscal_year)

    @get("/technician-load", summary="List technicians and their load", opt={"access": "staff"})
    async def technician_load(
        self, db: DatabaseDep, fiscal_year: FromPath[str]
    ) -> list[TechnicianLoad]:
        return await reports.technician_load(db, fiscal_year)

    @get(
        "/sites/{code:str}/delivery",
        summary="Days delivered against purchased, per month",
        opt={"access": "user"},
    )
    async def delivery(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        fiscal_year: FromPath[str],
        code: FromPath[str],
    ) -> list[MonthDelivery]:
        async with db.read() as session:
            await find_site(session, code, principal)
        return await reports.delivery_for_site(db, code, fiscal_year)


class ScheduleEditController(Controller):
    tags = ["service plans"]

    @delete(
        "/api/v1/assignments/{assignment_id:int}",
        summary="Remove one weekly day",
        opt={"access": "admin"},
    )
    async def remove_assignment(
        self, db: DatabaseDep, principal: PrincipalDep, assignment_id: FromPath[int]
    ) -> None:
        user = principal.username if principal else None
        await assignments.remove_assignment(db, assignment_id, user)

    @post(
        "/api/v1/closed-days",
        summary="Add a closed day for a site or every site",
        status_code=201,
        opt={"access": "admin"},
    )
    async def add_closed_day(
        self, db: DatabaseDep, data: JSONBody[ClosedDayCreate]
    ) -> ClosedDayRead:
        return await reports.add_closed_day(db, data)


class VisitController(Controller):
    path = "/api/v1/visits"
    tags = ["visits"]

    @post("/", summary="Check in at a site", status_code=201, opt={"access": "staff"})
    async def check_in(
        self, db: DatabaseDep, principal: PrincipalDep, data: JSONBody[CheckIn]
    ) -> VisitRead:
        return await visits.check_in(db, data, principal)

    @get("/{visit_id:int}", summary="Get a visit", opt={"access": "staff"})
    async def get_visit(
        self, db: DatabaseDep, principal: PrincipalDep, visit_id: FromPath[int]
    ) -> VisitRead:
        return await visits.get_visit(db, visit_id, principal)

    @post(
        "/{visit_id:int}/check-out",
        summary="Check out of a visit",
        status_code=200,
        opt={"access": "staff"},
    )
    async def check_out(
        self,
        db: DatabaseDep,
        principal: PrincipalDep,
        visit_id: FromPath[int],
        data: JSONBody[CheckOut],
    ) -> VisitRead:
        return await visits.check_out(db, visit_id, data, principal)


class TimesheetController(Controller):
    tags = ["visits"]

    @get(
        "/api/v1/technicians/{employee_number:str}/timesheet",
        summary="A technician's visits for a period, as CSV",
        opt={"access": "staff"},
        media_type="text/csv",
    )
    async def timesheet(
        self,
        db: DatabaseDep,
        employee_number: FromPath[str],
        start: FromQuery[date | None] = None,
        end: FromQuery[date | None] = None,
    ) -> Response[str]:
        if start is None or end is None:
            raise InvalidInputError(
                "Missing start or end: give both dates of the period, e.g. "
                "?start=2026-09-01&end=2026-09-30."
            )
        body = await visits.timesheet_csv(db, employee_number, start, end)
        filename = f"timesheet-{employee_number.strip()}-{start}-{end}.csv"
        return Response(
            body,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
