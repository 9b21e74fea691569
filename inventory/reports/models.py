"""Summary tables behind the reports, and the device indexes the reports read.

Each action on a device changes these rows in the transaction that records its event (see
inventory.reports.summary), so a report reads a few rows per site instead of the events.
Months are the first day of a calendar month in the district's time zone.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, Text
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
    """Open repairs at one site: its rows of report_open_repairs, counted.

    The district view reads this row per site instead of counting every open repair.
    """

    __tablename__ = "report_open_repair_counts"

    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id"), primary_key=True, autoincrement=False)
    )
    repair_count: int = Field(sa_column=Column(Integer, nullable=False))
