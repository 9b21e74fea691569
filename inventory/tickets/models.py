"""The support ticket table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, UTCDateTime, utc_now


class Ticket(SQLModel, table=True):
    """A problem reported at a site, optionally about one device."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_state_priority", "state", "priority", "id"),
        Index("ix_tickets_site", "site_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    device_id: int | None = Field(
        default=None, sa_column=Column(BigIntId, ForeignKey("devices.id"), nullable=True)
    )
    problem: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(sa_column=Column(Text, nullable=False))
    impact: str = Field(sa_column=Column(Text, nullable=False))
    # 1 is the most urgent, 4 the least; derived from severity and impact.
    priority: int = Field(sa_column=Column(Integer, nullable=False))
    state: str = Field(sa_column=Column(Text, nullable=False))
    technician_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=True)
    )
    reported_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, nullable=True))
