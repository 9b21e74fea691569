"""Request and response shapes for salvage, sanitization, spare parts, recycling batches and
end of support."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from inventory.devices.schemas import DeviceRead, EventRead
from inventory.schemas import Identifier, Name, OptionalText, Schema

Money = Annotated[Decimal, Field(ge=0, le=Decimal("1000000"), max_digits=12, decimal_places=2)]


class AssessmentCreate(Schema):
    """A technician's findings on a device awaiting salvage."""

    technician: Identifier | None = Field(
        default=None, description="Employee number of the assessing technician."
    )
    condition_grade: str = Field(
        pattern="^[ABCDabcd]$",
        description="A (like new), B (worn but sound), C (damaged but repairable) or D "
        "(broken beyond repair).",
    )
    repair_cost: Money = Field(description="Estimated cost to repair it for reuse, in dollars.")
    replacement_cost: Money = Field(description="Cost of a replacement device, in dollars.")
    battery_health: int | None = Field(
        default=None, ge=0, le=100, description="Percent of design capacity; null: no battery."
    )
    missing_parts: list[Name] = Field(default_factory=list, max_length=50)
    notes: OptionalText | None = None


class AssessmentRead(BaseModel):
    id: int
    asset_tag: str
    technician: str
    condition_grade: str
    age_months: int | None
    warranty_active: bool
    end_of_support: date | None
    repair_cost: Decimal
    replacement_cost: Decimal
    battery_health: int | None
    missing_parts: list[str]
    notes: str | None
    recommendation: str
    reasons: list[str]
    thresholds: dict
    assessed_at: datetime
    decision: str | None
    decision_reason: str | None
    decided_by: str | None
    decided_at: datetime | None


class SanitizationCreate(Schema):
    """A record that the device's storage was sanitized."""

    method: str = Field(description="clear, purge or destroy, after NIST SP 800-88 Rev. 1.")
    tool: Name = Field(description="Software or device used, such as a wipe tool and version.")
    performed_on: date | None = Field(
        default=None, description="Day of the work; today if left out."
    )
    technician: Identifier | None = Field(
        default=None, description="Employee number of the technician who sanitized it."
    )
    verified_by: Identifier = Field(
        description="Employee number of the technician who verified the result."
    )
    notes: OptionalText | None = None


class SanitizationRead(BaseModel):
    id: int
    asset_tag: str
    method: str
    tool: str
    performed_on: date
    technician: str
    verified_by: str
    notes: str | None
    recorded_at: datetime


class DecisionCreate(Schema):
    """The technician's decision on the latest assessment of a device."""

    decision: str = Field(description="reuse, harvest or recycle.")
    technician: Identifier | None = Field(
        default=None, description="Employee number of the deciding technician."
    )
    reason: OptionalText | None = Field(
        default=None, description="Required when the decision differs from the recommendation."
    )
    parts: list[Name] = Field(
        default_factory=list,
        max_length=50,
        description="For harvest: the parts taken into spare stock, such as battery or screen.",
    )
    spare_site: Identifier | None = Field(
        default=None,
        description="For harvest: code of the site whose spare stock gets the parts; the "
        "device's site if left out.",
    )


class PartRead(BaseModel):
    id: int
    part: str
    source_asset_tag: str
    site: str
    harvested_at: datetime
    used_in_asset_tag: str | None
    used_at: datetime | None
    used_by: str | None


class PartUse(Schema):
    """A harvested part put into a device under repair."""

    asset_tag: Identifier = Field(description="The device being repaired.")
    technician: Identifier | None = None


class SalvageRecord(BaseModel):
    """A device's salvage assessments, sanitizations and harvested parts, newest first."""

    asset_tag: str
    state: str
    has_storage: bool
    end_of_support: date | None
    end_of_support_precision: str | None
    end_of_support_source: str | None = Field(description="device, model or null.")
    assessments: list[AssessmentRead]
    sanitizations: list[SanitizationRead]
    parts: list[PartRead]


class QueueItem(BaseModel):
    asset_tag: str
    serial_number: str
    manufacturer: str
    model: str
    site: str
    state: str
    state_changed_at: datetime
    recommendation: str | None = Field(description="Of the latest assessment; null if none.")
    sanitized: bool


class BatchCreate(Schema):
    """A recycling batch of the devices in recycle_pending at one site or one region."""

    site: Identifier | None = Field(default=None, description="Site code; or give region.")
    region: Name | None = Field(default=None, description="Region name; or give site.")
    recycler: Name = Field(description="The certified recycler who picks the devices up.")
    pickup_date: date


class BatchClose(Schema):
    technician: Identifier | None = Field(
        default=None, description="Employee number of the technician who hands the devices over."
    )
    certificate_number: Identifier | None = Field(
        default=None,
        description="The recycler's certificate number, if not recorded on the batch before.",
    )


class CertificateUpdate(Schema):
    certificate_number: Identifier


class RecyclingBatchRead(BaseModel):
    id: int
    site: str | None
    region: str | None
    recycler: str
    pickup_date: date
    certificate_number: str | None
    status: str
    device_count: int
    created_at: datetime
    created_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    downloads: dict[str, str]


class EndOfSupportSet(Schema):
    end_of_support: date = Field(description="Last day of updates for this device.")
    precision: str = Field(default="month", pattern="^(year|month|day)$")
    reason: OptionalText | None = None


class ForecastRow(BaseModel):
    site: str
    fiscal_year: str
    devices: int


class Forecast(BaseModel):
    """Devices in service that reach end of support, per site and fiscal year."""

    first_fiscal_year: str
    last_fiscal_year: str
    rows: list[ForecastRow]
    already_unsupported: int = Field(
        description="Devices whose end of support is before the first fiscal year."
    )


class DecisionResult(BaseModel):
    """The decided assessment, the device as it now is, and the event the decision wrote."""

    assessment: AssessmentRead
    device: DeviceRead
    event: EventRead


class EndOfSupportRead(BaseModel):
    asset_tag: str
    end_of_support: date
    precision: str
    reason: str | None
    set_by: str | None


class EndOfSupportImportReport(BaseModel):
    updated: int
    unchanged: int
    unmatched: list[str]
    dry_run: bool
