"""Request and response shapes for vendors."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from inventory.schemas import Identifier, Name, Schema


class VendorCreate(Schema):
    code: Identifier = Field(description="Short code of the vendor, such as `dell` or `apple`.")
    name: Name
    contact_email: Name | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class VendorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    contact_email: str | None
    created_at: datetime
