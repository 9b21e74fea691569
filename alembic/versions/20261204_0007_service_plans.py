"""Service plans, schedules, visits and tickets

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04 20:45:02.564227
"""

from collections.abc import Sequence

import sqlalchemy as sa

import inventory.types
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Text(), nullable=False),
        sa.Column("annual_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("updated_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_cards")),
        sa.UniqueConstraint("fiscal_year", name=op.f("uq_rate_cards_fiscal_year")),
    )
    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Text(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_closed_days_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_days")),
    )
    with op.batch_alter_table("closed_days", schema=None) as batch_op:
        batch_op.create_index(
            "ix_closed_days_year_date", ["fiscal_year", "closed_on"], unique=False
        )

    op.create_table(
        "service_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("recommended_days", sa.Integer(), nullable=False),
        sa.Column("annual_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_service_plans_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_plans")),
        sa.UniqueConstraint(
            "site_id", "fiscal_year", name=op.f("uq_service_plans_site_id_fiscal_year")
        ),
    )
    with op.batch_alter_table("service_plans", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_plans_fiscal_year"), ["fiscal_year"], unique=False
        )

    op.create_table(
        "technician_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_technician_assignments_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_assignments_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_assignments")),
        sa.UniqueConstraint(
            "fiscal_year",
            "site_id",
            "weekday",
            name=op.f("uq_technician_assignments_fiscal_year_site_id_weekday"),
        ),
        sa.UniqueConstraint(
            "fiscal_year",
            "technician_id",
            "weekday",
            name=op.f("uq_technician_assignments_fiscal_year_technician_id_weekday"),
        ),
    )
    op.create_table(
        "visits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("checked_in_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("minutes_on_site", sa.Integer(), nullable=True),
        sa.Column("mileage", sa.Numeric(precision=8, scale=1), nullable=True),
        sa.Column("mileage_paid_by", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_visits_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_visits_technician_id_technicians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_site_date", ["site_id", "visit_date"], unique=False)
        batch_op.create_index(
            "ix_visits_technician_checked_in", ["technician_id", "checked_in_at"], unique=False
        )
        batch_op.create_index(
            "uq_visits_open_technician",
            ["technician_id"],
            unique=True,
            sqlite_where=sa.text("checked_out_at IS NULL"),
            postgresql_where=sa.text("checked_out_at IS NULL"),
        )

    op.create_table(
        "plan_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.Text(), nullable=True),
        sa.Column("changed_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["service_plans.id"], name=op.f("fk_plan_changes_plan_id_service_plans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_changes")),
    )
    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.create_index("ix_plan_changes_plan", ["plan_id", "id"], unique=False)

    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("reported_by", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_tickets_device_id_devices")
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_tickets_site_id_sites")),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_tickets_technician_id_technicians")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_site", ["site_id", "id"], unique=False)
        batch_op.create_index(
            "ix_tickets_state_priority", ["state", "priority", "id"], unique=False
        )

    # device_events.visit_id exists since the first revision, without a foreign key. Adding
    # one would make SQLite copy the whole events table and PostgreSQL check every row, so
    # only an index is added, which needs neither.
    op.create_index("ix_device_events_visit", "device_events", ["visit_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_device_events_visit", table_name="device_events")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_state_priority")
        batch_op.drop_index("ix_tickets_site")

    op.drop_table("tickets")
    with op.batch_alter_table("plan_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_changes_plan")

    op.drop_table("plan_changes")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("uq_visits_open_technician")
        batch_op.drop_index("ix_visits_technician_checked_in")
        batch_op.drop_index("ix_visits_site_date")

    op.drop_table("visits")
    op.drop_table("technician_assignments")
    with op.batch_alter_table("service_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_plans_fiscal_year"))

    op.drop_table("service_plans")
    with op.batch_alter_table("closed_days", schema=None) as batch_op:
        batch_op.drop_index("ix_closed_days_year_date")

    op.drop_table("closed_days")
    op.drop_table("rate_cards")
