"""Operations on devices: receive, apply lifecycle actions, read, list and history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Select, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from inventory.accounts.principal import Principal, Role
from inventory.audit import event_hash
from inventory.config import Settings
from inventory.db import Database
from inventory.devices.idempotency import run_once
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.reservations import mark_used
from inventory.devices.schemas import (
    ActionRequest,
    ActionResult,
    DeviceRead,
    DeviceReceive,
    EventRead,
)
from inventory.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from inventory.escalations import service as escalations
from inventory.escalations.models import WarrantyCoverage
from inventory.identifiers import normalize_identifier
from inventory.lifecycle import (
    ACTIONS,
    IDENTIFIER_FIELDS,
    STATE_LABELS,
    DeviceContext,
    State,
    allowed_actions,
    field_changes,
    plan_transition,
    warranty_active,
)
from inventory.logs import request_id_var
from inventory.plans.visits import visit_at
from inventory.reports import summary as report_summary
from inventory.schemas import Page, check_limit, decode_cursor, encode_cursor
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.technicians.schemas import TechnicianRef
from inventory.technicians.service import find_active_technician
from inventory.tickets.service import open_ticket_in
from inventory.timeutil import district_today, occurred_instant
from inventory.types import utc_now
from inventory.vendors.service import find_vendor

log = logging.getLogger(__name__)

_Replaces = aliased(Device)
_ReplacedBy = aliased(Device)


@dataclass(frozen=True)
class DeviceFilters:
    site: str | None = None
    state: str | None = None
    model_id: int | None = None
    technician: str | None = None


def normalize_name(text: str) -> str:
    """Fold case and runs of spaces, the only normalization used to match model names."""
    return " ".join(text.split()).casefold()


def model_match_key(manufacturer: str, model: str) -> str:
    return f"{normalize_name(manufacturer)}|{normalize_name(model)}"


# What a DeviceRead shows, as a plain list, because mypy's overloads of select() stop
# matching past a dozen typed columns.
_DEVICE_READ_COLUMNS: list[Any] = [
    Device.asset_tag,
    Device.serial_number,
    Device.state,
    Device.room,
    Device.assignee,
    Device.purchase_date,
    Device.warranty_start,
    Device.warranty_end,
    Device.operating_system,
    Device.management_profile,
    Device.user_profile_kind,
    Device.version,
    Device.state_changed_at,
    Device.created_at,
    Device.updated_at,
    Device.site_id,
    Device.escalation_vendor_id,
    DeviceModel.id.label("model_id"),
    DeviceModel.manufacturer,
    DeviceModel.model,
    DeviceModel.device_type,
    DeviceModel.end_of_support,
    DeviceModel.end_of_support_precision,
    DeviceModel.operating_system.label("model_operating_system"),
    Site.code.label("site_code"),
    Site.name.label("site_name"),
    _Replaces.asset_tag.label("replaces"),
    _ReplacedBy.asset_tag.label("replaced_by"),
]


def _device_query() -> Select:
    """Select what a DeviceRead shows; run it with the district's date as parameter "today"."""
    # Whether a coverage includes today, decided from the coverages, because a device may
    # have a gap between its base warranty and a later extension.
    today = bindparam("today", type_=Date)
    covered = (
        exists()
        .where(
            WarrantyCoverage.device_id == Device.id,
            WarrantyCoverage.start_date <= today,
            WarrantyCoverage.end_date >= today,
        )
        .label("covered")
    )
    # Plain columns rather than ORM objects: every scan runs this, and building the three
    # objects cost more than the indexed query itself.
    return (
        select(*_DEVICE_READ_COLUMNS, covered)
        .select_from(Device)
        .join(DeviceModel, DeviceModel.id == Device.model_id)
        .join(Site, Site.id == Device.site_id)
        .outerjoin(_Replaces, _Replaces.id == Device.replaces_device_id)
        .outerjoin(_ReplacedBy, _ReplacedBy.id == Device.replaced_by_device_id)
    )


# Built once: SQLAlchemy then reuses its compiled form and result layout on every scan.
_DEVICE_BY_TAG = _device_query().where(Device.asset_tag == bindparam("asset_tag"))


def _to_read(row: Any, settings: Settings) -> DeviceRead:
    state = State(row.state)
    return DeviceRead(
        asset_tag=row.asset_tag,
        serial_number=row.serial_number,
        manufacturer=row.manufacturer,
        model=row.model,
        model_id=row.model_id,
        device_type=row.device_type,
        site=row.site_code,
        site_name=row.site_name,
        state=state.value,
        state_label=STATE_LABELS[state],
        room=row.room,
        assignee=row.assignee,
        purchase_date=row.purchase_date,
        warranty_start=row.warranty_start,
        warranty_end=row.warranty_end,
        warranty_active=bool(row.covered),
        end_of_support=row.end_of_support,
        end_of_support_precision=row.end_of_support_precision,
        operating_system=row.operating_system or row.model_operating_system,
        management_profile=row.management_profile,
        user_profile_kind=row.user_profile_kind,
        replaces=row.replaces,
        replaced_by=row.replaced_by,
        version=row.version,
        allowed_actions=allowed_actions(state),
        scan_url=f"{settings.base_url}/a/{row.asset_tag}",
        state_changed_at=row.state_changed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _read_device(session: AsyncSession, settings: Settings, device_id: int) -> DeviceRead:
    values = {"device_id": device_id, "today": district_today(settings.zone)}
    row = (await session.execute(_DEVICE_BY_ID, values)).one()
    return _to_read(row, settings)


# Statements of the action path, built once so that each request skips building them.
_FIND_DEVICE = select(Device).where(Device.asset_tag == bindparam("asset_tag"))
_DEVICE_BY_ID = _device_query().where(Device.id == bindparam("device_id"))
_EVENT_HASH = select(DeviceEvent.hash).where(
    DeviceEvent.device_id == bindparam("device_id"), DeviceEvent.sequence == bindparam("sequence")
)
_EVENT_OCCURRED_AT = select(DeviceEvent.occurred_at).where(
    DeviceEvent.device_id == bindparam("device_id"), DeviceEvent.sequence == bindparam("sequence")
)


async def find_device(session: AsyncSession, asset_tag: str) -> Device:
    tag = asset_tag.strip()
    device = await session.scalar(_FIND_DEVICE, {"asset_tag": tag})
    if device is None:
        raise NotFoundError(f"Device with asset tag {tag!r} not found.", asset_tag=tag)
    return device


def _event_read(
    event: DeviceEvent | Any, asset_tag: str, site_code: str, employee_number: str | None
) -> EventRead:
    """Describe an event, from its ORM object or a row of the same column names."""
    ref = None
    if event.technician_id is not None or event.technician_name:
        ref = TechnicianRef(employee_number=employee_number, name=event.technician_name)
    assert event.id is not None
    return EventRead(
        id=event.id,
        asset_tag=asset_tag,
        sequence=event.sequence,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        technician=ref,
        actor=event.actor,
        site=site_code,
        visit_id=event.visit_id,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        notes=event.notes,
        data=event.data,
        request_id=event.request_id,
    )


async def _record_event(
    session: AsyncSession,
    *,
    device: Device,
    action: str,
    from_state: str | None,
    to_state: str,
    sequence: int,
    technician: Technician | None,
    actor: Principal | None,
    site: Site,
    occurred_at: datetime,
    notes: str | None,
    data: dict[str, Any],
    visit_id: int | None = None,
    idempotency_key: str | None = None,
) -> EventRead:
    assert device.id is not None
    assert site.id is not None
    if visit_id is None and technician is not None and technician.id is not None:
        # The step records the technician's visit that covers its time, if there is one.
        visit_id = await visit_at(session, technician.id, occurred_at)
    columns: dict[str, Any] = {
        "device_id": device.id,
        "sequence": sequence,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "technician_id": technician.id if technician else None,
        "technician_name": technician.name if technician else None,
        "actor": actor.username if actor else None,
        "actor_user_id": actor.user_id if actor else None,
        "site_id": site.id,
        "visit_id": visit_id,
        "occurred_at": occurred_at,
        "recorded_at": utc_now(),
        "notes": notes,
        "data": data,
        "request_id": request_id_var.get(),
        "idempotency_key": idempotency_key,
    }
    # The caller has locked the device row (by its conditional update or by inserting it),
    # so the previous event cannot change meanwhile.
    prev_hash = None
    if sequence > 1:
        prev_hash = await session.scalar(
            _EVENT_HASH, {"device_id": device.id, "sequence": sequence - 1}
        )
    event = DeviceEvent(**columns, prev_hash=prev_hash, hash=event_hash(prev_hash, columns))
    session.add(event)
    await session.flush()
    # The report summary changes with the event, in this transaction. `device` still
    # contains the row as it was before the action, which the summary needs.
    await report_summary.record_event(session, device, event)
    log.info(
        "state change",
        extra={
            "asset_tag": device.asset_tag,
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "technician": technician.employee_number if technician else None,
            "user": actor.username if actor else None,
        },
    )
    number = technician.employee_number if technician else None
    return _event_read(event, device.asset_tag, site.code, number)


async def _check_unique(
    session: AsyncSession,
    asset_tag: str,
    manufacturer_key: str,
    serial_number: str,
    actor: Principal | None = None,
) -> None:
    """Raise ConflictError when the tag or the serial number is taken.

    The message names the existing device only to a user who may see it, so a vendor or
    site user cannot probe other sites' identifiers through conflicts.
    """
    same_tag = await session.scalar(select(Device).where(Device.asset_tag == asset_tag))
    if same_tag is not None:
        if actor is not None and not actor.may_see_device(
            same_tag.site_id, same_tag.escalation_vendor_id
        ):
            raise ConflictError(f"Asset tag {asset_tag!r} is already in use.", asset_tag=asset_tag)
        raise ConflictError(
            f"Asset tag {asset_tag!r} is already used by the device with serial number "
            f"{same_tag.serial_number!r}.",
            asset_tag=asset_tag,
            existing_serial_number=same_tag.serial_number,
        )
    same_serial = await session.scalar(
        select(Device).where(
            Device.manufacturer_key == manufacturer_key, Device.serial_number == serial_number
        )
    )
    if same_serial is not None:
        if actor is not None and not actor.may_see_device(
            same_serial.site_id, same_serial.escalation_vendor_id
        ):
            raise ConflictError(
                f"Serial number {serial_number!r} of this manufacturer is already recorded.",
                serial_number=serial_number,
            )
        raise ConflictError(
            f"Serial number {serial_number!r} of this manufacturer is already recorded on the "
            f"device with asset tag {same_serial.asset_tag!r}.",
            serial_number=serial_number,
            existing_asset_tag=same_serial.asset_tag,
        )


async def _resolve_model(session: AsyncSession, data: DeviceReceive) -> DeviceModel:
    if data.model_id is not None:
        model = await session.get(DeviceModel, data.model_id)
        if model is None:
            raise InvalidInputError(
                f"Device model {data.model_id} not found.", model_id=data.model_id
            )
        return model
    if not data.manufacturer or not data.model:
        raise InvalidInputError(
            "Give model_id, or both manufacturer and model, to say what the device is.",
            fields={"model_id": "required unless manufacturer and model are given"},
        )
    key = model_match_key(data.manufacturer, data.model)
    model = await session.scalar(select(DeviceModel).where(DeviceModel.match_key == key))
    if model is None:
        raise InvalidInputError(
            f"Device model {data.manufacturer} {data.model!r} not found; create it first "
            "with POST /api/v1/device-models.",
            manufacturer=data.manufacturer,
            model=data.model,
        )
    return model


def _received_coverage(data: DeviceReceive, received_on: date) -> escalations.CoverageInput | None:
    """Return the base warranty given with a received device, or None when none was given.

    A coverage without a start date starts on the purchase date, or else on the day the
    device was received.
    """
    if data.warranty_end is None and data.warranty_months is None:
        if data.warranty_start is not None:
            raise InvalidInputError(
                "warranty_start needs warranty_end (the last day covered) or warranty_months.",
                warranty_start=data.warranty_start.isoformat(),
            )
        return None
    start = data.warranty_start or data.purchase_date or received_on
    return escalations.coverage_input(
        "base", start, data.warranty_end, data.warranty_months, field_prefix="warranty_"
    )


# Actions each role other than admin and technician may record.
_VENDOR_ACTIONS = frozenset(
    {"vendor_acknowledge", "ship_to_vendor", "vendor_return", "vendor_deny", "vendor_replace"}
)
_SITE_ACTIONS = frozenset({"report_problem"})


async def _acting_technician(
    session: AsyncSession, actor: Principal | None, requested: str | None
) -> Technician | None:
    """Return the technician an event names.

    A technician records their own steps; an admin may name any technician and the event
    then keeps both; vendor and site users record no technician. Without a signed-in user
    (the command line, the demo loader) the requested technician is taken as given.
    """
    if actor is None or actor.role is Role.ADMIN:
        return await find_active_technician(session, requested) if requested else None
    if actor.role is Role.TECHNICIAN:
        if requested and requested.strip() != actor.technician_number:
            raise ForbiddenError(
                f"Technicians record their own steps; user {actor.username!r} is technician "
                f"{actor.technician_number!r}, not {requested.strip()!r}.",
            )
        if actor.technician_number is None:
            raise ForbiddenError(f"User {actor.username!r} is not linked to a technician record.")
        return await find_active_technician(session, actor.technician_number)
    if requested:
        raise ForbiddenError(f"A {actor.role.value} user cannot name a technician.")
    return None


async def acting_technician(
    session: AsyncSession, actor: Principal | None, requested: str | None
) -> Technician | None:
    """Return the technician a step names, by the same rules as a lifecycle action.

    Raises ForbiddenError when the actor may not name that technician.
    """
    return await _acting_technician(session, actor, requested)


def _check_role_may_act(actor: Principal | None, action: str, device: Device) -> None:
    known = ACTIONS.get(action)
    if known is not None and not known.offered:
        raise InvalidInputError(
            f"{action!r} is recorded by the service itself and cannot be requested.",
            action=action,
        )
    if actor is None or actor.is_staff:
        return
    allowed = _VENDOR_ACTIONS if actor.role is Role.VENDOR else _SITE_ACTIONS
    if action not in allowed:
        raise ForbiddenError(
            f"A {actor.role.value} user may not record {action!r}; allowed: "
            f"{', '.join(sorted(allowed))}.",
            action=action,
        )


def _redact_device(principal: Principal | None, device: DeviceRead) -> DeviceRead:
    # A vendor repairs the hardware and has no need to know which student used it.
    if principal is not None and principal.role is Role.VENDOR and device.assignee:
        return device.model_copy(update={"assignee": None})
    return device


def _redact_event(principal: Principal | None, event: EventRead) -> EventRead:
    if principal is not None and principal.role is Role.VENDOR and "assignee" in event.data:
        data = {key: value for key, value in event.data.items() if key != "assignee"}
        return event.model_copy(update={"data": data})
    return event


async def find_visible_device(
    session: AsyncSession, asset_tag: str, principal: Principal | None
) -> Device:
    """Return the device with `asset_tag` if `principal` may see it, else NotFoundError."""
    device = await find_device(session, asset_tag)
    _hide_unless_visible(principal, device)
    return device


def _hide_unless_visible(actor: Principal | None, device: Device | Any) -> None:
    # The same response as for a tag that does not exist, so existence does not leak.
    if actor is not None and not actor.may_see_device(device.site_id, device.escalation_vendor_id):
        raise NotFoundError(
            f"Device with asset tag {device.asset_tag!r} not found.", asset_tag=device.asset_tag
        )


async def _receive_in(
    session: AsyncSession,
    settings: Settings,
    data: DeviceReceive,
    actor: Principal | None,
    idempotency_key: str | None,
) -> ActionResult:
    occurred_at = occurred_instant(data.occurred_at, settings.zone)
    coverage = _received_coverage(data, district_today(settings.zone, occurred_at))
    technician = await _acting_technician(session, actor, data.technician)
    plan_transition(
        "receive",
        DeviceContext(state=None),
        {
            "asset_tag": data.asset_tag,
            "serial_number": data.serial_number,
            "model": data.model_id or data.model,
            "site": data.site,
        },
        has_technician=technician is not None,
        on=district_today(settings.zone, occurred_at),
    )
    try:
        site = await find_site(session, data.site)
    except NotFoundError as exc:
        raise InvalidInputError(exc.detail, **exc.extra) from exc
    model = await _resolve_model(session, data)
    manufacturer_key = normalize_name(model.manufacturer)
    await _check_unique(session, data.asset_tag, manufacturer_key, data.serial_number, actor)

    device = Device(
        asset_tag=data.asset_tag,
        serial_number=data.serial_number,
        manufacturer_key=manufacturer_key,
        model_id=model.id or 0,
        site_id=site.id or 0,
        state=State.RECEIVED.value,
        purchase_date=data.purchase_date,
        version=1,
        state_changed_at=occurred_at,
    )
    session.add(device)
    await session.flush()
    if coverage is not None:
        await escalations.add_coverages(
            session, device, [coverage], actor.username if actor else None
        )
    receive_data = {
        "serial_number": data.serial_number,
        "manufacturer": model.manufacturer,
        "model": model.model,
        "site": site.code,
    }
    reserved_batch = await mark_used(session, data.asset_tag)
    if reserved_batch is not None:
        receive_data["reserved_batch"] = reserved_batch
    event = await _record_event(
        session,
        device=device,
        action="receive",
        from_state=None,
        to_state=State.RECEIVED.value,
        sequence=1,
        technician=technician,
        actor=actor,
        site=site,
        occurred_at=occurred_at,
        notes=data.notes,
        data=receive_data,
        idempotency_key=idempotency_key,
    )
    return ActionResult(device=await _read_device(session, settings, device.id or 0), event=event)


async def receive_device(
    db: Database,
    data: DeviceReceive,
    *,
    actor: Principal | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> tuple[int, ActionResult]:
    """Create a device in the received state with its first event; 201 when created."""

    async def operation(session: AsyncSession) -> tuple[int, dict]:
        result = await _receive_in(session, db.settings, data, actor, idempotency_key)
        return 201, result.model_dump(mode="json")

    status_code, body = await run_once(db, idempotency_key, fingerprint, operation, actor)
    return status_code, ActionResult.model_validate(body)


def _clean_value(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return normalize_identifier(value) if name in IDENTIFIER_FIELDS else value.strip()


async def _check_chronology(
    session: AsyncSession, device: Device, occurred_at: datetime, settings: Settings
) -> None:
    """Reject a step dated before the device's last recorded step, so histories stay in order."""
    last = await session.scalar(
        _EVENT_OCCURRED_AT, {"device_id": device.id, "sequence": device.version}
    )
    if last is not None and occurred_at < last:
        shown = last.astimezone(settings.zone).isoformat(timespec="minutes")
        raise InvalidInputError(
            f"occurred_at {occurred_at.astimezone(settings.zone).isoformat(timespec='minutes')} "
            f"is before the device's last recorded step ({shown}); steps are recorded in order.",
            last_occurred_at=last.isoformat(),
        )


def _replacement_tag(old_tag: str, data: dict[str, Any]) -> str:
    given = str(data.get("replacement_asset_tag") or "").strip()
    return given or f"{old_tag}-R"


async def _apply_in(
    session: AsyncSession,
    settings: Settings,
    asset_tag: str,
    request: ActionRequest,
    actor: Principal | None,
    idempotency_key: str | None,
) -> ActionResult:
    device = await find_device(session, asset_tag)
    _hide_unless_visible(actor, device)
    _check_role_may_act(actor, request.action, device)
    site = await session.get(Site, device.site_id)
    assert site is not None
    assert device.id is not None
    current = State(device.state)
    if request.expected_state is not None and request.expected_state not in set(State):
        raise InvalidInputError(
            f"Unknown expected_state {request.expected_state!r}; use one of {', '.join(State)}.",
            expected_state=request.expected_state,
        )
    if request.expected_state is not None and request.expected_state != current.value:
        raise ConflictError(
            f"Device {device.asset_tag!r} is in state {current.value!r}, not "
            f"{request.expected_state!r} as expected; reload it and try again.",
            current_state=current.value,
            allowed_actions=allowed_actions(current),
        )

    occurred_at = occurred_instant(request.occurred_at, settings.zone)
    await _check_chronology(session, device, occurred_at, settings)
    technician = await _acting_technician(session, actor, request.technician)
    data = {key: _clean_value(key, value) for key, value in request.data.items()}
    context = DeviceContext(
        state=current,
        site_code=site.code,
        repair_return_state=State(device.repair_return_state)
        if device.repair_return_state
        else None,
        coverages=await escalations.coverage_periods(session, device.id)
        if request.action == "escalate"
        else (),
    )
    action_day = district_today(settings.zone, occurred_at)
    to_state = plan_transition(
        request.action,
        context,
        data,
        has_technician=technician is not None,
        on=action_day,
    )
    escalation = await escalations.check_step(session, device, request.action)

    destination = None
    event_site = site
    if request.action == "transfer":
        try:
            destination = await find_site(session, str(data["site"]))
        except NotFoundError as exc:
            raise InvalidInputError(exc.detail, **exc.extra) from exc
        data = {**data, "site": destination.code, "from_site": site.code}
        event_site = destination
    vendor = None
    if request.action == "escalate":
        try:
            vendor = await find_vendor(session, str(data["vendor"]))
        except NotFoundError as exc:
            raise InvalidInputError(exc.detail, **exc.extra) from exc
        escalations.check_claim_limits(vendor, data)
        data = {**data, "vendor": vendor.code}
        changes_vendor: dict[str, Any] = {"escalation_vendor_id": vendor.id}
    elif current is State.WITH_VENDOR and to_state is not State.WITH_VENDOR:
        # The escalation is over however it ended, so the vendor loses access to the device.
        changes_vendor = {"escalation_vendor_id": None}
    else:
        changes_vendor = {}

    now = utc_now()
    changes = {**field_changes(request.action, data, current, to_state), **changes_vendor}
    if destination is not None:
        changes["site_id"] = destination.id
    result = await session.execute(
        update(Device)
        .where(
            Device.id == device.id,
            Device.version == device.version,
            Device.state == current.value,
        )
        .values(
            state=to_state.value,
            version=Device.version + 1,
            state_changed_at=occurred_at if to_state != current else device.state_changed_at,
            updated_at=now,
            **changes,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        fresh = await session.scalar(
            select(Device.state)
            .where(Device.id == device.id)
            .execution_options(populate_existing=True)
        )
        raise ConflictError(
            f"Device {device.asset_tag!r} changed while this request ran; it is now in state "
            f"{fresh!r}. Reload it and try again.",
            current_state=fresh,
            allowed_actions=allowed_actions(State(fresh)) if fresh else [],
        )

    replacement_tag = None
    if request.action == "vendor_replace":
        replacement_tag = _replacement_tag(device.asset_tag, data)
        await _check_unique(
            session,
            replacement_tag,
            device.manufacturer_key,
            str(data["replacement_serial"]),
            actor,
        )
        data = {**data, "replacement_asset_tag": replacement_tag}

    event = await _record_event(
        session,
        device=device,
        action=request.action,
        from_state=current.value,
        to_state=to_state.value,
        sequence=device.version + 1,
        technician=technician,
        actor=actor,
        site=event_site,
        occurred_at=occurred_at,
        notes=request.notes,
        data=data,
        idempotency_key=idempotency_key,
    )
    # The new unit's first event follows the old unit's last, so a history that spans
    # both reads in order.
    replacement = None
    if replacement_tag is not None:
        replacement = await _receive_replacement(
            session, settings, device, site, replacement_tag, data, occurred_at, actor
        )
    if request.action in escalations.ESCALATION_ACTIONS:
        await escalations.record_step(
            session,
            device=device,
            action=request.action,
            data=data,
            escalation=escalation,
            vendor=vendor,
            technician=technician,
            covered=warranty_active(context, action_day),
            occurred_at=occurred_at,
            replacement_device_id=await session.scalar(
                select(Device.id).where(Device.asset_tag == replacement_tag)
            )
            if replacement_tag
            else None,
        )
    if request.action == "report_problem":
        # A problem reported from a device's page opens a support ticket for its site.
        await open_ticket_in(
            session,
            site_id=device.site_id,
            device_id=device.id,
            problem=str(data.get("problem") or request.notes or ""),
            severity="medium",
            impact="person",
            reported_by=actor.username if actor else None,
        )
    return ActionResult(
        device=await _read_device(session, settings, device.id),
        event=event,
        replacement=replacement,
    )


async def _receive_replacement(
    session: AsyncSession,
    settings: Settings,
    old: Device,
    site: Site,
    tag: str,
    data: dict[str, Any],
    occurred_at: datetime,
    actor: Principal | None,
) -> DeviceRead:
    """Receive the vendor's new unit, linked to the device it replaces."""
    serial = str(data["replacement_serial"])
    new = Device(
        asset_tag=tag,
        serial_number=serial,
        manufacturer_key=old.manufacturer_key,
        model_id=old.model_id,
        site_id=old.site_id,
        state=State.RECEIVED.value,
        purchase_date=old.purchase_date,
        replaces_device_id=old.id,
        version=1,
        state_changed_at=occurred_at,
    )
    session.add(new)
    await session.flush()
    assert old.id is not None
    await escalations.copy_coverages(session, old.id, new)
    await session.execute(
        update(Device)
        .where(Device.id == old.id)
        .values(replaced_by_device_id=new.id)
        .execution_options(synchronize_session=False)
    )
    await _record_event(
        session,
        device=new,
        action="receive",
        from_state=None,
        to_state=State.RECEIVED.value,
        sequence=1,
        technician=None,
        actor=actor,
        site=site,
        occurred_at=occurred_at,
        notes=f"Vendor replacement for {old.asset_tag}",
        data={"serial_number": serial, "replaces": old.asset_tag},
    )
    assert new.id is not None
    return await _read_device(session, settings, new.id)


async def apply_action_in(
    session: AsyncSession,
    settings: Settings,
    asset_tag: str,
    request: ActionRequest,
    actor: Principal | None,
) -> ActionResult:
    """Apply one action inside the caller's transaction, for operations that apply several
    actions all or nothing; the caller handles idempotency."""
    return await _apply_in(session, settings, asset_tag, request, actor, None)


async def apply_action(
    db: Database,
    asset_tag: str,
    request: ActionRequest,
    *,
    actor: Principal | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
) -> ActionResult:
    """Apply one lifecycle action with its event, in one transaction, once per key."""

    async def operation(session: AsyncSession) -> tuple[int, dict]:
        result = await _apply_in(session, db.settings, asset_tag, request, actor, idempotency_key)
        return 200, result.model_dump(mode="json")

    _status, body = await run_once(db, idempotency_key, fingerprint, operation, actor)
    result = ActionResult.model_validate(body)
    return result.model_copy(
        update={
            "device": _redact_device(actor, result.device),
            "event": _redact_event(actor, result.event),
        }
    )


async def get_device(
    db: Database, asset_tag: str, principal: Principal | None = None
) -> DeviceRead:
    tag = asset_tag.strip()
    rows = await db.fetch(_DEVICE_BY_TAG, asset_tag=tag, today=district_today(db.settings.zone))
    row = rows[0] if rows else None
    if row is None:
        raise NotFoundError(f"Device with asset tag {tag!r} not found.", asset_tag=tag)
    _hide_unless_visible(principal, row)
    return _redact_device(principal, _to_read(row, db.settings))


def scope_devices(query: Select, principal: Principal | None) -> Select:
    """Keep only the devices `principal` may see: a site user's sites, a vendor's escalations."""
    if principal is None or principal.is_staff:
        return query
    if principal.role is Role.SITE:
        return query.where(Device.site_id.in_(sorted(principal.site_ids)))
    return query.where(Device.escalation_vendor_id == principal.vendor_id)


async def list_devices(
    db: Database,
    filters: DeviceFilters,
    *,
    cursor: str | None = None,
    limit: int = 50,
    principal: Principal | None = None,
) -> Page[DeviceRead]:
    """Return devices ordered by asset tag, one page after the cursor's asset tag."""
    limit = check_limit(limit, db.settings.page_size_max)
    query = scope_devices(_device_query(), principal).order_by(Device.asset_tag).limit(limit + 1)
    if filters.state:
        if filters.state not in State.__members__.values():
            raise InvalidInputError(
                f"Unknown state {filters.state!r}; use one of {', '.join(State)}.",
                state=filters.state,
            )
        query = query.where(Device.state == filters.state)
    if filters.model_id is not None:
        query = query.where(Device.model_id == filters.model_id)
    async with db.read() as session:
        if filters.site:
            site = await find_site(session, filters.site, principal)
            query = query.where(Device.site_id == site.id)
        if filters.technician:
            number = filters.technician.strip()
            technician_id = await session.scalar(
                select(Technician.id).where(Technician.employee_number == number)
            )
            if technician_id is None and (principal is None or principal.is_staff):
                raise NotFoundError(f"Technician {number!r} not found.", technician=number)
            # A site or vendor user may not list technicians, so an unknown number gives an
            # empty page rather than telling which numbers exist.
            query = query.where(
                exists().where(
                    DeviceEvent.technician_id == technician_id,
                    DeviceEvent.device_id == Device.id,
                )
            )
        if cursor:
            after = decode_cursor(cursor, {"asset_tag": str})["asset_tag"]
            query = query.where(Device.asset_tag > after)
        rows = list(await session.execute(query, {"today": district_today(db.settings.zone)}))
    items = [_redact_device(principal, _to_read(row, db.settings)) for row in rows[:limit]]
    next_cursor = encode_cursor({"asset_tag": items[-1].asset_tag}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, limit=limit)


# A device page reads the device, then its events, on every scan, so these are built once
# (see Database.fetch).
_HISTORY_DEVICE = select(
    Device.id,
    Device.asset_tag,
    Device.site_id,
    Device.escalation_vendor_id,
    Device.replaces_device_id,
)
_HISTORY_DEVICE_BY_TAG = _HISTORY_DEVICE.where(Device.asset_tag == bindparam("asset_tag"))
_HISTORY_DEVICE_BY_ID = _HISTORY_DEVICE.where(Device.id == bindparam("device_id"))
_EVENT_COLUMNS: list[Any] = [
    DeviceEvent.id,
    DeviceEvent.device_id,
    DeviceEvent.sequence,
    DeviceEvent.action,
    DeviceEvent.from_state,
    DeviceEvent.to_state,
    DeviceEvent.technician_id,
    DeviceEvent.technician_name,
    DeviceEvent.actor,
    DeviceEvent.visit_id,
    DeviceEvent.occurred_at,
    DeviceEvent.recorded_at,
    DeviceEvent.notes,
    DeviceEvent.data,
    DeviceEvent.request_id,
    Site.code.label("site_code"),
    Technician.employee_number,
]
_EVENTS = (
    select(*_EVENT_COLUMNS)
    .join(Site, Site.id == DeviceEvent.site_id)
    .outerjoin(Technician, Technician.id == DeviceEvent.technician_id)
    .where(DeviceEvent.id > bindparam("after"))
    .limit(bindparam("limit"))
)
# One device's events come in the order of their sequence, which is also the order of their
# ids: each is inserted while the device's row is locked. Ordering by sequence lets both
# databases read them off the (device_id, sequence) index. Ordered by id, PostgreSQL's
# generic plan for this prepared statement walked the whole primary key instead.
_EVENTS_OF_DEVICE = _EVENTS.where(DeviceEvent.device_id == bindparam("device_id")).order_by(
    DeviceEvent.sequence
)
# At most this many devices in a chain of replacements are followed back.
_LINEAGE_LIMIT = 100


async def device_history(
    db: Database,
    asset_tag: str,
    *,
    cursor: str | None = None,
    limit: int = 100,
    principal: Principal | None = None,
) -> Page[EventRead]:
    """Return a device's events in the order they were recorded.

    A replacement device's history starts with the events of the device it replaced.
    """
    limit = check_limit(limit, db.settings.page_size_max)
    tag = asset_tag.strip()
    found = await db.fetch(_HISTORY_DEVICE_BY_TAG, asset_tag=tag)
    if not found:
        raise NotFoundError(f"Device with asset tag {tag!r} not found.", asset_tag=tag)
    device = found[0]
    _hide_unless_visible(principal, device)
    chain = [device]
    while chain[0].replaces_device_id is not None and len(chain) < _LINEAGE_LIMIT:
        previous = await db.fetch(_HISTORY_DEVICE_BY_ID, device_id=chain[0].replaces_device_id)
        if not previous:
            break
        chain.insert(0, previous[0])
    tags = {item.id: item.asset_tag for item in chain}
    after = decode_cursor(cursor, {"id": int})["id"] if cursor else 0
    if len(chain) == 1:
        rows = await db.fetch(_EVENTS_OF_DEVICE, device_id=device.id, after=after, limit=limit + 1)
    else:
        query = _EVENTS.where(DeviceEvent.device_id.in_(list(tags))).order_by(DeviceEvent.id)
        async with db.read() as session:
            rows = list(await session.execute(query, {"after": after, "limit": limit + 1}))
    items = [
        _redact_event(
            principal, _event_read(row, tags[row.device_id], row.site_code, row.employee_number)
        )
        for row in rows[:limit]
    ]
    next_cursor = encode_cursor({"id": items[-1].id}) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, limit=limit)


async def first_asset_tag_in_state(db: Database, state: str) -> str | None:
    """Return the lowest asset tag among devices in `state`, or None when there is none."""
    async with db.read() as session:
        return await session.scalar(
            select(Device.asset_tag)
            .where(Device.state == state)
            .order_by(Device.asset_tag)
            .limit(1)
        )
