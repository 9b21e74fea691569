"""Vendors: manufacturers and repair depots that take warranty escalations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from inventory.types import UTCDateTime, utc_now


class Vendor(SQLModel, table=True):
    __tablename__ = "vendors"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    contact_email: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # Name of the vendor profile that shapes its exports and limits its claims
    # (inventory/escalations/profiles).
    profile: str = Field(
        default="generic", sa_column=Column(Text, nullable=False, server_default="generic")
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
