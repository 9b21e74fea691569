"""Request and response shapes for sites."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from inventory.schemas import Identifier, Name, Schema

SiteKind = Literal[
    "school", "virtual_academy", "division_office", "region_office", "central_office"
]


class SiteCreate(Schema):
    code: Identifier = Field(description="The district's site code, kept as text.")
    name: Name
    kind: SiteKind = "school"
    region: Name | None = None
    enrollment: int | None = Field(default=None, ge=0, le=1_000_000)
    external_code: Identifier | None = Field(
        default=None, description="A state code such as a 14-digit CDS code."
    )
    address: Name | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    kind: str
    region: str | None
    enrollment: int | None
    external_code: str | None
    address: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime


class SiteSummary(BaseModel):
    """A site with its number of devices in each lifecycle state."""

    code: str
    name: str
    kind: str
    region: str | None
    enrollment: int | None
    device_count: int
    state_counts: dict[str, int]
