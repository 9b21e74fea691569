"""Warranty coverages, escalations, and export batches with the rows they held."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, JsonDocument, UTCDateTime, utc_now


class WarrantyCoverage(SQLModel, table=True):
    """One coverage of a device: base warranty, extended or accidental damage."""

    __tablename__ = "warranty_coverages"
    __table_args__ = (Index("ix_warranty_coverages_device_end", "device_id", "end_date"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    vendor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("vendors.id"), nullable=True)
    )
    start_date: date = Field(nullable=False)
    # The last day covered, stored when the coverage is recorded.
    end_date: date = Field(nullable=False)
    # Set when the coverage was given as a number of months rather than an end date.
    months: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    reference: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Escalation(SQLModel, table=True):
    """A warranty claim on one device with one vendor."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_vendor_state", "vendor_id", "state", "id"),
        Index("ix_escalations_device", "device_id"),
        Index("ix_escalations_batch", "export_batch_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))
    vendor_id: int = Field(sa_column=Column(Integer, ForeignKey("vendors.id"), nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    problem: str = Field(sa_column=Column(Text, nullable=False))
    troubleshooting: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    parts_requested: list[str] = Field(
        default_factory=list, sa_column=Column(JsonDocument, nullable=False)
    )
    # Whether a coverage included the day it was opened; when not, why it was escalated anyway.
    covered: bool = Field(nullable=False)
    override_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    technician_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )
    rma_number: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tracking_number: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    replacement_device_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=True)
    )
    export_batch_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("export_batches.id"), nullable=True)
    )
    opened_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))


class ExportBatch(SQLModel, table=True):
    """Escalations sent to a vendor together; its rows are kept as they were sent."""

    __tablename__ = "export_batches"
    __table_args__ = (Index("ix_export_batches_vendor", "vendor_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=Column(Integer, ForeignKey("vendors.id"), nullable=False))
    profile: str = Field(sa_column=Column(Text, nullable=False))
    row_count: int = Field(sa_column=Column(Integer, nullable=False))
    # SHA-256 over the rows as canonical JSON lines (see inventory.escalations.exports).
    checksum: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by_user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True)
    )


class ExportBatchRow(SQLModel, table=True):
    """One escalation's fields as a batch exported them, so a download repeats exactly."""

    __tablename__ = "export_batch_rows"
    __table_args__ = (UniqueConstraint("batch_id", "position"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    batch_id: int = Field(
        sa_column=Column(Integer, ForeignKey("export_batches.id"), nullable=False)
    )
    position: int = Field(sa_column=Column(Integer, nullable=False))
    escalation_id: int = Field(
        sa_column=Column(BigIntId, ForeignKey("escalations.id"), nullable=False)
    )
    content: dict[str, Any] = Field(sa_column=Column(JsonDocument, nullable=False))
