"""The demo district loader: NYC schools, ChromeOS Flex models and a generated fleet."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from inventory.audit import HASHED_COLUMNS, event_hash
from inventory.db import Database
from inventory.demo.fleet import warranty_end_for
from inventory.demo.loader import DemoLoadError, load_demo
from inventory.demo.sources import BOROUGHS, read_models
from inventory.devices.models import Device, DeviceEvent, DeviceModel
from inventory.devices.service import model_match_key
from inventory.escalations.models import (
    Escalation,
    ExportBatch,
    ExportBatchRow,
    WarrantyCoverage,
)
from inventory.lifecycle import ACTIONS, DeviceContext, State, plan_transition
from inventory.plans.models import (
    ClosedDay,
    PlanChange,
    RateCard,
    ServicePlan,
    TechnicianAssignment,
    Visit,
)
from inventory.plans.rules import recommended_days
from inventory.reports.models import (
    ReportDeviceCount,
    ReportOpenRepair,
    ReportOpenRepairCount,
    ReportOutcomeCount,
    ReportRegionTurnaround,
    ReportRepairTurnaround,
    ReportSiteModelCount,
    ReportSiteYear,
    ReportStepCount,
)
from inventory.salvage.models import (
    HarvestedPart,
    RecyclingBatch,
    RecyclingBatchDevice,
    SalvageAssessment,
    Sanitization,
)
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.vendors.models import Vendor

# About a thousand devices: enough for every kind of history, quick on both databases.
SMALL = 0.001
SEED = 11
# A fixed end of every history, so every run generates the same fleet. It must be past.
NOW = datetime(2026, 11, 2, tzinfo=UTC)


async def load(db: Database, *, seed: int = SEED, if_empty: bool = False) -> str:
    return await load_demo(db, devices_per_student=SMALL, seed=seed, if_empty=if_empty, now=NOW)


async def count(db: Database, model: Any) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def fleet(db: Database) -> tuple[list[Device], dict[int, list[DeviceEvent]]]:
    """Return every device and its events ordered by sequence."""
    async with db.read() as session:
        devices = list(await session.scalars(select(Device).order_by(Device.id)))
        events = await session.scalars(
            select(DeviceEvent).order_by(DeviceEvent.device_id, DeviceEvent.sequence)
        )
        by_device: dict[int, list[DeviceEvent]] = defaultdict(list)
        for event in events:
            by_device[event.device_id].append(event)
    return devices, by_device


async def test_sites_come_from_enrollment_file(db) -> None:
    summary = await load(db)

    assert "1509 sites" in summary
    async with db.read() as session:
        sites = {site.code: site for site in await session.scalars(select(Site))}
    assert len(sites) == 1509
    first = sites["01M015"]
    assert first.name == "P.S. 015 ROBERTO CLEMENTE"
    assert first.enrollment == 189
    assert first.region == "Manhattan"
    assert sites["31R080"].region == "Staten Island"
    assert sum(1 for code in sites if code.startswith("0")) == 460
    for code, site in sites.items():
        assert site.kind == "school"
        assert site.name == " ".join(site.name.split()), code
        assert site.region == BOROUGHS[code[2]], code
    assert {site.region for site in sites.values()} == set(BOROUGHS.values())


async def test_models_keep_names_that_differ_in_case(db) -> None:
    await load(db)

    async with db.read() as session:
        models = list(await session.scalars(select(DeviceModel)))
        vendor_names = set(await session.scalars(select(Vendor.name)))
    assert len(models) == 705
    by_name = {(model.manufacturer, model.model): model for model in models}
    older = by_name[("Apple", "Macbook Air 5,1")]
    newer = by_name[("Apple", "MacBook Air 6,1")]
    assert older.id != newer.id
    assert older.end_of_support == date(2025, 1, 1)
    assert newer.end_of_support == date(2026, 1, 1)
    for model in models:
        assert model.match_key == model_match_key(model.manufacturer, model.model)
        assert model.end_of_support_precision == "year"
        assert model.end_of_support is not None
        assert model.end_of_support.timetuple()[1:3] == (1, 1)
        assert model.operating_system == "ChromeOS Flex"
    assert vendor_names == {model.manufacturer for model in models}


def test_model_file_has_no_duplicate_keys() -> None:
    catalog = read_models()

    assert catalog.duplicates == []
    assert len({model.match_key for model in catalog.models}) == 705


async def test_technicians_cover_every_region(db) -> None:
    await load(db)

    async with db.read() as session:
        technicians = list(await session.scalars(select(Technician)))
    assert 30 <= len(technicians) <= 40
    assert len({technician.name for technician in technicians}) == len(technicians)
    for technician in technicians:
        assert technician.employee_number.startswith("0")
        assert len(technician.employee_number) == 6
        assert technician.active
    per_region = defaultdict(int)
    for technician in technicians:
        per_region[technician.home_region] += 1
    assert set(per_region) == set(BOROUGHS.values())
    assert min(per_region.values()) >= 2


def test_warranty_ends_the_day_before_anniversary() -> None:
    assert warranty_end_for(date(2023, 8, 25), 3) == date(2026, 8, 24)
    assert warranty_end_for(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert warranty_end_for(date(2024, 1, 1), 4) == date(2027, 12, 31)


async def test_histories_follow_lifecycle(db) -> None:
    await load(db)
    devices, events = await fleet(db)
    async with db.read() as session:
        site_codes = dict((await session.execute(select(Site.id, Site.code))).all())
        regions = dict((await session.execute(select(Site.id, Site.region))).all())
        technicians = {t.id: t for t in await session.scalars(select(Technician))}
        vendor_ids = dict((await session.execute(select(Vendor.code, Vendor.id))).all())
    zone = db.settings.zone

    purchased = [device for device in devices if device.replaces_device_id is None]
    assert 900 <= len(purchased) <= 1050
    seen_actions: set[str] = set()
    for device in devices:
        history = events[device.id]
        tag = device.asset_tag
        assert [event.sequence for event in history] == list(range(1, device.version + 1)), tag
        assert history[-1].to_state == device.state, tag
        assert device.created_at == history[0].occurred_at, tag
        assert device.updated_at == history[-1].occurred_at, tag
        anniversary = device.warranty_end + timedelta(days=1)
        assert (anniversary.month, anniversary.day) == (
            device.warranty_start.month,
            device.warranty_start.day,
        ), tag
        assert anniversary.year - device.warranty_start.year in (3, 4, 5), tag

        state: State | None = None
        site_code = site_codes[history[0].site_id]
        repair_return: State | None = None
        vendor: str | None = None
        previous_hash: str | None = None
        previous_at = datetime.min.replace(tzinfo=UTC)
        for event in history:
            seen_actions.add(event.action)
            assert event.occurred_at > previous_at, (tag, event.sequence)
            assert event.occurred_at < NOW, (tag, event.sequence)
            previous_at = event.occurred_at
            assert event.from_state == (state.value if state else None), (tag, event.sequence)

            if ACTIONS[event.action].needs_technician:
                technician = technicians[event.technician_id]
                assert technician.home_region == regions[event.site_id], (tag, event.sequence)
                assert event.technician_name == technician.name, (tag, event.sequence)
            else:
                assert event.technician_id is None, (tag, event.sequence)

            if event.action == "receive":
                assert state is None, tag
                to_state = State.RECEIVED
            else:
                context = DeviceContext(
                    state=state,
                    site_code=site_code,
                    repair_return_state=repair_return,
                    coverages=((device.warranty_start, device.warranty_end),),
                )
                # The service adds from_site to a transfer's data after the check.
                planned = {key: value for key, value in event.data.items() if key != "from_site"}
                to_state = plan_transition(
                    event.action,
                    context,
                    planned,
                    has_technician=event.technician_id is not None,
                    on=event.occurred_at.astimezone(zone).date(),
                )
            assert event.to_state == to_state.value, (tag, event.sequence)

            if event.action == "transfer":
                site_code = event.data["site"]
                assert event.data["from_site"] != site_code, tag
            assert site_codes[event.site_id] == site_code, (tag, event.sequence)
            if event.action == "open_repair":
                repair_return = state
            elif to_state not in (State.IN_REPAIR, State.WITH_VENDOR):
                repair_return = None
            if event.action == "escalate":
                vendor = event.data["vendor"]
            elif state is State.WITH_VENDOR and to_state is not State.WITH_VENDOR:
                vendor = None

            columns = {name: getattr(event, name) for name in HASHED_COLUMNS}
            assert event.prev_hash == previous_hash, (tag, event.sequence)
            assert event.hash == event_hash(previous_hash, columns), (tag, event.sequence)
            previous_hash = event.hash
            state = to_state

        assert site_codes[device.site_id] == site_code, tag
        expected_return = repair_return.value if repair_return else None
        assert device.repair_return_state == expected_return, tag
        assert device.escalation_vendor_id == (vendor_ids[vendor] if vendor else None), tag

    # Every action appears: claims get RMA numbers and ship in the histories, and the claims
    # still open at the end go into an export batch per vendor.
    assert seen_actions == set(ACTIONS)
    assert {device.state for device in devices} >= {
        "received",
        "enrolled",
        "deployed",
        "recycled",
        "harvested",
        "lost",
        "replaced",
    }


async def test_replacements_link_both_devices(db) -> None:
    await load(db)
    devices, events = await fleet(db)
    by_id = {device.id: device for device in devices}

    replaced = [device for device in devices if device.replaced_by_device_id is not None]
    assert replaced
    for old in replaced:
        new = by_id[old.replaced_by_device_id]
        last = events[old.id][-1]
        assert old.state == "replaced"
        assert last.action == "vendor_replace"
        assert last.data["replacement_asset_tag"] == new.asset_tag
        assert last.data["replacement_serial"] == new.serial_number
        assert new.replaces_device_id == old.id
        assert new.model_id == old.model_id
        assert new.warranty_end == old.warranty_end
        first = events[new.id][0]
        assert first.action == "receive"
        assert first.data["replaces"] == old.asset_tag
        assert first.occurred_at == last.occurred_at
    replacements = [device for device in devices if device.replaces_device_id is not None]
    assert len(replacements) == len(replaced)


async def test_escalations_match_their_device_steps(db) -> None:
    await load(db)
    _devices, events = await fleet(db)
    async with db.read() as session:
        escalations = list(await session.scalars(select(Escalation).order_by(Escalation.id)))
        batches = list(await session.scalars(select(ExportBatch)))
        batch_rows = list(await session.scalars(select(ExportBatchRow)))

    expected = {
        "vendor_acknowledge": "acknowledged",
        "ship_to_vendor": "shipped",
        "escalation_export": "exported",
    }
    for escalation in escalations:
        history = [event for event in events[escalation.device_id]]
        opened = next(
            event
            for event in history
            if event.action == "escalate" and event.occurred_at == escalation.opened_at
        )
        later = [event for event in history if event.sequence > opened.sequence]
        steps = []
        for event in later:
            if event.action in ("vendor_return", "vendor_deny", "vendor_replace"):
                steps.append(event)
                break
            if event.action in expected:
                steps.append(event)
        assert steps, escalation.id
        if escalation.state == "closed":
            assert steps[-1].action in ("vendor_return", "vendor_deny", "vendor_replace")
        else:
            assert expected[steps[-1].action] == escalation.state, escalation.id
        acknowledged = [step for step in steps if step.action == "vendor_acknowledge"]
        if acknowledged:
            assert escalation.rma_number == acknowledged[0].data["rma_number"]
        shipped = [step for step in steps if step.action == "ship_to_vendor"]
        if shipped:
            assert escalation.tracking_number == shipped[0].data["tracking_number"]

    # The claims open at the end went out in one batch per vendor, dated before NOW.
    exported = [escalation for escalation in escalations if escalation.state == "exported"]
    assert exported
    assert not [escalation for escalation in escalations if escalation.state == "open"]
    assert len(batches) == len({escalation.vendor_id for escalation in exported})
    assert sum(batch.row_count for batch in batches) == len(exported) == len(batch_rows)
    assert all(batch.created_at < NOW for batch in batches)
    assert {row.escalation_id for row in batch_rows} == {e.id for e in exported}


async def test_identifiers_are_unique_text(db) -> None:
    await load(db)
    devices, _events = await fleet(db)

    tags = [device.asset_tag for device in devices]
    assert len(set(tags)) == len(tags)
    assert all(len(tag) == 7 and tag.isdigit() for tag in tags)
    assert "0000001" in tags
    serials = [(device.manufacturer_key, device.serial_number) for device in devices]
    assert len(set(serials)) == len(serials)


async def snapshot(db: Database) -> dict[str, Any]:
    """Return the loaded demo keyed by codes and asset tags, without database ids."""
    devices, events = await fleet(db)
    async with db.read() as session:
        site_codes = dict((await session.execute(select(Site.id, Site.code))).all())
        model_keys = dict(
            (await session.execute(select(DeviceModel.id, DeviceModel.match_key))).all()
        )
        vendor_codes = dict((await session.execute(select(Vendor.id, Vendor.code))).all())
        technicians = list(await session.scalars(select(Technician)))
    numbers = {technician.id: technician.employee_number for technician in technicians}
    tags = {device.id: device.asset_tag for device in devices}
    ignored = {
        "id",
        "model_id",
        "site_id",
        "escalation_vendor_id",
        "replaces_device_id",
        "replaced_by_device_id",
    }
    return {
        "technicians": sorted((t.employee_number, t.name, t.home_region) for t in technicians),
        "devices": {
            device.asset_tag: {
                **{key: value for key, value in device.model_dump().items() if key not in ignored},
                "model": model_keys[device.model_id],
                "site": site_codes[device.site_id],
                "escalation_vendor": vendor_codes.get(device.escalation_vendor_id),
                "replaces": tags.get(device.replaces_device_id),
                "replaced_by": tags.get(device.replaced_by_device_id),
                "events": [
                    (
                        event.sequence,
                        event.action,
                        event.to_state,
                        numbers.get(event.technician_id),
                        site_codes[event.site_id],
                        event.occurred_at,
                        event.notes,
                        # Batch and escalation ids differ from one load to the next.
                        sorted(event.data) if event.action == "escalation_export" else event.data,
                    )
                    for event in events[device.id]
                ],
            }
            for device in devices
        },
    }


REPORT_SUMMARY_TABLES = (
    ReportDeviceCount,
    ReportOpenRepair,
    ReportOpenRepairCount,
    ReportOutcomeCount,
    ReportRegionTurnaround,
    ReportRepairTurnaround,
    ReportSiteModelCount,
    ReportSiteYear,
    ReportStepCount,
)


async def wipe(db: Database) -> None:
    async with db.write() as session:
        for table in (HarvestedPart, RecyclingBatchDevice, RecyclingBatch, Sanitization):
            await session.execute(delete(table))
        await session.execute(delete(SalvageAssessment))
        for summary_table in REPORT_SUMMARY_TABLES:
            await session.execute(delete(summary_table))
        await session.execute(delete(DeviceEvent))
        for table in (PlanChange, ServicePlan, TechnicianAssignment, Visit, ClosedDay, RateCard):
            await session.execute(delete(table))
        await session.execute(delete(WarrantyCoverage))
        await session.execute(delete(ExportBatchRow))
        await session.execute(delete(Escalation))
        await session.execute(delete(ExportBatch))
        await session.execute(update(Device).values(replaces_device_id=None))
        await session.execute(update(Device).values(replaced_by_device_id=None))
        await session.execute(delete(Device))
        await session.execute(delete(Technician))
        await session.execute(delete(DeviceModel))
        await session.execute(delete(Vendor))
        await session.execute(delete(Site))


async def test_same_seed_gives_same_fleet(db) -> None:
    await load(db, seed=SEED)
    first = await snapshot(db)
    await wipe(db)
    await load(db, seed=SEED)
    second = await snapshot(db)
    await wipe(db)
    await load(db, seed=SEED + 1)
    other = await snapshot(db)

    assert first == second
    assert first["devices"] != other["devices"]


async def test_if_empty_skips_loaded_database(db) -> None:
    await load(db)
    devices = await count(db, Device)
    events = await count(db, DeviceEvent)

    summary = await load(db, if_empty=True)

    assert summary == "Demo not loaded: the database already has 1509 sites."
    assert await count(db, Site) == 1509
    assert await count(db, Device) == devices
    assert await count(db, DeviceEvent) == events
    with pytest.raises(DemoLoadError, match="already has 1509 sites"):
        await load(db)
    assert await count(db, Device) == devices


async def test_if_empty_loads_empty_database(db) -> None:
    summary = await load(db, if_empty=True)

    assert summary.startswith("Loaded the demo district in ")
    assert await count(db, Site) == 1509


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 1, 1), datetime.now(UTC) + timedelta(days=1)],
    ids=["naive", "future"],
)
async def test_reference_instant_rejects_naive_or_future(db, now: datetime) -> None:
    with pytest.raises(ValueError, match="now"):
        await load_demo(db, devices_per_student=SMALL, seed=SEED, if_empty=False, now=now)
    assert await count(db, Site) == 0


async def test_demo_device_moves_through_api(client, db) -> None:
    await load(db)
    async with db.read() as session:
        device = await session.scalar(
            select(Device)
            .where(Device.state.in_(["received", "enrolled"]))
            .order_by(Device.asset_tag)
            .limit(1)
        )
        assert device is not None
        site = await session.get(Site, device.site_id)
        assert site is not None
        technician = await session.scalar(
            select(Technician).where(Technician.home_region == site.region).limit(1)
        )
        assert technician is not None
        last_hash = await session.scalar(
            select(DeviceEvent.hash).where(
                DeviceEvent.device_id == device.id, DeviceEvent.sequence == device.version
            )
        )
    steps: list[tuple[str, dict[str, Any]]] = []
    if device.state == "received":
        steps.append(
            (
                "enroll",
                {
                    "operating_system": "ChromeOS Flex",
                    "management_profile": "Students",
                    "user_profile_kind": "student",
                },
            )
        )
    steps.append(("deploy", {"assignee": "Student 200000001"}))

    for action, data in steps:
        response = await client.post(
            f"/api/v1/devices/{device.asset_tag}/actions",
            json={"action": action, "technician": technician.employee_number, "data": data},
        )
        assert response.status_code == 200, response.text

    body = response.json()["device"]
    assert body["state"] == "deployed"
    assert body["assignee"] == "Student 200000001"
    assert body["version"] == device.version + len(steps)
    history = (await client.get(f"/api/v1/devices/{device.asset_tag}/history")).json()
    assert [event["action"] for event in history["items"][-len(steps) :]] == [
        action for action, _data in steps
    ]
    async with db.read() as session:
        first_new = await session.scalar(
            select(DeviceEvent).where(
                DeviceEvent.device_id == device.id, DeviceEvent.sequence == device.version + 1
            )
        )
    assert first_new is not None
    assert first_new.prev_hash == last_hash


async def test_demo_has_salvage_records(db) -> None:
    await load(db)
    async with db.read() as session:
        decided = list(
            await session.scalars(select(DeviceEvent).where(DeviceEvent.action == "assess_salvage"))
        )
        assessments = list(await session.scalars(select(SalvageAssessment)))
        sanitized = set(await session.scalars(select(Sanitization.device_id)))
        recycled = set(await session.scalars(select(Device.id).where(Device.state == "recycled")))
        in_batches = set(await session.scalars(select(RecyclingBatchDevice.device_id)))
        batches = list(await session.scalars(select(RecyclingBatch)))
    assert decided
    assert len(assessments) == len(decided)
    assert {row.decision_event_id for row in assessments} == {event.id for event in decided}
    for event in decided:
        if event.data["decision"] in ("harvest", "recycle"):
            assert event.device_id in sanitized, event.device_id
    assert recycled
    assert recycled == in_batches
    assert {batch.status for batch in batches} == {"closed"}
    assert all(batch.certificate_number for batch in batches)
    assert sum(batch.device_count for batch in batches) == len(recycled)


async def test_demo_steps_record_visits(db: Database) -> None:
    await load(db)
    async with db.read() as session:
        events = (
            await session.execute(
                select(
                    DeviceEvent.technician_id,
                    DeviceEvent.site_id,
                    DeviceEvent.visit_id,
                    DeviceEvent.occurred_at,
                )
            )
        ).all()
        visits = {visit.id: visit for visit in await session.scalars(select(Visit))}
        plans = list(await session.scalars(select(ServicePlan)))
        sites = {site.id: site for site in await session.scalars(select(Site))}
        assignments = await session.scalar(select(func.count()).select_from(TechnicianAssignment))
    with_technician = [event for event in events if event.technician_id is not None]
    assert with_technician
    for technician_id, site_id, visit_id, occurred_at in with_technician:
        visit = visits[visit_id]
        assert visit.technician_id == technician_id
        assert visit.site_id == site_id
        assert visit.checked_in_at <= occurred_at <= visit.checked_out_at
    assert all(event.visit_id is None for event in events if event.technician_id is None)
    assert len(visits) == len({event.visit_id for event in with_technician})

    current = [plan for plan in plans if plan.fiscal_year == "2026-27"]
    assert len(current) == len(sites)
    for plan in current:
        assert plan.days == recommended_days(sites[plan.site_id].enrollment)
        assert plan.state == "submitted"
    assert {plan.state for plan in plans if plan.fiscal_year != "2026-27"} <= {"locked"}
    assert assignments
