"""Warranty coverages, escalations, export batches and vendor profiles

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:40:38.245066
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import inventory.types
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_export_batches_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_export_batches_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_batches")),
    )
    with op.batch_alter_table("export_batches", schema=None) as batch_op:
        batch_op.create_index("ix_export_batches_vendor", ["vendor_id", "id"], unique=False)

    op.create_table(
        "warranty_coverages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_warranty_coverages_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_warranty_coverages_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_coverages")),
    )
    with op.batch_alter_table("warranty_coverages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_warranty_coverages_device_end", ["device_id", "end_date"], unique=False
        )

    op.create_table(
        "escalations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("troubleshooting", sa.Text(), nullable=True),
        sa.Column(
            "parts_requested",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("covered", sa.Boolean(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("rma_number", sa.Text(), nullable=True),
        sa.Column("tracking_number", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column(
            "replacement_device_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("export_batch_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_escalations_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["export_batch_id"],
            ["export_batches.id"],
            name=op.f("fk_escalations_export_batch_id_export_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["replacement_device_id"],
            ["devices.id"],
            name=op.f("fk_escalations_replacement_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_escalations_technician_id_technicians"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_escalations_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index("ix_escalations_batch", ["export_batch_id"], unique=False)
        batch_op.create_index("ix_escalations_device", ["device_id"], unique=False)
        batch_op.create_index(
            "ix_escalations_vendor_state", ["vendor_id", "state", "id"], unique=False
        )

    op.create_table(
        "export_batch_rows",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "escalation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "content", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["export_batches.id"],
            name=op.f("fk_export_batch_rows_batch_id_export_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_export_batch_rows_escalation_id_escalations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_batch_rows")),
        sa.UniqueConstraint(
            "batch_id", "position", name=op.f("uq_export_batch_rows_batch_id_position")
        ),
    )
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("profile", sa.Text(), server_default="generic", nullable=False)
        )

    # Devices recorded before coverages were kept get their one coverage from the warranty
    # dates on the device, and devices already with a vendor get an open escalation.
    json_list = "'[]'::jsonb" if op.get_bind().dialect.name == "postgresql" else "'[]'"
    op.execute(
        "INSERT INTO warranty_coverages (device_id, kind, start_date, end_date, created_at, "
        "created_by) SELECT id, 'base', COALESCE(warranty_start, purchase_date, warranty_end), "
        "warranty_end, CURRENT_TIMESTAMP, 'migration' FROM devices WHERE warranty_end IS NOT NULL"
    )
    # json_list is one of two constants.
    op.execute(
        "INSERT INTO escalations (device_id, vendor_id, state, problem, parts_requested, covered, "  # noqa: S608
        "opened_at, updated_at) SELECT id, escalation_vendor_id, 'open', "
        f"'Escalated before escalation records were kept', {json_list}, "
        "warranty_end IS NOT NULL AND warranty_end >= CURRENT_DATE, state_changed_at, "
        "state_changed_at FROM devices "
        "WHERE state = 'with_vendor' AND escalation_vendor_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.drop_column("profile")

    op.drop_table("export_batch_rows")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index("ix_escalations_vendor_state")
        batch_op.drop_index("ix_escalations_device")
        batch_op.drop_index("ix_escalations_batch")

    op.drop_table("escalations")
    with op.batch_alter_table("warranty_coverages", schema=None) as batch_op:
        batch_op.drop_index("ix_warranty_coverages_device_end")

    op.drop_table("warranty_coverages")
    with op.batch_alter_table("export_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_export_batches_vendor")

    op.drop_table("export_batches")
