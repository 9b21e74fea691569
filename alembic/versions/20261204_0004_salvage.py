"""Salvage assessments, data sanitizations, harvested parts, recycling batches and
device end-of-support dates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 20:46:52.733384
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import inventory.types
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recycling_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("recycler", sa.Text(), nullable=False),
        sa.Column("pickup_date", sa.Date(), nullable=False),
        sa.Column("certificate_number", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("device_count", sa.Integer(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("closed_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["technicians.id"],
            name=op.f("fk_recycling_batches_closed_by_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_recycling_batches_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recycling_batches")),
    )
    op.create_table(
        "device_end_of_support",
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("end_of_support", sa.Date(), nullable=False),
        sa.Column("precision", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("set_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_end_of_support_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_end_of_support")),
    )
    op.create_table(
        "recycling_batch_devices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["recycling_batches.id"],
            name=op.f("fk_recycling_batch_devices_batch_id_recycling_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_recycling_batch_devices_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recycling_batch_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_recycling_batch_devices_device_id")),
    )
    with op.batch_alter_table("recycling_batch_devices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_recycling_batch_devices_batch", ["batch_id", "device_id"], unique=False
        )

    op.create_table(
        "sanitizations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sanitizations_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_sanitizations_technician_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["technicians.id"],
            name=op.f("fk_sanitizations_verified_by_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sanitizations")),
    )
    with op.batch_alter_table("sanitizations", schema=None) as batch_op:
        batch_op.create_index("ix_sanitizations_device", ["device_id", "id"], unique=False)

    op.create_table(
        "salvage_assessments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("condition_grade", sa.Text(), nullable=False),
        sa.Column("age_months", sa.Integer(), nullable=True),
        sa.Column("warranty_active", sa.Boolean(), nullable=False),
        sa.Column("end_of_support", sa.Date(), nullable=True),
        sa.Column("repair_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("replacement_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("battery_health", sa.Integer(), nullable=True),
        sa.Column(
            "missing_parts",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column(
            "reasons", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "thresholds", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("assessed_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "decision_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["technicians.id"],
            name=op.f("fk_salvage_assessments_decided_by_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_event_id"],
            ["device_events.id"],
            name=op.f("fk_salvage_assessments_decision_event_id_device_events"),
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_salvage_assessments_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_salvage_assessments_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_salvage_assessments")),
    )
    with op.batch_alter_table("salvage_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_salvage_assessments_device", ["device_id", "id"], unique=False)

    op.create_table(
        "harvested_parts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "source_device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("part", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("harvested_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "assessment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "used_in_device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("used_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["salvage_assessments.id"],
            name=op.f("fk_harvested_parts_assessment_id_salvage_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_harvested_parts_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["source_device_id"],
            ["devices.id"],
            name=op.f("fk_harvested_parts_source_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["used_by_id"],
            ["technicians.id"],
            name=op.f("fk_harvested_parts_used_by_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["used_in_device_id"],
            ["devices.id"],
            name=op.f("fk_harvested_parts_used_in_device_id_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvested_parts")),
    )
    with op.batch_alter_table("harvested_parts", schema=None) as batch_op:
        batch_op.create_index("ix_harvested_parts_site_used", ["site_id", "used_at"], unique=False)
        batch_op.create_index("ix_harvested_parts_source", ["source_device_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("harvested_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_harvested_parts_source")
        batch_op.drop_index("ix_harvested_parts_site_used")

    op.drop_table("harvested_parts")
    with op.batch_alter_table("salvage_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_salvage_assessments_device")

    op.drop_table("salvage_assessments")
    with op.batch_alter_table("sanitizations", schema=None) as batch_op:
        batch_op.drop_index("ix_sanitizations_device")

    op.drop_table("sanitizations")
    with op.batch_alter_table("recycling_batch_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_recycling_batch_devices_batch")

    op.drop_table("recycling_batch_devices")
    op.drop_table("device_end_of_support")
    op.drop_table("recycling_batches")
