"""Tables of the itinerant support model: rate cards, service plans, assignments, visits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Index, Integer, Numeric, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from inventory.types import BigIntId, UTCDateTime, utc_now


class RateCard(SQLModel, table=True):
    """The annual cost of one full-time technician (5 days a week) for one fiscal year."""

    __tablename__ = "rate_cards"

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    annual_cost: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    # True until the year's rates are published; plans are costed on it meanwhile.
    provisional: bool = Field(default=True)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ServicePlan(SQLModel, table=True):
    """A site's purchased technician days per week for one fiscal year."""

    __tablename__ = "service_plans"
    __table_args__ = (UniqueConstraint("site_id", "fiscal_year"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    fiscal_year: str = Field(sa_column=Column(Text, nullable=False, index=True))
    days: int = Field(sa_column=Column(Integer, nullable=False))
    # Days per week the site's enrollment band recommends, when the plan was last changed.
    recommended_days: int = Field(sa_column=Column(Integer, nullable=False))
    # Whole dollars from the fiscal year's rate card; null when the year has no rate card.
    annual_cost: Decimal | None = Field(
        default=None, sa_column=Column(Numeric(12, 2), nullable=True)
    )
    state: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class PlanChange(SQLModel, table=True):
    """One change to a service plan: its days, state or cost. Rows are only inserted."""

    __tablename__ = "plan_changes"
    __table_args__ = (Index("ix_plan_changes_plan", "plan_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(sa_column=Column(Integer, ForeignKey("service_plans.id"), nullable=False))
    # "created", "days", "state" or "cost".
    kind: str = Field(sa_column=Column(Text, nullable=False))
    old_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    changed_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )


class TechnicianAssignment(SQLModel, table=True):
    """A technician's weekly day at a site for one fiscal year.

    The unique constraints hold the schedule's rules in the database: one site per
    technician per weekday, and one technician per site per weekday.
    """

    __tablename__ = "technician_assignments"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "technician_id", "weekday"),
        UniqueConstraint("fiscal_year", "site_id", "weekday"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: str = Field(sa_column=Column(Text, nullable=False))
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=False)
    )
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    # 0 is Monday, 4 is Friday.
    weekday: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(UTCDateTime, nullable=False)
    )
    created_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class ClosedDay(SQLModel, table=True):
    """A school holiday or other day a site, or every site, is not visited."""

    __tablename__ = "closed_days"
    __table_args__ = (Index("ix_closed_days_year_date", "fiscal_year", "closed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: str = Field(sa_column=Column(Text, nullable=False))
    closed_on: date = Field(nullable=False)
    # Null closes every site.
    site_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("sites.id"), nullable=True)
    )
    reason: str = Field(sa_column=Column(Text, nullable=False))


class Visit(SQLModel, table=True):
    """A technician's day or part-day at a site, from check-in to check-out."""

    __tablename__ = "visits"
    __table_args__ = (
        # Finds the visit that covers a device step's time (inventory.plans.visits.visit_at).
        Index("ix_visits_technician_checked_in", "technician_id", "checked_in_at"),
        Index("ix_visits_site_date", "site_id", "visit_date"),
        # At most one open visit per technician, even when two check-ins race.
        Index(
            "uq_visits_open_technician",
            "technician_id",
            unique=True,
            sqlite_where=text("checked_out_at IS NULL"),
            postgresql_where=text("checked_out_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntId, primary_key=True))
    technician_id: int = Field(
        sa_column=Column(Integer, ForeignKey("technicians.id"), nullable=False)
    )
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    # The district's local date of the check-in.
    visit_date: date = Field(nullable=False)
    checked_in_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    # Null while the technician is on site.
    checked_out_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime, nullable=True)
    )
    minutes_on_site: int | None = Field(default=None)
    mileage: Decimal | None = Field(default=None, sa_column=Column(Numeric(8, 1), nullable=True))
    # "site" for offices, which pay their own mileage, else "district".
    mileage_paid_by: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
