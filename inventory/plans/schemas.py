"""Request and response shapes of rate cards, service plans, assignments and visits."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from inventory.schemas import Identifier, OptionalText, Schema

FiscalYearLabel = str


class RateCardSet(Schema):
    """The annual cost of one full-time technician for a fiscal year."""

    annual_cost: Decimal = Field(ge=0, le=10_000_000, decimal_places=2)
    provisional: bool = Field(
        default=True, description="False when these are the year's published rates."
    )


class RateCardRead(BaseModel):
    fiscal_year: str
    annual_cost: Decimal
    provisional: bool
    # The cost of 1 to 5 days per week under this card, in whole dollars.
    day_rates: dict[int, Decimal]
    updated_at: datetime
    updated_by: str | None
    plans_recosted: int = 0


class PlanSet(Schema):
    """A site's purchased days per week for a fiscal year; creates or changes its plan."""

    days: int = Field(ge=0, le=5, description="Purchased days per week, 0 to 5.")
    reason: OptionalText | None = None


class PlanStateSet(Schema):
    state: str = Field(description="draft, submitted, locked or cancelled.")
    reason: OptionalText | None = None


class PlanRead(BaseModel):
    id: int
    site: str
    site_name: str
    site_kind: str
    region: str | None
    fiscal_year: str
    days: int
    recommended_days: int
    enrollment: int | None
    annual_cost: Decimal | None
    cost_provisional: bool | None
    state: str


class PlanChangeRead(BaseModel):
    kind: str
    old_value: str | None
    new_value: str | None
    reason: str | None
    changed_by: str | None
    changed_at: datetime


class AssignmentCreate(Schema):
    """One weekly day for a technician at a site."""

    technician: Identifier
    site: Identifier
    weekday: int = Field(ge=0, le=4, description="0 is Monday, 4 is Friday.")


class AssignmentRead(BaseModel):
    id: int
    fiscal_year: str
    technician: str
    technician_name: str
    site: str
    site_name: str
    weekday: int
    weekday_name: str


class ScheduleReport(BaseModel):
    fiscal_year: str
    assignments: int
    sites_short: dict[str, int]
    days_short: int
    extra_technicians: int
    home_region_share: float


class ClosedDayCreate(Schema):
    closed_on: date
    site: Identifier | None = Field(default=None, description="Omit to close every site.")
    reason: OptionalText = Field(min_length=1)


class ClosedDayRead(BaseModel):
    id: int
    fiscal_year: str
    closed_on: date
    site: str | None
    reason: str


class CheckIn(Schema):
    site: Identifier
    technician: Identifier | None = Field(
        default=None, description="Employee number; technicians check in themselves."
    )
    at: datetime | None = Field(default=None, description="Check-in time; default now.")
    notes: OptionalText | None = None


class CheckOut(Schema):
    at: datetime | None = Field(default=None, description="Check-out time; default now.")
    mileage: Decimal | None = Field(
        default=None, ge=0, le=1000, decimal_places=1, description="Miles driven, optional."
    )
    notes: OptionalText | None = None


class VisitRead(BaseModel):
    id: int
    technician: str
    technician_name: str
    site: str
    visit_date: date
    checked_in_at: datetime
    checked_out_at: datetime | None
    minutes_on_site: int | None
    mileage: Decimal | None
    mileage_paid_by: str | None
    notes: str | None
    events: int = 0


class MonthDelivery(BaseModel):
    """Days delivered at a site in one month against the days its plan bought."""

    site: str
    month: str
    open_weekdays: int
    purchased_days: Decimal
    delivered_days: int
    minutes_on_site: int


class FiscalSummaryRow(BaseModel):
    group: str
    sites: int
    days: int
    fte: Decimal
    annual_cost: Decimal


class FiscalSummary(BaseModel):
    fiscal_year: str
    sites_with_plans: int
    days: int
    fte: Decimal
    annual_cost: Decimal
    by_region: list[FiscalSummaryRow]
    by_kind: list[FiscalSummaryRow]


class TechnicianLoad(BaseModel):
    technician: str
    name: str
    home_region: str | None
    days_per_week: int
    sites: list[str]
    sites_outside_home_region: int
