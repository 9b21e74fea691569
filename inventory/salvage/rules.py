"""The salvage recommendation: reuse, harvest or recycle, from an assessment and thresholds.

Pure rules with no I/O. The thresholds come from the INVENTORY_SALVAGE_* settings, so a
district changes them without changing code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from inventory.fiscal import add_months

# A: like new, B: worn but sound, C: damaged but repairable, D: broken beyond repair.
CONDITION_GRADES = ("A", "B", "C", "D")


@dataclass(frozen=True)
class Thresholds:
    end_of_support_months: int
    max_age_months: int
    repair_cost_ratio_max: Decimal
    battery_health_min: int
    reuse_grades: frozenset[str]
    harvest_grades: frozenset[str]

    def as_record(self) -> dict[str, Any]:
        """Return the thresholds as JSON-ready values, stored beside each recommendation."""
        values = asdict(self)
        values["repair_cost_ratio_max"] = str(self.repair_cost_ratio_max)
        values["reuse_grades"] = sorted(self.reuse_grades)
        values["harvest_grades"] = sorted(self.harvest_grades)
        return values


def parse_grades(text: str, setting: str) -> frozenset[str]:
    """Read a comma-separated list of condition grades; raise ValueError naming `setting`."""
    grades = frozenset(part.strip().upper() for part in text.split(",") if part.strip())
    unknown = sorted(grades - set(CONDITION_GRADES))
    if unknown:
        raise ValueError(
            f"{setting} has unknown condition grades {', '.join(unknown)}; "
            f"use some of {', '.join(CONDITION_GRADES)}"
        )
    return grades


@dataclass(frozen=True)
class AssessmentFacts:
    """Inputs of a recommendation: the technician's findings and the device's dates as they
    were on the day of the assessment."""

    assessed_on: date
    condition_grade: str
    age_months: int | None
    warranty_active: bool
    end_of_support: date | None
    repair_cost: Decimal
    replacement_cost: Decimal
    battery_health: int | None
    missing_parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recommendation:
    decision: str
    reasons: tuple[str, ...]


def months_between(start: date, end: date) -> int:
    """Return the whole months from `start` to `end`; 0 when `end` is not later."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def _reasons_against_reuse(facts: AssessmentFacts, limits: Thresholds) -> list[str]:
    reasons: list[str] = []
    if facts.condition_grade not in limits.reuse_grades:
        allowed = ", ".join(sorted(limits.reuse_grades)) or "none"
        reasons.append(
            f"condition grade {facts.condition_grade} is not one that allows reuse ({allowed})"
        )
    if facts.end_of_support is not None:
        horizon = add_months(facts.assessed_on, limits.end_of_support_months)
        if facts.end_of_support <= facts.assessed_on:
            reasons.append(f"end of support passed on {facts.end_of_support.isoformat()}")
        elif facts.end_of_support <= horizon:
            reasons.append(
                f"end of support on {facts.end_of_support.isoformat()} is within "
                f"{limits.end_of_support_months} months"
            )
    if facts.age_months is not None and facts.age_months > limits.max_age_months:
        reasons.append(
            f"age {facts.age_months} months is over the maximum of {limits.max_age_months}"
        )
    if facts.warranty_active:
        pass  # The vendor repairs a covered device, so its repair cost is no reason.
    elif facts.replacement_cost > 0:
        ratio = facts.repair_cost / facts.replacement_cost
        if ratio > limits.repair_cost_ratio_max:
            reasons.append(
                f"repair cost {facts.repair_cost} is {ratio:.0%} of the replacement cost "
                f"{facts.replacement_cost}, over the maximum of "
                f"{limits.repair_cost_ratio_max:.0%}"
            )
    if facts.battery_health is not None and facts.battery_health < limits.battery_health_min:
        reasons.append(
            f"battery health {facts.battery_health}% is below the minimum of "
            f"{limits.battery_health_min}%"
        )
    if facts.missing_parts:
        reasons.append(f"missing parts: {', '.join(facts.missing_parts)}")
    return reasons


def recommend(facts: AssessmentFacts, limits: Thresholds) -> Recommendation:
    """Recommend reuse, harvest or recycle, with the reasons.

    Reuse when nothing rules it out. Otherwise harvest when the grade is one worth
    harvesting and the end of support has not passed, because parts then still serve
    supported devices of the same model. Otherwise recycle.
    """
    against = _reasons_against_reuse(facts, limits)
    if not against:
        reasons = ["nothing rules out reuse"]
        if facts.warranty_active:
            reasons.append("a warranty still covers the device")
        return Recommendation("reuse", tuple(reasons))
    supported = facts.end_of_support is None or facts.end_of_support > facts.assessed_on
    if facts.condition_grade in limits.harvest_grades and supported:
        harvest_reason = f"condition grade {facts.condition_grade} leaves parts worth harvesting"
        return Recommendation("harvest", (*against, harvest_reason))
    if facts.condition_grade not in limits.harvest_grades:
        recycle_reason = f"condition grade {facts.condition_grade} leaves no parts worth harvesting"
    else:
        recycle_reason = "parts of a model past its end of support are not worth harvesting"
    return Recommendation("recycle", (*against, recycle_reason))
