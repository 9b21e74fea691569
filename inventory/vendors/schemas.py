"""Request and response shapes for vendors."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from inventory.escalations.profiles import ProfileError, get_profile
from inventory.schemas import Identifier, Name, Schema


class VendorCreate(Schema):
    code: Identifier = Field(description="Short code of the vendor, such as `dell` or `apple`.")
    name: Name
    contact_email: Name | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    profile: str = Field(
        default="generic",
        description="Export profile: generic, dell-dispatch or apple-carry-in.",
    )

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        try:
            return get_profile(value.strip()).name
        except ProfileError as exc:
            raise ValueError(str(exc)) from None


class VendorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    contact_email: str | None
    profile: str
    created_at: datetime
