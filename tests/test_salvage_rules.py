"""The salvage recommendation at the edge of each threshold."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from inventory.config import Settings
from inventory.salvage.rules import (
    AssessmentFacts,
    Thresholds,
    months_between,
    parse_grades,
    recommend,
)
from inventory.salvage.service import has_storage, thresholds

LIMITS = Thresholds(
    end_of_support_months=6,
    max_age_months=60,
    repair_cost_ratio_max=Decimal("0.5"),
    battery_health_min=60,
    reuse_grades=frozenset({"A", "B"}),
    harvest_grades=frozenset({"A", "B", "C"}),
)
TODAY = date(2026, 12, 4)
SOUND = AssessmentFacts(
    assessed_on=TODAY,
    condition_grade="B",
    age_months=36,
    warranty_active=False,
    end_of_support=date(2030, 6, 1),
    repair_cost=Decimal("40"),
    replacement_cost=Decimal("300"),
    battery_health=85,
)


def test_sound_device_is_reused() -> None:
    advice = recommend(SOUND, LIMITS)
    assert advice.decision == "reuse"
    assert advice.reasons == ("nothing rules out reuse",)


@pytest.mark.parametrize(
    ("change", "decision"),
    [
        ({"battery_health": 60}, "reuse"),
        ({"battery_health": 59}, "harvest"),
        ({"age_months": 60}, "reuse"),
        ({"age_months": 61}, "harvest"),
        ({"repair_cost": Decimal("150")}, "reuse"),
        ({"repair_cost": Decimal("150.01")}, "harvest"),
        # Six months after 2026-12-04 is 2027-06-04: that day is within, the next is not.
        ({"end_of_support": date(2027, 6, 5)}, "reuse"),
        ({"end_of_support": date(2027, 6, 4)}, "harvest"),
        # On the end-of-support day itself support has passed, so parts are not worth taking.
        ({"end_of_support": TODAY}, "recycle"),
        ({"end_of_support": date(2026, 12, 5)}, "harvest"),
        ({"condition_grade": "C"}, "harvest"),
        ({"condition_grade": "D"}, "recycle"),
        ({"missing_parts": ("keyboard",)}, "harvest"),
        ({"battery_health": None}, "reuse"),
        ({"age_months": None}, "reuse"),
        ({"end_of_support": None}, "reuse"),
    ],
)
def test_recommendation_at_threshold_edges(change: dict, decision: str) -> None:
    advice = recommend(replace(SOUND, **change), LIMITS)
    assert advice.decision == decision, advice.reasons


def test_warranty_makes_repair_cost_irrelevant() -> None:
    costly = replace(SOUND, repair_cost=Decimal("290"))
    assert recommend(costly, LIMITS).decision == "harvest"
    covered = recommend(replace(costly, warranty_active=True), LIMITS)
    assert covered.decision == "reuse"
    assert "a warranty still covers the device" in covered.reasons


def test_reasons_name_each_threshold() -> None:
    facts = replace(
        SOUND,
        battery_health=40,
        age_months=70,
        end_of_support=date(2025, 1, 1),
        condition_grade="D",
    )
    advice = recommend(facts, LIMITS)
    text = " | ".join(advice.reasons)
    assert advice.decision == "recycle"
    assert "battery health 40% is below the minimum of 60%" in text
    assert "age 70 months is over the maximum of 60" in text
    assert "end of support passed on 2025-01-01" in text
    assert "condition grade D" in text


def test_zero_replacement_cost_skips_ratio() -> None:
    advice = recommend(replace(SOUND, replacement_cost=Decimal("0")), LIMITS)
    assert advice.decision == "reuse"


def test_months_between_counts_whole_months() -> None:
    assert months_between(date(2021, 12, 4), TODAY) == 60
    assert months_between(date(2021, 12, 5), TODAY) == 59
    assert months_between(TODAY, date(2020, 1, 1)) == 0


def test_parse_grades_rejects_unknown() -> None:
    assert parse_grades(" a, B ", "X") == frozenset({"A", "B"})
    with pytest.raises(ValueError, match="unknown condition grades E"):
        parse_grades("A,E", "INVENTORY_SALVAGE_REUSE_GRADES")


def test_thresholds_come_from_settings() -> None:
    settings = Settings(
        environment="test",
        salvage_battery_health_min=70,
        salvage_reuse_grades="A",
        salvage_repair_cost_ratio_max=Decimal("0.25"),
    )
    limits = thresholds(settings)
    assert limits.battery_health_min == 70
    assert limits.reuse_grades == frozenset({"A"})
    assert recommend(SOUND, limits).decision == "harvest"
    assert limits.as_record()["repair_cost_ratio_max"] == "0.25"


def test_storage_by_device_type() -> None:
    settings = Settings(environment="test", salvage_types_without_storage="Monitor, projector")
    assert has_storage(settings, "chromebook")
    assert not has_storage(settings, "monitor")
    assert not has_storage(settings, " PROJECTOR ")


def test_unknown_grade_setting_rejected() -> None:
    with pytest.raises(ValueError, match="unknown condition grades E"):
        Settings(environment="test", salvage_harvest_grades="A,E")
