"""Request and response shapes for device models, devices, actions and events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inventory.schemas import DatabaseInt, Identifier, Name, OptionalText, Schema
from inventory.technicians.schemas import TechnicianRef


class DeviceModelCreate(Schema):
    manufacturer: Name
    model: Name
    device_type: Name = Field(description="For example chromebook, laptop, tablet, desktop.")
    operating_system: Name | None = None
    end_of_support: date | None = Field(
        default=None, description="Last day of vendor updates (a Chromebook's AUE)."
    )
    end_of_support_precision: str | None = Field(
        default=None, pattern="^(year|month|day)$", description="How precise the date is."
    )


class DeviceModelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    manufacturer: str
    model: str
    device_type: str
    operating_system: str | None
    end_of_support: date | None
    end_of_support_precision: str | None


class DeviceReceive(Schema):
    """A new device taken into district stock: the `receive` action."""

    asset_tag: Identifier
    serial_number: Identifier
    model_id: DatabaseInt | None = Field(
        default=None, description="A device model id, or give both manufacturer and model."
    )
    manufacturer: Name | None = None
    model: Name | None = None
    site: Identifier = Field(description="Code of the site that receives the device.")
    technician: Identifier | None = Field(
        default=None, description="Employee number of the technician who received it."
    )
    purchase_date: date | None = None
    warranty_start: date | None = Field(
        default=None, description="First day of the base warranty; the purchase date if left out."
    )
    warranty_end: date | None = Field(default=None, description="Last day covered.")
    warranty_months: int | None = Field(
        default=None,
        ge=1,
        le=240,
        description="Length of the base warranty in months, instead of warranty_end.",
    )
    notes: OptionalText | None = None
    occurred_at: datetime | None = Field(
        default=None, description="When it happened; now when left out. No offset: district time."
    )


class ActionRequest(Schema):
    """One lifecycle action on an existing device."""

    action: str = Field(description="One of the lifecycle actions, such as enroll or deploy.")
    technician: Identifier | None = Field(
        default=None, description="Employee number of the technician who handled the step."
    )
    expected_state: str | None = Field(
        default=None,
        description="The state the caller saw. The action is applied only if the device is "
        "still in it; 409 otherwise.",
    )
    data: dict[str, str | list[str] | None] = Field(
        default_factory=dict,
        max_length=20,
        description="What the action needs, such as problem or room: text values, and a list "
        "of part names for parts_used.",
    )
    notes: OptionalText | None = None
    occurred_at: datetime | None = Field(
        default=None,
        description="When it happened; now when left out. Not in the future, and not before "
        "the device's last recorded step. No offset: district time.",
    )
    # The event's visit is not given here: it is the acting technician's visit that covers
    # occurred_at (see inventory.plans.visits.visit_at).


class DeviceRead(BaseModel):
    asset_tag: str
    serial_number: str
    manufacturer: str
    model: str
    model_id: int
    device_type: str
    site: str
    site_name: str
    state: str
    state_label: str
    room: str | None
    assignee: str | None
    purchase_date: date | None
    warranty_start: date | None
    warranty_end: date | None
    warranty_active: bool = Field(description="Whether the warranty covers today (district time).")
    end_of_support: date | None
    end_of_support_precision: str | None = Field(
        default=None, description="year, month or day: how much of end_of_support is known."
    )
    operating_system: str | None
    management_profile: str | None
    user_profile_kind: str | None
    replaces: str | None = Field(description="Asset tag of the device this one replaced.")
    replaced_by: str | None = Field(description="Asset tag of the device that replaced this one.")
    version: int = Field(description="Number of events recorded for this device.")
    allowed_actions: list[str]
    scan_url: str
    state_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class EventRead(BaseModel):
    id: int
    asset_tag: str
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    technician: TechnicianRef | None
    actor: str | None
    site: str
    visit_id: int | None
    occurred_at: datetime
    recorded_at: datetime
    notes: str | None
    data: dict[str, Any]
    request_id: str | None


class ActionResult(BaseModel):
    device: DeviceRead
    event: EventRead
    replacement: DeviceRead | None = Field(
        default=None, description="The new device a vendor replacement created."
    )
