"""Salvage assessments, data sanitization records, decisions and harvested parts."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from inventory.accounts.principal import Principal
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.models import Device, DeviceModel
from inventory.devices.schemas import ActionRequest, ActionResult
from inventory.devices.service import acting_technician, apply_action_in, find_device
from inventory.errors import ConflictError, InvalidInputError, NotFoundError
from inventory.escalations.service import coverage_periods
from inventory.lifecycle import (
    SALVAGE_OUTCOMES,
    SANITIZATION_METHODS,
    SANITIZATION_NOT_NEEDED,
    DeviceContext,
    State,
    warranty_active,
)
from inventory.salvage.models import (
    DeviceEndOfSupport,
    HarvestedPart,
    SalvageAssessment,
    Sanitization,
)
from inventory.salvage.rules import (
    AssessmentFacts,
    Thresholds,
    months_between,
    parse_grades,
    recommend,
)
from inventory.salvage.schemas import (
    AssessmentCreate,
    AssessmentRead,
    DecisionCreate,
    PartRead,
    PartUse,
    QueueItem,
    SalvageRecord,
    SanitizationCreate,
    SanitizationRead,
)
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.technicians.service import find_active_technician
from inventory.timeutil import district_today
from inventory.types import utc_now

log = logging.getLogger(__name__)

_Decider = aliased(Technician)
_Verifier = aliased(Technician)
_User = aliased(Device)


def thresholds(settings: Settings) -> Thresholds:
    """Return the recommendation thresholds of the INVENTORY_SALVAGE_* settings.

    Raises InvalidInputError when a grade list names an unknown grade.
    """
    try:
        reuse = parse_grades(settings.salvage_reuse_grades, "INVENTORY_SALVAGE_REUSE_GRADES")
        harvest = parse_grades(settings.salvage_harvest_grades, "INVENTORY_SALVAGE_HARVEST_GRADES")
    except ValueError as exc:
        raise InvalidInputError(f"{exc}; fix the setting and restart the service.") from exc
    return Thresholds(
        end_of_support_months=settings.salvage_end_of_support_months,
        max_age_months=settings.salvage_max_age_months,
        repair_cost_ratio_max=settings.salvage_repair_cost_ratio_max,
        battery_health_min=settings.salvage_battery_health_min,
        reuse_grades=reuse,
        harvest_grades=harvest,
    )


def has_storage(settings: Settings, device_type: str) -> bool:
    """Return whether devices of `device_type` may hold user data and so need sanitization."""
    without = {
        part.strip().casefold()
        for part in settings.salvage_types_without_storage.split(",")
        if part.strip()
    }
    return device_type.strip().casefold() not in without


async def end_of_support_of(
    session: AsyncSession, device: Device
) -> tuple[date | None, str | None, str | None]:
    """Return the device's end of support, its precision and where it came from.

    A device's own date overrides its model's. The source is "device", "model" or None.
    """
    own = await session.get(DeviceEndOfSupport, device.id)
    if own is not None:
        return own.end_of_support, own.precision, "device"
    model = await session.get(DeviceModel, device.model_id)
    if model is not None and model.end_of_support is not None:
        return model.end_of_support, model.end_of_support_precision, "model"
    return None, None, None


def _check_visible(principal: Principal | None, device: Device) -> None:
    if principal is not None and not principal.may_see_device(
        device.site_id, device.escalation_vendor_id
    ):
        raise NotFoundError(
            f"Device with asset tag {device.asset_tag!r} not found.", asset_tag=device.asset_tag
        )


async def require_technician(
    session: AsyncSession, actor: Principal | None, requested: str | None
) -> Technician:
    """Return the technician a salvage step names; raise InvalidInputError when none is."""
    technician = await acting_technician(session, actor, requested)
    if technician is None:
        raise InvalidInputError(
            "technician is required: give the employee number of the technician who did it.",
            fields={"technician": "required"},
        )
    return technician


def _assessment_read(
    row: SalvageAssessment, asset_tag: str, technician: str, decided_by: str | None
) -> AssessmentRead:
    assert row.id is not None
    return AssessmentRead(
        id=row.id,
        asset_tag=asset_tag,
        technician=technician,
        condition_grade=row.condition_grade,
        age_months=row.age_months,
        warranty_active=row.warranty_active,
        end_of_support=row.end_of_support,
        repair_cost=Decimal(row.repair_cost),
        replacement_cost=Decimal(row.replacement_cost),
        battery_health=row.battery_health,
        missing_parts=list(row.missing_parts),
        notes=row.notes,
        recommendation=row.recommendation,
        reasons=list(row.reasons),
        thresholds=dict(row.thresholds),
        assessed_at=row.assessed_at,
        decision=row.decision,
        decision_reason=row.decision_reason,
        decided_by=decided_by,
        decided_at=row.decided_at,
    )


async def create_assessment(
    db: Database, asset_tag: str, data: AssessmentCreate, actor: Principal | None
) -> AssessmentRead:
    """Record a technician's assessment of a device awaiting salvage, with the service's
    recommendation and its reasons."""
    settings = db.settings
    limits = thresholds(settings)
    async with db.write() as session:
        device = await find_device(session, asset_tag)
        _check_visible(actor, device)
        if device.state != State.AWAITING_SALVAGE.value:
            raise ConflictError(
                f"Device {device.asset_tag!r} is in state {device.state!r}; only a device in "
                "awaiting_salvage can be assessed. Request salvage first.",
                current_state=device.state,
            )
        technician = await require_technician(session, actor, data.technician)
        assert device.id is not None
        today = district_today(settings.zone)
        end_of_support, _precision, _source = await end_of_support_of(session, device)
        covered = warranty_active(
            DeviceContext(state=None, coverages=await coverage_periods(session, device.id)), today
        )
        facts = AssessmentFacts(
            assessed_on=today,
            condition_grade=data.condition_grade.upper(),
            age_months=months_between(device.purchase_date, today)
            if device.purchase_date
            else None,
            warranty_active=covered,
            end_of_support=end_of_support,
            repair_cost=data.repair_cost,
            replacement_cost=data.replacement_cost,
            battery_health=data.battery_health,
            missing_parts=tuple(data.missing_parts),
        )
        advice = recommend(facts, limits)
        row = SalvageAssessment(
            device_id=device.id,
            technician_id=technician.id or 0,
            condition_grade=facts.condition_grade,
            age_months=facts.age_months,
            warranty_active=covered,
            end_of_support=end_of_support,
            repair_cost=data.repair_cost,
            replacement_cost=data.replacement_cost,
            battery_health=data.battery_health,
            missing_parts=list(data.missing_parts),
            notes=data.notes,
            recommendation=advice.decision,
            reasons=list(advice.reasons),
            thresholds=limits.as_record(),
        )
        session.add(row)
        await session.flush()
        log.info(
            "salvage assessed",
            extra={
                "asset_tag": device.asset_tag,
                "technician": technician.employee_number,
                "recommendation": advice.decision,
            },
        )
        return _assessment_read(row, device.asset_tag, technician.employee_number, None)


async def record_sanitization(
    db: Database, asset_tag: str, data: SanitizationCreate, actor: Principal | None
) -> SanitizationRead:
    """Record that a device's storage was sanitized and verified."""
    method = data.method.strip().casefold()
    if method not in SANITIZATION_METHODS:
        raise InvalidInputError(
            f"Sanitization method {data.method!r} is not one of "
            f"{', '.join(SANITIZATION_METHODS)} (NIST SP 800-88 Rev. 1).",
            method=data.method,
        )
    settings = db.settings
    today = district_today(settings.zone)
    performed_on = data.performed_on or today
    if performed_on > today:
        raise InvalidInputError(
            f"performed_on {performed_on.isoformat()} is in the future; give the day the "
            "storage was sanitized.",
            performed_on=performed_on.isoformat(),
        )
    async with db.write() as session:
        device = await find_device(session, asset_tag)
        _check_visible(actor, device)
        if device.state not in (State.AWAITING_SALVAGE.value, State.RECYCLE_PENDING.value):
            raise ConflictError(
                f"Device {device.asset_tag!r} is in state {device.state!r}; sanitization is "
                "recorded for a device in awaiting_salvage or recycle_pending.",
                current_state=device.state,
            )
        technician = await require_technician(session, actor, data.technician)
        try:
            verifier = await find_active_technician(session, data.verified_by)
        except NotFoundError as exc:
            raise InvalidInputError(exc.detail, verified_by=data.verified_by) from exc
        assert device.id is not None
        row = Sanitization(
            device_id=device.id,
            method=method,
            tool=data.tool,
            performed_on=performed_on,
            technician_id=technician.id or 0,
            verified_by_id=verifier.id or 0,
            notes=data.notes,
            recorded_by=actor.username if actor else None,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        log.info(
            "sanitization recorded",
            extra={
                "asset_tag": device.asset_tag,
                "method": method,
                "technician": technician.employee_number,
            },
        )
        return SanitizationRead(
            id=row.id,
            asset_tag=device.asset_tag,
            method=method,
            tool=row.tool,
            performed_on=performed_on,
            technician=technician.employee_number,
            verified_by=verifier.employee_number,
            notes=row.notes,
            recorded_at=row.recorded_at,
        )


async def latest_sanitization(session: AsyncSession, device_id: int) -> Sanitization | None:
    return await session.scalar(
        select(Sanitization)
        .where(Sanitization.device_id == device_id)
        .order_by(Sanitization.id.desc())
        .limit(1)
    )


async def decide(
    db: Database, asset_tag: str, data: DecisionCreate, actor: Principal | None
) -> tuple[AssessmentRead, ActionResult]:
    """Apply the technician's decision on the device's latest assessment.

    Moves the device by the assess_salvage action, and for harvest puts the named parts into
    spare stock, all in one transaction. Raises InvalidInputError, and changes nothing, when a
    decision against the recommendation has no reason. It does the same when harvest or
    recycle of a device with storage has no sanitization record.
    """
    decision = data.decision.strip().casefold()
    if decision not in SALVAGE_OUTCOMES:
        raise InvalidInputError(
            f"Decision {data.decision!r} is not one of {', '.join(SALVAGE_OUTCOMES)}.",
            decision=data.decision,
        )
    if data.parts and decision != "harvest":
        raise InvalidInputError(
            f"parts are taken only by a harvest decision, not by {decision!r}; leave them out.",
            decision=decision,
        )
    settings = db.settings
    async with db.write() as session:
        device = await find_device(session, asset_tag)
        _check_visible(actor, device)
        assert device.id is not None
        assessment = await session.scalar(
            select(SalvageAssessment)
            .where(SalvageAssessment.device_id == device.id)
            .order_by(SalvageAssessment.id.desc())
            .limit(1)
        )
        if device.state != State.AWAITING_SALVAGE.value:
            raise ConflictError(
                f"Device {device.asset_tag!r} is in state {device.state!r}; a salvage decision "
                "needs a device in awaiting_salvage.",
                current_state=device.state,
            )
        if assessment is None or assessment.decision is not None:
            raise ConflictError(
                f"Device {device.asset_tag!r} has no open salvage assessment; record an "
                "assessment first.",
                asset_tag=device.asset_tag,
            )
        if decision != assessment.recommendation and not data.reason:
            raise InvalidInputError(
                f"The decision {decision!r} differs from the recommendation "
                f"{assessment.recommendation!r}; give a reason.",
                fields={"reason": "required when the decision differs from the recommendation"},
            )
        method = await _sanitization_method(session, settings, device, decision)
        technician = await require_technician(session, actor, data.technician)
        spare_site = None
        if decision == "harvest":
            code = data.spare_site
            try:
                spare_site = (
                    await find_site(session, code)
                    if code
                    else await session.get(Site, device.site_id)
                )
            except NotFoundError as exc:
                raise InvalidInputError(exc.detail, spare_site=code) from exc
        action_data: dict[str, str | list[str] | None] = {
            "decision": decision,
            "assessment": str(assessment.id),
        }
        if method is not None:
            action_data["sanitization_method"] = method
        result = await apply_action_in(
            session,
            settings,
            device.asset_tag,
            ActionRequest(
                action="assess_salvage",
                technician=technician.employee_number,
                expected_state=State.AWAITING_SALVAGE.value,
                data=action_data,
                notes=data.reason,
            ),
            actor,
        )
        now = utc_now()
        assessment.decision = decision
        assessment.decision_reason = data.reason
        assessment.decided_by_id = technician.id
        assessment.decided_at = now
        assessment.decision_event_id = result.event.id
        if spare_site is not None:
            assert spare_site.id is not None
            for part in data.parts:
                session.add(
                    HarvestedPart(
                        source_device_id=device.id,
                        part=part,
                        site_id=spare_site.id,
                        harvested_at=now,
                        assessment_id=assessment.id,
                    )
                )
        await session.flush()
        assessed_by = await session.get(Technician, assessment.technician_id)
        assert assessed_by is not None
        read = _assessment_read(
            assessment, device.asset_tag, assessed_by.employee_number, technician.employee_number
        )
        return read, result


async def _sanitization_method(
    session: AsyncSession, settings: Settings, device: Device, decision: str
) -> str | None:
    """Return the sanitization method that harvest or recycle of the device rests on."""
    if decision == "reuse":
        return None
    model = await session.get(DeviceModel, device.model_id)
    assert model is not None
    assert device.id is not None
    if not has_storage(settings, model.device_type):
        return SANITIZATION_NOT_NEEDED
    record = await latest_sanitization(session, device.id)
    if record is None:
        raise InvalidInputError(
            f"Device {device.asset_tag!r} has no data sanitization record, so it cannot be "
            f"marked for {decision}. Record the sanitization (method, tool, date, technician "
            "and verifier) first.",
            asset_tag=device.asset_tag,
            fields={"sanitization": "missing"},
        )
    return record.method


async def salvage_record(
    db: Database, asset_tag: str, principal: Principal | None = None
) -> SalvageRecord:
    """Return a device's assessments, sanitizations and harvested parts, newest first."""
    async with db.read() as session:
        device = await find_device(session, asset_tag)
        _check_visible(principal, device)
        assert device.id is not None
        model = await session.get(DeviceModel, device.model_id)
        assert model is not None
        end, precision, source = await end_of_support_of(session, device)
        assessments = [
            _assessment_read(row, device.asset_tag, assessed_by, decided_by)
            for row, assessed_by, decided_by in await session.execute(
                select(SalvageAssessment, Technician.employee_number, _Decider.employee_number)
                .join(Technician, Technician.id == SalvageAssessment.technician_id)
                .outerjoin(_Decider, _Decider.id == SalvageAssessment.decided_by_id)
                .where(SalvageAssessment.device_id == device.id)
                .order_by(SalvageAssessment.id.desc())
            )
        ]
        sanitizations = [
            _sanitization_read(row, device.asset_tag, by, verifier)
            for row, by, verifier in await session.execute(
                select(Sanitization, Technician.employee_number, _Verifier.employee_number)
                .join(Technician, Technician.id == Sanitization.technician_id)
                .join(_Verifier, _Verifier.id == Sanitization.verified_by_id)
                .where(Sanitization.device_id == device.id)
                .order_by(Sanitization.id.desc())
            )
        ]
        parts = await _parts(
            session,
            (HarvestedPart.source_device_id == device.id)
            | (HarvestedPart.used_in_device_id == device.id),
        )
    return SalvageRecord(
        asset_tag=device.asset_tag,
        state=device.state,
        has_storage=has_storage(db.settings, model.device_type),
        end_of_support=end,
        end_of_support_precision=precision,
        end_of_support_source=source,
        assessments=assessments,
        sanitizations=sanitizations,
        parts=parts,
    )


def _sanitization_read(
    row: Sanitization, asset_tag: str, technician: str, verifier: str
) -> SanitizationRead:
    assert row.id is not None
    return SanitizationRead(
        id=row.id,
        asset_tag=asset_tag,
        method=row.method,
        tool=row.tool,
        performed_on=row.performed_on,
        technician=technician,
        verified_by=verifier,
        notes=row.notes,
        recorded_at=row.recorded_at,
    )


async def _parts(
    session: AsyncSession, condition: object, limit: int | None = None
) -> list[PartRead]:
    query = (
        select(
            HarvestedPart, Device.asset_tag, Site.code, _User.asset_tag, Technician.employee_number
        )
        .join(Device, Device.id == HarvestedPart.source_device_id)
        .join(Site, Site.id == HarvestedPart.site_id)
        .outerjoin(_User, _User.id == HarvestedPart.used_in_device_id)
        .outerjoin(Technician, Technician.id == HarvestedPart.used_by_id)
        .where(condition)
        .order_by(HarvestedPart.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        PartRead(
            id=part.id or 0,
            part=part.part,
            source_asset_tag=source,
            site=site,
            harvested_at=part.harvested_at,
            used_in_asset_tag=used_in,
            used_at=part.used_at,
            used_by=used_by,
        )
        for part, source, site, used_in, used_by in await session.execute(query)
    ]


async def list_spare_parts(
    db: Database, site_code: str, *, available_only: bool = True, limit: int = 500
) -> list[PartRead]:
    """Return a site's harvested parts, newest first: only unused ones, or all with
    `available_only=False`."""
    limit = check_limit(limit, db.settings.page_size_max)
    async with db.read() as session:
        site = await find_site(session, site_code)
        condition = HarvestedPart.site_id == site.id
        if available_only:
            condition = condition & HarvestedPart.used_at.is_(None)
        return await _parts(session, condition, limit)


async def use_part(db: Database, part_id: int, data: PartUse, actor: Principal | None) -> PartRead:
    """Record that a harvested part went into a device under repair."""
    async with db.write() as session:
        part = await session.get(HarvestedPart, part_id, with_for_update=True)
        if part is None:
            raise NotFoundError(f"Harvested part {part_id} not found.", part=part_id)
        if part.used_at is not None:
            raise ConflictError(
                f"Harvested part {part_id} ({part.part}) was already used; pick another part.",
                part=part_id,
            )
        device = await find_device(session, data.asset_tag)
        if device.state != State.IN_REPAIR.value:
            raise ConflictError(
                f"Device {device.asset_tag!r} is in state {device.state!r}; a harvested part "
                "goes into a device in in_repair. Open a repair first.",
                current_state=device.state,
            )
        technician = await require_technician(session, actor, data.technician)
        part.used_in_device_id = device.id
        part.used_at = utc_now()
        part.used_by_id = technician.id
        await session.flush()
        log.info(
            "harvested part used",
            extra={
                "part": part_id,
                "asset_tag": device.asset_tag,
                "technician": technician.employee_number,
            },
        )
        return (await _parts(session, HarvestedPart.id == part_id))[0]


async def salvage_queue(
    db: Database,
    site_code: str | None = None,
    *,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[QueueItem]:
    """Return the devices awaiting salvage in the order they were received, optionally at
    one site."""
    limit = check_limit(limit, db.settings.page_size_max)
    latest = (
        select(SalvageAssessment.recommendation)
        .where(SalvageAssessment.device_id == Device.id)
        .order_by(SalvageAssessment.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    sanitized = exists().where(Sanitization.device_id == Device.id)
    query = (
        select(Device, DeviceModel, Site.code, latest, sanitized)
        .join(DeviceModel, DeviceModel.id == Device.model_id)
        .join(Site, Site.id == Device.site_id)
        .where(Device.state == State.AWAITING_SALVAGE.value)
        .order_by(Device.id)
        .limit(limit + 1)
    )
    async with db.read() as session:
        if site_code:
            site = await find_site(session, site_code)
            query = query.where(Device.site_id == site.id)
        if cursor:
            query = query.where(Device.id > decode_cursor(cursor, {"id": int})["id"])
        rows = list(await session.execute(query))
    items = [
        QueueItem(
            asset_tag=device.asset_tag,
            serial_number=device.serial_number,
            manufacturer=model.manufacturer,
            model=model.model,
            site=code,
            state=device.state,
            state_changed_at=device.state_changed_at,
            recommendation=recommendation,
            sanitized=bool(is_sanitized),
        )
        for device, model, code, recommendation, is_sanitized in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor({"id": rows[limit - 1][0].id})
    return Page(items=items, next_cursor=next_cursor, limit=limit)
