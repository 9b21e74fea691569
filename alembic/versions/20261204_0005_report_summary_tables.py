"""Report summary tables, filled from the devices and events already stored

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 20:45:56.618367
"""

from collections.abc import Sequence

import sqlalchemy as sa

import inventory.types
from alembic import context, op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_device_counts",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("operating_system", sa.Text(), nullable=False),
        sa.Column("device_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["device_models.id"],
            name=op.f("fk_report_device_counts_model_id_device_models"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_device_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "state", "model_id", "operating_system", name=op.f("pk_report_device_counts")
        ),
    )
    op.create_table(
        "report_outcome_counts",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("outcome_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_outcome_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "month", "outcome", name=op.f("pk_report_outcome_counts")
        ),
    )
    op.create_table(
        "report_repair_turnarounds",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("turnaround_days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("repair_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_repair_turnarounds_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "month", "turnaround_days", name=op.f("pk_report_repair_turnarounds")
        ),
    )
    op.create_table(
        "report_step_counts",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("technician_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_step_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint(
            "site_id", "month", "technician_id", "action", name=op.f("pk_report_step_counts")
        ),
    )
    op.create_table(
        "report_open_repairs",
        sa.Column(
            "device_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_report_open_repairs_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_open_repairs_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_report_open_repairs")),
    )
    with op.batch_alter_table("report_open_repairs", schema=None) as batch_op:
        batch_op.create_index("ix_report_open_repairs_site", ["site_id", "opened_at"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_devices_site_warranty_end", ["site_id", "warranty_end", "state"], unique=False
        )
        batch_op.create_index(
            "ix_devices_warranty_end_site", ["warranty_end", "site_id", "state"], unique=False
        )

    # Later events keep the summary exact; what is already stored is summarized once here.
    if not context.is_offline_mode():
        from inventory.reports.summary import rebuild

        # The summary tables of migrations 0008 to 0010 do not exist yet; those migrations
        # create and fill them.
        rebuild(op.get_bind(), later_tables=False)


def downgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_warranty_end_site")
        batch_op.drop_index("ix_devices_site_warranty_end")

    with op.batch_alter_table("report_open_repairs", schema=None) as batch_op:
        batch_op.drop_index("ix_report_open_repairs_site")

    op.drop_table("report_open_repairs")
    op.drop_table("report_step_counts")
    op.drop_table("report_repair_turnarounds")
    op.drop_table("report_outcome_counts")
    op.drop_table("report_device_counts")
