"""Tables of salvage assessments, data sanitizations, harvested parts, recycling batches and
per-device end-of-support dates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, JsonDocument, UTCDateTime, utc_now


class SalvageAssessment(SQLModel, table=True):
    """A technician's assessment of a device pulled for salvage, with the service's
    recommendation and, once made, the technician's decision."""

    __tablename__ = "salvage_assessments"
    __table_args__ = (Index("ix_salvage_assessments_device", "device_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=False)
    )
    # A (like new) to D (broken beyond repair); see inventory.salvage.rules.CONDITION_GRADES.
    condition_grade: str = Field(sa_column=Column(Text, nullable=False))
    # Whole months from the purchase date to the day of the assessment; None when unknown.
    age_months: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    warranty_active: bool = Field(nullable=False)
    # The device's own end-of-support date, or else its model's, as it was that day.
    end_of_support: date | None = Field(default=None)
    repair_cost: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    replacement_cost: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    # Percent of design capacity; None for a device without a battery.
    battery_health: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    missing_parts: list[str] = Field(
        default_factory=list, sa_column=Column(JsonDocument, nullable=False)
    )
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recommendation: str = Field(sa_column=Column(Text, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JsonDocument, nullable=False))
    # The thresholds the recommendation was made with, so it can be explained later.
    thresholds: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonDocument, nullable=False)
    )
    assessed_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Required when the decision differs from the recommendation.
    decision_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    decided_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    decision_event_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("device_events.id"), nullable=True)
    )


class Sanitization(SQLModel, table=True):
    """A record that a device's storage was sanitized (clear, purge or destroy, after NIST
    SP 800-88 Rev. 1) and who verified it."""

    __tablename__ = "sanitizations"
    __table_args__ = (Index("ix_sanitizations_device", "device_id", "id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))
    method: str = Field(sa_column=Column(Text, nullable=False))
    tool: str = Field(sa_column=Column(Text, nullable=False))
    performed_on: date = Field(nullable=False)
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=False)
    )
    verified_by_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=False)
    )
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    recorded_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class HarvestedPart(SQLModel, table=True):
    """A part taken from a harvested device into a site's spare stock."""

    __tablename__ = "harvested_parts"
    __table_args__ = (
        Index("ix_harvested_parts_site_used", "site_id", "used_at"),
        Index("ix_harvested_parts_source", "source_device_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    source_device_id: int = Field(
        sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False)
    )
    part: str = Field(sa_column=Column(Text, nullable=False))
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    harvested_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    assessment_id: int | None = Field(
        default=None,
        sa_column=Column(BigIntId, ForeignKey("salvage_assessments.id"), nullable=True),
    )
    # Set when the part goes into another device during a repair.
    used_in_device_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=True)
    )
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    used_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )


class RecyclingBatch(SQLModel, table=True):
    """Devices handed to a certified recycler together, from one site or one region."""

    __tablename__ = "recycling_batches"

    id: int | None = Field(default=None, primary_key=True)
    # Exactly one of site_id and region is set.
    site_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("sites.id"), nullable=True)
    )
    region: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recycler: str = Field(sa_column=Column(Text, nullable=False))
    pickup_date: date = Field(nullable=False)
    certificate_number: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # open, then closed when its devices are recycled.
    status: str = Field(sa_column=Column(Text, nullable=False))
    device_count: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
    closed_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )


class RecyclingBatchDevice(SQLModel, table=True):
    """A device in a recycling batch. A device is in at most one batch."""

    __tablename__ = "recycling_batch_devices"
    __table_args__ = (
        UniqueConstraint("device_id"),
        Index("ix_recycling_batch_devices_batch", "batch_id", "device_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    batch_id: int = Field(
        sa_column=Column(Integer, ForeignKey("recycling_batches.id"), nullable=False)
    )
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))


class DeviceEndOfSupport(SQLModel, table=True):
    """A device's own end-of-support date, which overrides its model's."""

    __tablename__ = "device_end_of_support"

    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), primary_key=True))
    end_of_support: date = Field(nullable=False)
    # "year", "month" or "day", as on device_models.
    precision: str = Field(sa_column=Column(Text, nullable=False))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    set_at: datetime = Field(default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False))
    set_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
