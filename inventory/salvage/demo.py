"""Salvage records for the demo district, matching the histories the fleet generator wrote.

The generated histories already contain `assess_salvage` and `recycle` events. This module
adds the records those steps rest on. Each decision gets an assessment with its
recommendation, each harvest or recycle a data sanitization, and each harvest its spare
parts. The recycled devices go into one closed recycling batch per pickup and region.
Devices still in recycle_pending are left for the demo's users to put into a batch.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from inventory.config import Settings
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.salvage.models import (
    HarvestedPart,
    RecyclingBatch,
    RecyclingBatchDevice,
    SalvageAssessment,
    Sanitization,
)
from inventory.salvage.rules import AssessmentFacts, months_between, recommend
from inventory.salvage.service import has_storage, thresholds
from inventory.sites.models import Site
from inventory.technicians.models import Technician

ASSESSMENTS: Table = SalvageAssessment.__table__
SANITIZATIONS: Table = Sanitization.__table__
PARTS: Table = HarvestedPart.__table__
BATCHES: Table = RecyclingBatch.__table__
BATCH_DEVICES: Table = RecyclingBatchDevice.__table__

DEMO_RECYCLER = "Metro E-Waste Recyclers (demo)"
_TOOLS = {
    "clear": "ChromeOS Powerwash",
    "purge": "Firmware reset with secure erase, recovery image 128",
    "destroy": "Drive shredder, 6 mm",
}
_HARVESTED = ("battery", "screen", "keyboard")
# Findings a technician might record for each decision; the recommendation is computed
# from them with the configured thresholds, so some decisions go against it.
_FINDINGS = {
    "reuse": ("B", Decimal("25.00"), 82),
    "harvest": ("C", Decimal("190.00"), 48),
    "recycle": ("D", Decimal("260.00"), 35),
}
_REPLACEMENT_COST = Decimal("300.00")


@dataclass
class DemoSalvageCounts:
    assessments: int = 0
    sanitizations: int = 0
    parts: int = 0
    batches: int = 0


async def add_demo_salvage(
    connection: AsyncConnection, settings: Settings, rng: random.Random
) -> DemoSalvageCounts:
    """Insert the salvage records behind the demo's assess_salvage and recycle events."""
    counts = DemoSalvageCounts()
    rows = (
        await connection.execute(
            select(  # type: ignore[misc]  # mypy gives up on the overloads of 13 columns
                DeviceEvent.id,
                DeviceEvent.device_id,
                DeviceEvent.action,
                DeviceEvent.technician_id,
                DeviceEvent.site_id,
                DeviceEvent.occurred_at,
                DeviceEvent.data,
                Device.purchase_date,
                Device.warranty_start,
                Device.warranty_end,
                DeviceModel.end_of_support,
                DeviceModel.device_type,
                Site.region,
            )
            .join(Device, Device.id == DeviceEvent.device_id)
            .join(DeviceModel, DeviceModel.id == Device.model_id)
            .join(Site, Site.id == DeviceEvent.site_id)
            .where(DeviceEvent.action.in_(["assess_salvage", "recycle"]))
            .order_by(DeviceEvent.id)
        )
    ).all()
    if not rows:
        return counts
    by_region: dict[str | None, list[int]] = defaultdict(list)
    for technician_id, region in await connection.execute(
        select(Technician.id, Technician.home_region).order_by(Technician.id)
    ):
        by_region[region].append(technician_id)

    await _add_assessments(connection, settings, rng, rows, by_region, counts)
    await _add_batches(connection, [row for row in rows if row.action == "recycle"], counts)
    return counts


def _verifier(rng: random.Random, technician_id: int, colleagues: list[int]) -> int:
    others = [other for other in colleagues if other != technician_id]
    return rng.choice(others) if others else technician_id


async def _add_assessments(
    connection: AsyncConnection,
    settings: Settings,
    rng: random.Random,
    rows: list[Any],
    by_region: dict[str | None, list[int]],
    counts: DemoSalvageCounts,
) -> None:
    limits = thresholds(settings)
    assessments = []
    sanitizations = []
    harvests: list[tuple[int, int, datetime]] = []
    for row in rows:
        if row.action != "assess_salvage":
            continue
        decision = row.data["decision"]
        day = row.occurred_at.astimezone(settings.zone).date()
        grade, repair_cost, battery = _FINDINGS[decision]
        covered = row.warranty_start is not None and row.warranty_start <= day <= row.warranty_end
        facts = AssessmentFacts(
            assessed_on=day,
            condition_grade=grade,
            age_months=months_between(row.purchase_date, day) if row.purchase_date else None,
            warranty_active=covered,
            end_of_support=row.end_of_support,
            repair_cost=repair_cost,
            replacement_cost=_REPLACEMENT_COST,
            battery_health=battery,
        )
        advice = recommend(facts, limits)
        notes = row.data.get("assessment")
        assessments.append(
            {
                "device_id": row.device_id,
                "technician_id": row.technician_id,
                "condition_grade": grade,
                "age_months": facts.age_months,
                "warranty_active": covered,
                "end_of_support": row.end_of_support,
                "repair_cost": repair_cost,
                "replacement_cost": _REPLACEMENT_COST,
                "battery_health": battery,
                "missing_parts": [],
                "notes": notes,
                "recommendation": advice.decision,
                "reasons": list(advice.reasons),
                "thresholds": limits.as_record(),
                "assessed_at": row.occurred_at,
                "decision": decision,
                "decision_reason": None
                if advice.decision == decision
                else f"Decided on inspection: {notes}",
                "decided_by_id": row.technician_id,
                "decided_at": row.occurred_at,
                "decision_event_id": row.id,
            }
        )
        method = row.data.get("sanitization_method")
        if method and has_storage(settings, row.device_type):
            sanitizations.append(
                {
                    "device_id": row.device_id,
                    "method": method,
                    "tool": _TOOLS[method],
                    "performed_on": day,
                    "technician_id": row.technician_id,
                    "verified_by_id": _verifier(rng, row.technician_id, by_region[row.region]),
                    "notes": None,
                    "recorded_at": row.occurred_at,
                    "recorded_by": "demo",
                }
            )
        if decision == "harvest":
            harvests.append((row.device_id, row.site_id, row.occurred_at))
    if assessments:
        await connection.execute(insert(ASSESSMENTS), assessments)
    if sanitizations:
        await connection.execute(insert(SANITIZATIONS), sanitizations)
    counts.assessments = len(assessments)
    counts.sanitizations = len(sanitizations)
    await _add_parts(connection, harvests, counts)


async def _add_parts(
    connection: AsyncConnection,
    harvests: list[tuple[int, int, datetime]],
    counts: DemoSalvageCounts,
) -> None:
    if not harvests:
        return
    assessment_ids: dict[int, int] = dict(
        (
            await connection.execute(
                select(SalvageAssessment.device_id, SalvageAssessment.id).where(
                    SalvageAssessment.decision == "harvest"
                )
            )
        ).all()
    )
    parts = [
        {
            "source_device_id": device_id,
            "part": part,
            "site_id": site_id,
            "harvested_at": at,
            "assessment_id": assessment_ids.get(device_id),
        }
        for device_id, site_id, at in harvests
        for part in _HARVESTED
    ]
    await connection.execute(insert(PARTS), parts)
    counts.parts = len(parts)


async def _add_batches(
    connection: AsyncConnection, rows: list[Any], counts: DemoSalvageCounts
) -> None:
    """Insert one closed batch per pickup label and region, holding its recycled devices."""
    groups: dict[tuple[str, str | None], list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.data["recycling_batch"], row.region)].append(row)
    for (label, region), members in sorted(
        groups.items(), key=lambda item: (item[0][0], str(item[0][1]))
    ):
        last = max(members, key=lambda row: row.occurred_at)
        year, month = (int(part) for part in label.removeprefix("RB-").split("-"))
        result = await connection.execute(
            insert(BATCHES)
            .values(
                site_id=None,
                region=region,
                recycler=DEMO_RECYCLER,
                pickup_date=date(year, month, 15),
                certificate_number=f"{label}-{(region or 'X')[:3].upper()}",
                status="closed",
                device_count=len(members),
                created_at=min(row.occurred_at for row in members),
                created_by="demo",
                closed_at=last.occurred_at,
                closed_by_id=last.technician_id,
            )
            .returning(BATCHES.c.id)
        )
        batch_id = result.scalar_one()
        await connection.execute(
            insert(BATCH_DEVICES),
            [{"batch_id": batch_id, "device_id": row.device_id} for row in members],
        )
        counts.batches += 1
