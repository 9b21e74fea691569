"""Enrollment bands, published rates and plan state rules."""

from decimal import Decimal

import pytest

from inventory.plans import rules

# The district's published rates for 1 to 5 days per week, from a 5-day cost of $130,753.
PUBLISHED = {5: 130_753, 4: 104_602, 3: 78_452, 2: 52_301, 1: 26_151}


@pytest.mark.parametrize(
    ("enrollment", "days"),
    [
        (0, 1),
        (1, 1),
        (200, 1),
        (201, 2),
        (400, 2),
        (401, 3),
        (600, 3),
        (601, 4),
        (800, 4),
        (801, 5),
        (5000, 5),
        (None, 1),
    ],
)
def test_band_edges(enrollment: int | None, days: int) -> None:
    assert rules.recommended_days(enrollment) == days


def test_negative_enrollment_rejected() -> None:
    with pytest.raises(ValueError, match="-1"):
        rules.recommended_days(-1)


@pytest.mark.parametrize(("days", "rate"), sorted(PUBLISHED.items()))
def test_published_rates_exact(days: int, rate: int) -> None:
    cost = rules.cost_of_days(Decimal("130753"), days)
    assert cost == Decimal(rate)
    assert cost.as_tuple().exponent == 0


def test_rate_rounds_half_up() -> None:
    # 12.5 * 1 / 5 = 2.5, which rounds half up to 3 (banker's rounding would give 2).
    assert rules.cost_of_days(Decimal("12.5"), 1) == Decimal(3)
    assert rules.cost_of_days(Decimal("130753"), 0) == Decimal(0)


@pytest.mark.parametrize("days", [-1, 6])
def test_rate_days_out_of_range(days: int) -> None:
    with pytest.raises(ValueError, match="0 to 5"):
        rules.cost_of_days(Decimal(1000), days)


def test_locked_plan_may_grow_not_shrink() -> None:
    assert rules.plan_change_problem("locked", 2, 3) is None
    problem = rules.plan_change_problem("locked", 2, 1)
    assert problem is not None
    assert "locked" in problem
    assert rules.plan_change_problem("draft", 2, 1) is None


def test_locked_plan_cannot_be_cancelled() -> None:
    problem = rules.state_change_problem("locked", "cancelled")
    assert problem is not None
    assert "cannot be cancelled" in problem
    assert rules.state_change_problem("submitted", "locked") is None
    assert rules.state_change_problem("draft", "locked") is not None
    assert rules.state_change_problem("draft", "archived") is not None


def test_fte_of_days() -> None:
    assert rules.full_time_equivalent(5) == Decimal("1.0")
    assert rules.full_time_equivalent(3) == Decimal("0.6")
