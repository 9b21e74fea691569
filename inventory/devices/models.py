"""Device models, devices, their append-only events, and idempotency records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, JsonDocument, UTCDateTime, utc_now


class DeviceModel(SQLModel, table=True):
    """A manufacturer's model, with its end of support (a Chromebook's AUE)."""

    __tablename__ = "device_models"
    __table_args__ = (UniqueConstraint("match_key"),)

    id: int | None = Field(default=None, primary_key=True)
    manufacturer: str = Field(sa_column=Column(Text, nullable=False))
    model: str = Field(sa_column=Column(Text, nullable=False))
    # Manufacturer and model folded to lower case with single spaces: the only way two
    # spellings of one model are matched.
    match_key: str = Field(sa_column=Column(Text, nullable=False))
    device_type: str = Field(sa_column=Column(Text, nullable=False))
    operating_system: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    end_of_support: date | None = Field(default=None)
    # "year", "month" or "day": how much of end_of_support the source stated.
    end_of_support_precision: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class Device(SQLModel, table=True):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("manufacturer_key", "serial_number"),
        Index("ix_devices_site_state", "site_id", "state"),
        Index("ix_devices_site_asset_tag", "site_id", "asset_tag"),
        Index("ix_devices_state_asset_tag", "state", "asset_tag"),
        Index("ix_devices_model_id", "model_id"),
        # Finds a device by the manufacturer's serial number alone, as a scan of it gives.
        Index("ix_devices_serial_number", "serial_number"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    asset_tag: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    serial_number: str = Field(sa_column=Column(Text, nullable=False))
    # Lower-cased manufacturer: serial numbers are unique per manufacturer only.
    manufacturer_key: str = Field(sa_column=Column(Text, nullable=False))
    model_id: int = Field(sa_column=Column(Integer, ForeignKey("device_models.id"), nullable=False))
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    room: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    assignee: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    purchase_date: date | None = Field(default=None)
    warranty_start: date | None = Field(default=None)
    warranty_end: date | None = Field(default=None)
    operating_system: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    management_profile: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    user_profile_kind: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # State to return to when the open repair completes.
    repair_return_state: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Vendor of the open warranty escalation. `escalate` sets it and any vendor update clears
    # it. A vendor user sees the devices that name its vendor here.
    escalation_vendor_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("vendors.id"), nullable=True)
    )
    replaces_device_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=True)
    )
    replaced_by_device_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=True)
    )
    # Number of events so far; each action raises it by one under the state check.
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    state_changed_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class DeviceEvent(SQLModel, table=True):
    """One step in a device's history. Rows are only ever inserted."""

    __tablename__ = "device_events"
    __table_args__ = (
        UniqueConstraint("device_id", "sequence"),
        Index("ix_device_events_technician_device", "technician_id", "device_id"),
        Index("ix_device_events_site_occurred", "site_id", "occurred_at"),
        Index("ix_device_events_visit", "visit_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    device_id: int = Field(sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=False))
    # 1 for the device's first event, then one more for each event.
    sequence: int = Field(sa_column=Column(Integer, nullable=False))
    action: str = Field(sa_column=Column(Text, nullable=False))
    from_state: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    to_state: str = Field(sa_column=Column(Text, nullable=False))
    technician_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )
    # Copied so the history reads the same after a technician record is renamed.
    technician_name: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # The signed-in user who recorded the step: the technician, an admin acting on a
    # technician's behalf, a vendor user or a site user. Username copied like the name.
    actor: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    actor_user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True)
    )
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    visit_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    data: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JsonDocument, nullable=False)
    )
    request_id: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    idempotency_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # SHA-256 over this event's content and the previous event's hash of the same device
    # (see inventory.audit). A later change to a stored event breaks the chain.
    prev_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    hash: str = Field(sa_column=Column(Text, nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The response to a request with an Idempotency-Key, replayed on a retry."""

    __tablename__ = "idempotency_records"

    key: str = Field(sa_column=Column(Text, primary_key=True))
    # Hash of the method, path and body: the same key with another request is rejected.
    fingerprint: str = Field(sa_column=Column(Text, nullable=False))
    status_code: int = Field(sa_column=Column(Integer, nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(JsonDocument, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class TagReservation(SQLModel, table=True):
    """An asset tag reserved, and usually printed, before its device arrives."""

    __tablename__ = "tag_reservations"
    __table_args__ = (Index("ix_tag_reservations_batch", "batch"),)

    asset_tag: str = Field(sa_column=Column(Text, primary_key=True))
    batch: str = Field(sa_column=Column(Text, nullable=False))
    site_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("sites.id"), nullable=True)
    )
    reserved_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    reserved_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Set when a device is received under the tag.
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
