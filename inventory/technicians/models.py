"""Technicians: the itinerant staff who handle each step of a device's lifecycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from inventory.types import UTCDateTime, utc_now


class Technician(SQLModel, table=True):
    __tablename__ = "technicians"

    id: int | None = Field(default=None, primary_key=True)
    employee_number: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    email: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    active: bool = Field(default=True)
    home_region: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
