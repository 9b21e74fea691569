"""Request and response shapes of support tickets."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from inventory.schemas import Identifier, OptionalText, Schema


class TicketCreate(Schema):
    site: Identifier
    problem: OptionalText = Field(min_length=1)
    asset_tag: Identifier | None = Field(default=None, description="The device, if any.")
    severity: str = Field(default="medium", description="low, medium, high or critical.")
    impact: str = Field(default="person", description="person, classroom or site.")


class TicketAssign(Schema):
    technician: Identifier


class TicketStateSet(Schema):
    state: str = Field(description="open, in_progress or resolved.")
    resolution: OptionalText | None = None


class TicketRead(BaseModel):
    id: int
    site: str
    asset_tag: str | None
    problem: str
    severity: str
    impact: str
    priority: int
    state: str
    technician: str | None
    reported_by: str | None
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
