"""Request and response shapes for technicians."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from inventory.schemas import Identifier, Name, Schema


class TechnicianCreate(Schema):
    employee_number: Identifier = Field(description="The district's employee number, as text.")
    name: Name
    email: Name | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    active: bool = True
    home_region: Name | None = None


class TechnicianRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    employee_number: str
    name: str
    email: str | None
    active: bool
    home_region: str | None
    created_at: datetime


class TechnicianRef(BaseModel):
    """The technician named on an event."""

    employee_number: str | None
    name: str | None
