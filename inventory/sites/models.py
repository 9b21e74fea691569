"""Sites: schools, virtual academies and offices that own devices and buy service days."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from inventory.types import UTCDateTime, utc_now

SITE_KINDS = {
    "school": "School",
    "virtual_academy": "Virtual academy",
    "division_office": "Division office",
    "region_office": "Region office",
    "central_office": "Central office",
}


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    name: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    region: str | None = Field(default=None, sa_column=Column(Text, nullable=True, index=True))
    enrollment: int | None = Field(default=None)
    # CDS code or the district's own school number, kept as text with its leading zeros.
    external_code: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    latitude: float | None = Field(default=None)
    longitude: float | None = Field(default=None)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
