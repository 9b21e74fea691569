"""Enrollment bands, the cost of service days, and plan states. Pure: no I/O."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DAYS_PER_WEEK = 5
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")

# Upper enrollment bound of each band and the days per week it recommends. The district's
# budget memo gives "fewer than 200" for 1 day and "201-400" for 2 days. 200 falls in neither
# band, so this service puts it in the 1-day band.
ENROLLMENT_BANDS = ((200, 1), (400, 2), (600, 3), (800, 4))

# Site kinds that may buy service days. A central office and any site without a plan is
# supported through tickets.
BUYING_KINDS = frozenset({"school", "virtual_academy", "division_office", "region_office"})
# Offices pay their own mileage; the district pays it for schools and virtual academies.
OFFICE_KINDS = frozenset({"division_office", "region_office", "central_office"})

PLAN_STATES = {
    "draft": "Draft",
    "submitted": "Submitted",
    "locked": "Locked (budget development closed)",
    "cancelled": "Cancelled",
}
# Allowed state changes. "locked" is entered when budget development closes, and a locked
# plan may not be cancelled.
PLAN_TRANSITIONS = {
    "draft": {"submitted", "cancelled"},
    "submitted": {"draft", "locked", "cancelled"},
    "locked": set(),
    "cancelled": {"draft"},
}


def recommended_days(enrollment: int | None) -> int:
    """Return the days per week that the enrollment bands recommend.

    A site with no enrollment on record (an office) gets 1 day. Raises ValueError for a
    negative enrollment.
    """
    if enrollment is None:
        return 1
    if enrollment < 0:
        raise ValueError(f"enrollment must be 0 or more, got {enrollment}")
    for upper, days in ENROLLMENT_BANDS:
        if enrollment <= upper:
            return days
    return DAYS_PER_WEEK


def cost_of_days(annual_cost: Decimal, days: int) -> Decimal:
    """Return the annual cost of `days` per week: full-time cost * days / 5, in whole dollars.

    Rounded half up, as the district's published rates are. Raises ValueError for days
    outside 0 to 5 or a negative cost.
    """
    if not 0 <= days <= DAYS_PER_WEEK:
        raise ValueError(f"days per week must be 0 to {DAYS_PER_WEEK}, got {days}")
    if annual_cost < 0:
        raise ValueError(f"annual cost must be 0 or more, got {annual_cost}")
    share = Decimal(annual_cost) * days / DAYS_PER_WEEK
    return share.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def full_time_equivalent(days: int) -> Decimal:
    """Return the FTE share of `days` per week: 5 days is 1.0."""
    return (Decimal(days) / DAYS_PER_WEEK).quantize(Decimal("0.1"))


def plan_change_problem(state: str, old_days: int, new_days: int) -> str | None:
    """Return why a plan in `state` may not go from `old_days` to `new_days`, or None."""
    if not 0 <= new_days <= DAYS_PER_WEEK:
        return f"days per week must be 0 to {DAYS_PER_WEEK}, got {new_days}"
    if state == "locked" and new_days < old_days:
        return (
            f"the plan is locked because budget development has closed, so its {old_days} "
            f"days per week may be increased but not reduced to {new_days}"
        )
    if state == "cancelled":
        return "the plan is cancelled; return it to draft before changing its days"
    return None


def state_change_problem(state: str, new_state: str) -> str | None:
    """Return why a plan may not move from `state` to `new_state`, or None."""
    if new_state not in PLAN_STATES:
        return f"unknown plan state {new_state!r}; use one of {', '.join(PLAN_STATES)}"
    if new_state == state:
        return None
    if state == "locked" and new_state == "cancelled":
        return "the plan is locked because budget development has closed, so it cannot be cancelled"
    if new_state not in PLAN_TRANSITIONS[state]:
        allowed = ", ".join(sorted(PLAN_TRANSITIONS[state])) or "none"
        return f"a {state} plan cannot become {new_state} (allowed: {allowed})"
    return None
