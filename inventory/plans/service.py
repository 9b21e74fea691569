"""Rate cards and service plans: set a year's rates, buy days, submit and lock plans."""

from __future__ import annotations

import logging
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import Database
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.fiscal import FiscalYear, FiscalYearError
from inventory.plans import rules
from inventory.plans.models import PlanChange, RateCard, ServicePlan
from inventory.plans.schemas import PlanChangeRead, PlanRead, RateCardRead
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.types import utc_now

log = logging.getLogger(__name__)


def parse_fiscal_year(label: str) -> FiscalYear:
    """Parse a fiscal year label, raising InvalidInputError with the label on failure."""
    try:
        return FiscalYear.parse(label)
    except FiscalYearError as exc:
        raise InvalidInputError(str(exc), fiscal_year=label) from exc


def _rate_read(card: RateCard, recosted: int = 0) -> RateCardRead:
    return RateCardRead(
        fiscal_year=card.fiscal_year,
        annual_cost=card.annual_cost,
        provisional=card.provisional,
        day_rates={
            days: rules.cost_of_days(card.annual_cost, days)
            for days in range(1, rules.DAYS_PER_WEEK + 1)
        },
        updated_at=card.updated_at,
        updated_by=card.updated_by,
        plans_recosted=recosted,
    )


async def _rate_card(session: AsyncSession, fiscal_year: str) -> RateCard | None:
    return await session.scalar(select(RateCard).where(RateCard.fiscal_year == fiscal_year))


async def get_rate_card(db: Database, label: str) -> RateCardRead:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        card = await _rate_card(session, year.label)
    if card is None:
        raise NotFoundError(
            f"No rate card for fiscal year {year.label}; set one first.", fiscal_year=year.label
        )
    return _rate_read(card)


async def set_rate_card(
    db: Database, label: str, annual_cost: Decimal, provisional: bool, user: str | None
) -> RateCardRead:
    """Set a fiscal year's rate card and recompute the cost of every plan of that year.

    Each plan whose cost changes gets a "cost" change record naming the new rate card.
    Final rates are not replaced by provisional ones: that raises ConflictError.
    """
    year = parse_fiscal_year(label)
    if annual_cost < 0:
        raise InvalidInputError(f"annual cost {annual_cost} is negative", annual_cost=annual_cost)
    async with db.write() as session:
        card = await _rate_card(session, year.label)
        if card is None:
            card = RateCard(fiscal_year=year.label, annual_cost=annual_cost)
            session.add(card)
        elif not card.provisional and provisional:
            raise ConflictError(
                f"Fiscal year {year.label} already has final rates; set them again with "
                "provisional false to correct them.",
                fiscal_year=year.label,
            )
        card.annual_cost = annual_cost
        card.provisional = provisional
        card.updated_at = utc_now()
        card.updated_by = user
        kind = "provisional" if provisional else "final"
        reason = f"{kind} rate card: ${annual_cost} for 5 days"
        recosted = await _recost_plans(session, year.label, annual_cost, reason, user)
        await session.flush()
        log.info(
            "rate card set",
            extra={"fiscal_year": year.label, "annual_cost": str(annual_cost), "kind": kind},
        )
        return _rate_read(card, recosted)


async def _recost_plans(
    session: AsyncSession, fiscal_year: str, annual_cost: Decimal, reason: str, user: str | None
) -> int:
    plans = await session.scalars(select(ServicePlan).where(ServicePlan.fiscal_year == fiscal_year))
    changed = 0
    for plan in plans:
        cost = rules.cost_of_days(annual_cost, plan.days)
        if plan.annual_cost is not None and Decimal(plan.annual_cost) == cost:
            continue
        assert plan.id is not None
        _record_change(session, plan.id, "cost", plan.annual_cost, cost, reason, user)
        plan.annual_cost = cost
        plan.updated_at = utc_now()
        changed += 1
    return changed


def _record_change(
    session: AsyncSession,
    plan_id: int,
    kind: str,
    old: object,
    new: object,
    reason: str | None,
    user: str | None,
) -> None:
    session.add(
        PlanChange(
            plan_id=plan_id,
            kind=kind,
            old_value=None if old is None else str(old),
            new_value=None if new is None else str(new),
            reason=reason,
            changed_by=user,
        )
    )


def _plan_read(plan: ServicePlan, site: Site, card: RateCard | None) -> PlanRead:
    assert plan.id is not None
    return PlanRead(
        id=plan.id,
        site=site.code,
        site_name=site.name,
        site_kind=site.kind,
        region=site.region,
        fiscal_year=plan.fiscal_year,
        days=plan.days,
        recommended_days=plan.recommended_days,
        enrollment=site.enrollment,
        annual_cost=plan.annual_cost,
        cost_provisional=card.provisional if card else None,
        state=plan.state,
    )


async def _plan_for(session: AsyncSession, site: Site, fiscal_year: str) -> ServicePlan | None:
    return await session.scalar(
        select(ServicePlan).where(
            ServicePlan.site_id == site.id, ServicePlan.fiscal_year == fiscal_year
        )
    )


async def set_plan(
    db: Database,
    site_code: str,
    label: str,
    days: int,
    *,
    user: str | None,
    reason: str | None = None,
) -> PlanRead:
    """Create a site's draft plan for a fiscal year, or change its purchased days.

    Raises ConflictError (409) when a locked plan would be reduced, and InvalidInputError
    when the site's kind may not buy days or `days` is outside 0 to 5.
    """
    year = parse_fiscal_year(label)
    async with db.write() as session:
        site = await find_site(session, site_code)
        plan = await _apply_plan(session, site, year.label, days, user, reason)
        card = await _rate_card(session, year.label)
        return _plan_read(plan, site, card)


async def _apply_plan(
    session: AsyncSession,
    site: Site,
    fiscal_year: str,
    days: int,
    user: str | None,
    reason: str | None,
) -> ServicePlan:
    if site.kind not in rules.BUYING_KINDS:
        raise InvalidInputError(
            f"Site {site.code!r} is a {site.kind}, which does not buy service days; it is "
            "supported through tickets.",
            site=site.code,
            kind=site.kind,
        )
    recommended = rules.recommended_days(site.enrollment)
    card = await _rate_card(session, fiscal_year)
    cost = rules.cost_of_days(card.annual_cost, days) if card else None
    plan = await _plan_for(session, site, fiscal_year)
    if plan is None:
        if not 0 <= days <= rules.DAYS_PER_WEEK:
            raise InvalidInputError(f"days per week must be 0 to 5, got {days}", days=days)
        plan = ServicePlan(
            site_id=site.id,
            fiscal_year=fiscal_year,
            days=days,
            recommended_days=recommended,
            annual_cost=cost,
            state="draft",
        )
        session.add(plan)
        await session.flush()
        assert plan.id is not None
        _record_change(session, plan.id, "created", None, days, reason, user)
        return plan
    problem = rules.plan_change_problem(plan.state, plan.days, days)
    if problem:
        error = ConflictError if plan.state in ("locked", "cancelled") else InvalidInputError
        raise error(
            f"Plan for {site.code} in {fiscal_year}: {problem}.",
            site=site.code,
            fiscal_year=fiscal_year,
            state=plan.state,
            days=plan.days,
        )
    assert plan.id is not None
    if days != plan.days:
        _record_change(session, plan.id, "days", plan.days, days, reason, user)
        if cost is not None and cost != plan.annual_cost:
            _record_change(session, plan.id, "cost", plan.annual_cost, cost, reason, user)
    plan.days = days
    plan.recommended_days = recommended
    plan.annual_cost = cost
    plan.updated_at = utc_now()
    return plan


async def set_plan_state(
    db: Database, site_code: str, label: str, state: str, *, user: str | None, reason: str | None
) -> PlanRead:
    """Move a plan to another state; a locked plan can never be cancelled (409)."""
    year = parse_fiscal_year(label)
    async with db.write() as session:
        site = await find_site(session, site_code)
        plan = await _plan_for(session, site, year.label)
        if plan is None:
            raise NotFoundError(
                f"Site {site.code} has no plan for {year.label}.",
                site=site.code,
                fiscal_year=year.label,
            )
        problem = rules.state_change_problem(plan.state, state)
        if problem:
            error = InvalidInputError if state not in rules.PLAN_STATES else ConflictError
            raise error(
                f"Plan for {site.code} in {year.label}: {problem}.",
                site=site.code,
                state=plan.state,
            )
        if state != plan.state:
            assert plan.id is not None
            _record_change(session, plan.id, "state", plan.state, state, reason, user)
            plan.state = state
            plan.updated_at = utc_now()
        card = await _rate_card(session, year.label)
        return _plan_read(plan, site, card)


async def lock_year(db: Database, label: str, user: str | None) -> int:
    """Lock every submitted plan of a fiscal year as budget development closes.

    Returns the number of plans locked. Draft plans stay drafts.
    """
    year = parse_fiscal_year(label)
    async with db.write() as session:
        plans = await session.scalars(
            select(ServicePlan).where(
                ServicePlan.fiscal_year == year.label, ServicePlan.state == "submitted"
            )
        )
        count = 0
        for plan in plans:
            assert plan.id is not None
            reason = "budget development closed"
            _record_change(session, plan.id, "state", plan.state, "locked", reason, user)
            plan.state = "locked"
            plan.updated_at = utc_now()
            count += 1
        log.info("plans locked", extra={"fiscal_year": year.label, "plans": count})
        return count


async def plans_from_enrollment(
    db: Database, label: str, *, user: str | None, state: str = "draft"
) -> int:
    """Create a plan at the recommended days for every buying site that has none.

    Returns the number of plans created. Existing plans are left as they are.
    """
    year = parse_fiscal_year(label)
    async with db.write() as session:
        return await plans_from_enrollment_in(session, year.label, user=user, state=state)


async def plans_from_enrollment_in(
    session: AsyncSession, fiscal_year: str, *, user: str | None, state: str = "draft"
) -> int:
    """Do what plans_from_enrollment does inside an open transaction."""
    planned = set(
        await session.scalars(
            select(ServicePlan.site_id).where(ServicePlan.fiscal_year == fiscal_year)
        )
    )
    card = await _rate_card(session, fiscal_year)
    sites = await session.scalars(select(Site).where(Site.kind.in_(rules.BUYING_KINDS)))
    plans = []
    for site in sites:
        if site.id in planned:
            continue
        days = rules.recommended_days(site.enrollment)
        plans.append(
            ServicePlan(
                site_id=site.id,
                fiscal_year=fiscal_year,
                days=days,
                recommended_days=days,
                annual_cost=rules.cost_of_days(card.annual_cost, days) if card else None,
                state=state,
            )
        )
    session.add_all(plans)
    await session.flush()
    for plan in plans:
        assert plan.id is not None
        _record_change(session, plan.id, "created", None, plan.days, "from enrollment", user)
    return len(plans)


async def get_plan(db: Database, site_code: str, label: str) -> PlanRead:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        site = await find_site(session, site_code)
        plan = await _plan_for(session, site, year.label)
        if plan is None:
            raise NotFoundError(
                f"Site {site.code} has no plan for {year.label}; it is supported through tickets.",
                site=site.code,
                fiscal_year=year.label,
            )
        return _plan_read(plan, site, await _rate_card(session, year.label))


async def list_plans(db: Database, label: str, region: str | None = None) -> list[PlanRead]:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        query = (
            select(ServicePlan, Site)
            .join(Site, Site.id == ServicePlan.site_id)
            .where(ServicePlan.fiscal_year == year.label)
            .order_by(Site.code)
        )
        if region is not None:
            query = query.where(Site.region == region)
        card = await _rate_card(session, year.label)
        rows = (await session.execute(query)).all()
        return [_plan_read(plan, site, card) for plan, site in rows]


async def plan_history(db: Database, site_code: str, label: str) -> list[PlanChangeRead]:
    year = parse_fiscal_year(label)
    async with db.read() as session:
        site = await find_site(session, site_code)
        plan = await _plan_for(session, site, year.label)
        if plan is None:
            raise NotFoundError(f"Site {site.code} has no plan for {year.label}.", site=site.code)
        changes = await session.scalars(
            select(PlanChange).where(PlanChange.plan_id == plan.id).order_by(PlanChange.id)
        )
        return [
            PlanChangeRead(
                kind=change.kind,
                old_value=change.old_value,
                new_value=change.new_value,
                reason=change.reason,
                changed_by=change.changed_by,
                changed_at=change.changed_at,
            )
            for change in changes
        ]
