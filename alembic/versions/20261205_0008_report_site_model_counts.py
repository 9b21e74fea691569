"""Report counts per site and model, and month indexes, for the district view

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_site_model_counts",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("model_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("in_service", sa.Integer(), nullable=False),
        sa.Column("deployed", sa.Integer(), nullable=False),
        sa.Column("in_repair", sa.Integer(), nullable=False),
        sa.Column("with_vendor", sa.Integer(), nullable=False),
        sa.Column("lost", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["device_models.id"],
            name=op.f("fk_report_site_model_counts_model_id_device_models"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_site_model_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", "model_id", name=op.f("pk_report_site_model_counts")),
    )
    with op.batch_alter_table("report_outcome_counts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_outcome_counts_month",
            ["month", "site_id", "outcome", "outcome_count"],
            unique=False,
        )
    with op.batch_alter_table("report_repair_turnarounds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_repair_turnarounds_month",
            ["month", "site_id", "turnaround_days", "repair_count"],
            unique=False,
        )
    # Later events keep the counts exact; the devices already stored are counted once here.
    if not context.is_offline_mode():
        from inventory.reports.summary import rebuild_site_model_counts

        rebuild_site_model_counts(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("report_repair_turnarounds", schema=None) as batch_op:
        batch_op.drop_index("ix_report_repair_turnarounds_month")
    with op.batch_alter_table("report_outcome_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_report_outcome_counts_month")
    op.drop_table("report_site_model_counts")
