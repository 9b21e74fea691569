"""Request and response shapes for warranty coverages, escalations and export batches."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from inventory.schemas import Identifier, OptionalText, Schema


class CoverageCreate(Schema):
    """One warranty coverage of a device; give `end` (the last day covered) or `months`."""

    kind: str = Field(
        default="base", description="base, extended or accidental_damage.", max_length=40
    )
    start: date = Field(description="First day covered.")
    end: date | None = Field(default=None, description="Last day covered.")
    months: int | None = Field(
        default=None,
        ge=1,
        le=240,
        description="Length in months; the coverage ends the day before the same day that "
        "many months later, or at the end of a month that lacks that day.",
    )
    vendor: Identifier | None = Field(default=None, description="Code of the covering vendor.")
    reference: OptionalText | None = Field(
        default=None, description="Contract or order number of the coverage."
    )


class CoverageRead(BaseModel):
    id: int
    kind: str
    vendor: str | None
    start: date
    end: date
    months: int | None
    reference: str | None
    created_at: datetime
    created_by: str | None


class EscalationRead(BaseModel):
    id: int
    asset_tag: str
    serial_number: str
    device_state: str
    vendor: str
    site: str
    state: str = Field(description="open, exported, acknowledged, shipped or closed.")
    outcome: str | None = Field(description="repaired, replaced or denied, once closed.")
    problem: str
    troubleshooting: str | None
    parts_requested: list[str]
    covered: bool = Field(description="Whether a coverage included the day it was opened.")
    override_reason: str | None
    technician: str | None
    rma_number: str | None
    tracking_number: str | None
    resolution: str | None = Field(description="The vendor's outcome text or denial reason.")
    replacement_asset_tag: str | None
    export_batch: int | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class BatchCreate(Schema):
    """The escalations that go into a new export batch."""

    escalation_ids: list[int] | None = Field(
        default=None,
        max_length=100_000,
        description="Open escalations of this vendor to export; everything not yet exported "
        "when left out.",
    )


class BatchRead(BaseModel):
    id: int
    vendor: str
    profile: str
    row_count: int
    checksum: str = Field(description="SHA-256 of the rows as canonical JSON lines.")
    created_at: datetime
    created_by: str | None
    downloads: dict[str, str] = Field(description="Download URL of each format.")


class VendorUpdateRow(BaseModel):
    """The result of one reply row: the actions applied, or why the row was rejected."""

    line: int
    escalation_id: int | None
    asset_tag: str | None
    actions: list[str]
    error: str | None


class VendorUpdateReport(BaseModel):
    applied: bool = Field(
        description="False when any row was rejected, and then nothing was changed."
    )
    rows: list[VendorUpdateRow]
