"""Summary tables behind the reports, and the device indexes the reports read.

Each action on a device changes these rows in the transaction that records its event (see
inventory.reports.summary), so a report reads a few rows per site instead of the events.
Months are the first day of a calendar month in the district's time zone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Text, text
from sqlmodel import Field, SQLModel

from inventory.devices.models import Device
from inventory.types import BigIntId, UTCDateTime

# Warranty ends within a site, and across the district by date.
Index("ix_devices_site_warranty_end", Device.site_id, Device.warranty_end, Device.state)
Index("ix_devices_warranty_end_site", Device.warranty_end, Device.site_id, Device.state)


class ReportDeviceCount(SQLModel, table=True):
    """Devices of one site in one state, of one model and operating system."""

    __tablename__ = "report_device_counts"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    state: str = Field(sa_column=Column(Text, primary_key=True))
    model_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("device_models.id"), primary_key=True, autoincrement=False
        )
    )
    # The device's own operating system, or "" when it names none and the model's applies.
    operating_system: str = Field(sa_column=Column(Text, primary_key=True))
    device_count: int = Field(sa_column=Column(Integer, nullable=False))


class ReportSiteModelCount(SQLModel, table=True):
    """Devices of one model at one site, in service and in the states the key figures count.

    The district view reads these rows, one per site and model, instead of adding up
    report_device_counts, which also splits by state and operating system.
    """

    __tablename__ = "report_site_model_counts"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    model_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("device_models.id"), primary_key=True, autoincrement=False
        )
    )
    # Devices not retired and not lost (inventory.reports.figures.IN_SERVICE_STATES).
    in_service: int = Field(sa_column=Column(Integer, nullable=False))
    deployed: int = Field(sa_column=Column(Integer, nullable=False))
    in_repair: int = Field(sa_column=Column(Integer, nullable=False))
    with_vendor: int = Field(sa_column=Column(Integer, nullable=False))
    lost: int = Field(sa_column=Column(Integer, nullable=False))


class ReportStepCount(SQLModel, table=True):
    """Steps (events) of one action by one technician at one site in one month."""

    __tablename__ = "report_step_counts"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    month: date = Field(sa_column=Column(Date, primary_key=True))
    # 0 for steps recorded without a technician (vendor and site users, replacements).
    technician_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    action: str = Field(sa_column=Column(Text, primary_key=True))
    step_count: int = Field(sa_column=Column(Integer, nullable=False))


class ReportOutcomeCount(SQLModel, table=True):
    """Repairs opened and salvage outcomes at one site in one month."""

    __tablename__ = "report_outcome_counts"
    # Covers the district view's read of one period for every site, which the primary key,
    # led by the site, cannot narrow to the period's months.
    __table_args__ = (
        Index("ix_report_outcome_counts_month", "month", "site_id", "outcome", "outcome_count"),
    )

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    month: date = Field(sa_column=Column(Date, primary_key=True))
    # One of inventory.reports.summary.OUTCOMES.
    outcome: str = Field(sa_column=Column(Text, primary_key=True))
    outcome_count: int = Field(sa_column=Column(Integer, nullable=False))


class ReportRepairTurnaround(SQLModel, table=True):
    """Repairs closed at one site in one month that took a given number of whole days."""

    __tablename__ = "report_repair_turnarounds"
    # Covers the district view's read of one period for every site, as for the outcomes.
    __table_args__ = (
        Index(
            "ix_report_repair_turnarounds_month",
            "month",
            "site_id",
            "turnaround_days",
            "repair_count",
        ),
    )

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    month: date = Field(sa_column=Column(Date, primary_key=True))
    turnaround_days: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    repair_count: int = Field(sa_column=Column(Integer, nullable=False))


class ReportOpenRepair(SQLModel, table=True):
    """A device's repair that is still open: in repair or with its vendor."""

    __tablename__ = "report_open_repairs"
    __table_args__ = (Index("ix_report_open_repairs_site", "site_id", "opened_at"),)

    device_id: int = Field(
        sa_column=Column(BigIntId, ForeignKey("devices.id"), primary_key=True, autoincrement=False)
    )
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class ReportOpenRepairCount(SQLModel, table=True):
    """The number of open repairs at one site, and when the oldest of them was opened.

    The district view reads this row per site instead of every open repair.
    """

    __tablename__ = "report_open_repair_counts"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    repair_count: int = Field(sa_column=Column(Integer, nullable=False))
    # The earliest opened_at of the site's report_open_repairs rows, or None without any.
    oldest_opened_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )


def _count_column() -> Column:
    """Build a count column that starts at 0, so an upsert may add to one count of a new row."""
    return Column(Integer, nullable=False, server_default=text("0"))


class ReportSiteYear(SQLModel, table=True):
    """One site's repairs and salvage outcomes over one fiscal year, with its turnaround.

    The same counts as report_outcome_counts and report_repair_turnarounds over the fiscal
    year's months, so that the district view of a fiscal year reads one row per site.
    """

    __tablename__ = "report_site_years"

    # The calendar year in which the fiscal year starts (July 1). It leads the primary key,
    # so the district view reads one fiscal year's rows as one range.
    fiscal_year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    # One count per outcome of inventory.reports.summary.OUTCOMES.
    repair_opened: int = Field(sa_column=_count_column())
    reuse: int = Field(sa_column=_count_column())
    harvest: int = Field(sa_column=_count_column())
    recycle: int = Field(sa_column=_count_column())
    recycled: int = Field(sa_column=_count_column())
    # Repairs closed with a turnaround, and its nearest-rank median and 90th percentile in
    # whole days; both None while turnaround_count is 0.
    turnaround_count: int = Field(sa_column=_count_column())
    turnaround_median: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    turnaround_p90: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class ReportRegionTurnaround(SQLModel, table=True):
    """Repairs closed in one fiscal year at one region's sites that took a given whole days.

    The district view's region and district totals take their turnaround percentiles from
    these rows. The region is the site's region when the repair closed, "" for none.
    NOTE: nothing in the service changes a site's region. Code that does must move the
    site's turnarounds between regions, or run `inventory report rebuild` after it.
    """

    __tablename__ = "report_region_turnarounds"

    fiscal_year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    region: str = Field(sa_column=Column(Text, primary_key=True))
    turnaround_days: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    repair_count: int = Field(sa_column=Column(Integer, nullable=False))
