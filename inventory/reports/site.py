"""The site report: key figures, distributions, lists and period figures of one site."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from inventory.accounts.principal import Principal
from inventory.db import Database
from inventory.devices.models import Device, DeviceModel
from inventory.escalations.models import Escalation
from inventory.lifecycle import STATE_LABELS, State
from inventory.reports.figures import (
    FIGURES,
    IN_SERVICE_STATES,
    Dates,
    SiteFigures,
    age_days,
    device_figures,
    outcome_figure,
)
from inventory.reports.models import (
    ReportDeviceCount,
    ReportOpenRepair,
    ReportOutcomeCount,
    ReportRepairTurnaround,
    ReportStepCount,
)
from inventory.reports.periods import Period
from inventory.reports.service_days import service_days_table
from inventory.reports.summary import NO_TECHNICIAN, OUTCOME_LABELS
from inventory.reports.tables import Cell, Chart, Report, ReportTable
from inventory.sites.models import Site
from inventory.sites.service import find_site
from inventory.technicians.models import Technician
from inventory.timeutil import district_today
from inventory.vendors.models import Vendor

NOT_RECORDED = "Not recorded"
SALVAGE_OUTCOMES = ("reuse", "harvest", "recycle", "recycled")


def report_dates(db: Database, now: datetime | None = None) -> Dates:
    instant = now or datetime.now(UTC)
    zone = db.settings.zone
    return Dates(today=district_today(zone, instant), now=instant, zone=zone)


def figures_table(figures: SiteFigures) -> ReportTable:
    return ReportTable(
        key="key_figures",
        title="Key figures",
        columns=["Figure", "Value"],
        rows=[[label, figures.values.get(key)] for key, label in FIGURES.items()],
        note="Counts in the period are for whole calendar months in the district's time zone.",
    )


def _bar_table(key: str, title: str, first_column: str, counts: Counter[str]) -> ReportTable:
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ReportTable(
        key=key,
        title=title,
        columns=[first_column, "Devices"],
        rows=[[label, count] for label, count in rows],
        chart=Chart("bars", [label for label, _ in rows], {"Devices": [c for _, c in rows]}),
    )


async def _device_tables(session: AsyncSession, site: Site, dates: Dates) -> list[ReportTable]:
    query = (
        select(
            ReportDeviceCount.state,
            ReportDeviceCount.operating_system,
            ReportDeviceCount.device_count,
            DeviceModel.manufacturer,
            DeviceModel.model,
            DeviceModel.device_type,
            DeviceModel.operating_system,
            DeviceModel.end_of_support,
        )
        .join(DeviceModel, DeviceModel.id == ReportDeviceCount.model_id)
        .where(ReportDeviceCount.site_id == site.id, ReportDeviceCount.device_count != 0)
    )
    by_state: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    by_system: Counter[str] = Counter()
    by_model: Counter[tuple] = Counter()
    for state, system, count, maker, model, kind, model_system, eos in await session.execute(query):
        by_state[state] += count
        if state not in IN_SERVICE_STATES:
            continue
        by_type[kind] += count
        by_system[system or model_system or NOT_RECORDED] += count
        by_model[(maker, model, kind, eos)] += count

    states = [state for state in State if by_state[state.value]]
    state_table = ReportTable(
        key="by_state",
        title="Devices by state",
        columns=["State", "Devices"],
        rows=[[STATE_LABELS[state], by_state[state.value]] for state in states],
        chart=Chart(
            "bars",
            [STATE_LABELS[state] for state in states],
            {"Devices": [by_state[state.value] for state in states]},
        ),
    )
    model_rows = sorted(by_model.items(), key=lambda item: (-item[1], item[0][0], item[0][1]))
    model_table = ReportTable(
        key="by_model",
        title="Devices in service by model",
        columns=["Manufacturer", "Model", "Type", "End of support", "Devices"],
        rows=[[maker, model, kind, eos, count] for (maker, model, kind, eos), count in model_rows],
        note="End of support is the model's last day of updates (for Chromebooks, the AUE).",
    )
    return [
        state_table,
        _bar_table("by_type", "Devices in service by type", "Type", by_type),
        _bar_table(
            "by_operating_system",
            "Devices in service by operating system",
            "Operating system",
            by_system,
        ),
        model_table,
    ]


def _end_of_support_table(figures: SiteFigures, dates: Dates) -> ReportTable:
    this_year = dates.this_year
    rows: list[list] = [
        ["Past end of support", figures.values["eos_past"]],
        [f"Reaching it in fiscal year {this_year.label}", figures.values["eos_this_year"]],
        [f"Reaching it in fiscal year {this_year.next().label}", figures.values["eos_next_year"]],
    ]
    return ReportTable(
        key="end_of_support",
        title="End of support",
        columns=["Devices in service", "Devices"],
        rows=rows,
        chart=Chart("bars", [row[0] for row in rows], {"Devices": [row[1] for row in rows]}),
    )


async def _warranty_table(session: AsyncSession, site: Site, dates: Dates) -> ReportTable:
    query = (
        select(
            Device.asset_tag,
            Device.serial_number,
            DeviceModel.model,
            Device.state,
            Device.warranty_end,
        )
        .join(DeviceModel, DeviceModel.id == Device.model_id)
        .where(
            Device.site_id == site.id,
            col(Device.warranty_end) >= dates.today,
            col(Device.warranty_end) <= dates.warranty_last_day,
            Device.state.in_(IN_SERVICE_STATES),
        )
        .order_by(Device.warranty_end, Device.asset_tag)
    )
    rows = [
        [tag, serial, model, STATE_LABELS[State(state)], end]
        for tag, serial, model, state, end in await session.execute(query)
    ]
    return ReportTable(
        key="warranty_ending",
        title="Warranty ending within 90 days",
        columns=["Asset tag", "Serial number", "Model", "State", "Last day covered"],
        rows=rows,
        note=f"Devices in service whose last covered day is from {dates.today.isoformat()} "
        f"to {dates.warranty_last_day.isoformat()}.",
    )


async def _open_tables(
    session: AsyncSession, site: Site, dates: Dates, figures: SiteFigures
) -> list[ReportTable]:
    """List the open repairs and escalations, and count the open repairs into `figures`."""
    repairs = (
        select(Device.asset_tag, Device.state, ReportOpenRepair.opened_at)
        .join(Device, Device.id == ReportOpenRepair.device_id)
        .where(ReportOpenRepair.site_id == site.id)
        .order_by(ReportOpenRepair.opened_at, Device.asset_tag)
    )
    open_repairs = (await session.execute(repairs)).all()
    repair_rows = [
        [
            tag,
            STATE_LABELS[State(state)],
            opened.astimezone(dates.zone).date(),
            age_days(opened, dates.now),
        ]
        for tag, state, opened in open_repairs
    ]
    figures.values["open_repairs"] = len(open_repairs)
    if open_repairs:
        # Ordered by opening, so the first repair is the oldest.
        figures.values["oldest_repair_days"] = age_days(open_repairs[0].opened_at, dates.now)
    escalations = (
        select(
            Device.asset_tag,
            Vendor.name,
            Escalation.rma_number,
            Escalation.state,
            Escalation.opened_at,
        )
        .join(Escalation, Escalation.device_id == Device.id)
        .join(Vendor, Vendor.id == Escalation.vendor_id)
        .where(
            Device.site_id == site.id,
            Device.state == State.WITH_VENDOR.value,
            Escalation.closed_at.is_(None),
        )
        .order_by(Escalation.opened_at, Device.asset_tag)
    )
    escalation_rows = [
        [tag, vendor, rma, state, opened.astimezone(dates.zone).date(), age_days(opened, dates.now)]
        for tag, vendor, rma, state, opened in await session.execute(escalations)
    ]
    return [
        ReportTable(
            key="open_repairs",
            title="Open repairs",
            columns=["Asset tag", "State", "Opened", "Age (days)"],
            rows=repair_rows,
            note="A repair is open from open_repair until the device leaves repair and its "
            "vendor; age is in whole days.",
        ),
        ReportTable(
            key="open_escalations",
            title="Open escalations",
            columns=[
                "Asset tag",
                "Vendor",
                "RMA number",
                "Status",
                "Opened",
                "Age (days)",
            ],
            rows=escalation_rows,
        ),
    ]


@dataclass
class PeriodCounts:
    """A site's repairs and outcomes in a period, per month and in total."""

    opened: dict[date, int]
    closed: dict[date, int]
    outcomes: Counter[str] = field(default_factory=Counter)
    turnarounds: Counter[int] = field(default_factory=Counter)


async def _period_counts(session: AsyncSession, site: Site, period: Period) -> PeriodCounts:
    months = period.months()
    counts = PeriodCounts(opened=dict.fromkeys(months, 0), closed=dict.fromkeys(months, 0))
    outcome_rows = await session.execute(
        select(
            ReportOutcomeCount.month, ReportOutcomeCount.outcome, ReportOutcomeCount.outcome_count
        ).where(
            ReportOutcomeCount.site_id == site.id,
            ReportOutcomeCount.month >= period.first_month,
            ReportOutcomeCount.month <= period.last_month,
        )
    )
    for month, outcome, count in outcome_rows:
        counts.outcomes[outcome] += count
        if outcome == "repair_opened":
            counts.opened[month] += count
    turnaround_rows = await session.execute(
        select(
            ReportRepairTurnaround.month,
            ReportRepairTurnaround.turnaround_days,
            ReportRepairTurnaround.repair_count,
        ).where(
            ReportRepairTurnaround.site_id == site.id,
            ReportRepairTurnaround.month >= period.first_month,
            ReportRepairTurnaround.month <= period.last_month,
        )
    )
    for month, days, count in turnaround_rows:
        counts.closed[month] += count
        counts.turnarounds[days] += count
    return counts


async def _period_tables(
    session: AsyncSession, site: Site, period: Period, counts: PeriodCounts, figures: SiteFigures
) -> list[ReportTable]:
    months = period.months()
    opened = counts.opened
    closed = counts.closed
    labels = [month.strftime("%Y-%m") for month in months]
    repairs = ReportTable(
        key="repairs",
        title="Repairs and turnaround",
        columns=["Month", "Repairs opened", "Repairs completed"],
        rows=[[label, opened[m], closed[m]] for label, m in zip(labels, months, strict=True)],
        note=f"Completed: {figures.values['repairs_closed']}. Turnaround, median: "
        f"{_days(figures.values['turnaround_median'])}; 90th percentile: "
        f"{_days(figures.values['turnaround_p90'])}. Turnaround is whole days from "
        "open_repair to complete_repair or a vendor replacement, nearest-rank percentiles.",
        chart=Chart(
            "columns",
            labels,
            {"Repairs opened": list(opened.values()), "Repairs completed": list(closed.values())},
        ),
    )
    salvage_labels = [OUTCOME_LABELS[name] for name in SALVAGE_OUTCOMES]
    salvage_counts = [counts.outcomes[name] for name in SALVAGE_OUTCOMES]
    salvage_rows: list[list[Cell]] = [
        [label, count] for label, count in zip(salvage_labels, salvage_counts, strict=True)
    ]
    salvage = ReportTable(
        key="salvage",
        title="Salvage outcomes",
        columns=["Outcome", "Devices"],
        rows=salvage_rows,
        chart=Chart("bars", salvage_labels, {"Devices": salvage_counts}),
    )
    return [repairs, salvage, await _technician_table(session, site, period)]


def _days(value: int | None) -> str:
    return "none completed" if value is None else f"{value} days"


async def _technician_table(session: AsyncSession, site: Site, period: Period) -> ReportTable:
    query = (
        select(
            ReportStepCount.technician_id,
            Technician.name,
            Technician.employee_number,
            ReportStepCount.action,
            func.sum(ReportStepCount.step_count),
        )
        .outerjoin(Technician, Technician.id == ReportStepCount.technician_id)
        .where(
            ReportStepCount.site_id == site.id,
            ReportStepCount.month >= period.first_month,
            ReportStepCount.month <= period.last_month,
        )
        .group_by(
            ReportStepCount.technician_id,
            Technician.name,
            Technician.employee_number,
            ReportStepCount.action,
        )
    )
    rows = []
    for technician_id, name, number, action, count in await session.execute(query):
        who = "No technician" if technician_id == NO_TECHNICIAN else name or str(technician_id)
        rows.append([who, number or "", action, int(count)])
    rows.sort(key=lambda row: (row[0] == "No technician", row[0], row[1], row[2]))
    return ReportTable(
        key="technicians",
        title="Technicians and the steps they handled",
        columns=["Technician", "Employee number", "Step", "Steps"],
        rows=rows,
        note="No technician: steps recorded by vendor or site users, and vendor replacements "
        "received by the service.",
    )


async def site_report(
    db: Database,
    code: str,
    period: Period,
    principal: Principal | None = None,
    now: datetime | None = None,
) -> Report:
    """Build one site's report for `period`; a site the user may not see is not found."""
    dates = report_dates(db, now)
    async with db.read() as session:
        site = await find_site(session, code, principal)
        assert site.id is not None
        # The key figures are counted from the rows that the other tables list. The district
        # view computes the same figures with figures.site_figures, in more queries.
        counted = await device_figures(session, dates, site.id)
        figures = SiteFigures(values=dict(counted.get(site.id, {})))
        device_tables = await _device_tables(session, site, dates)
        warranty = await _warranty_table(session, site, dates)
        figures.values["warranty_ending"] = len(warranty.rows)
        open_tables = await _open_tables(session, site, dates, figures)
        counts = await _period_counts(session, site, period)
        for outcome, count in counts.outcomes.items():
            figures.values[outcome_figure(outcome)] = count
        figures.turnarounds = counts.turnarounds
        figures.finish()
        tables = [
            figures_table(figures),
            *device_tables,
            _end_of_support_table(figures, dates),
            warranty,
            *open_tables,
            *await _period_tables(session, site, period, counts, figures),
            await service_days_table(session, site, period),
        ]
    return Report(
        title=f"{site.code} {site.name}",
        subtitle=f"Site inventory report, {period.label}",
        today=dates.today,
        period_label=period.label,
        tables=tables,
        context={"site": site, "period": period},
    )
