"""Open repair counts per site, for the district view

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import inventory.types
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_open_repair_counts",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("repair_count", sa.Integer(), nullable=False),
        sa.Column("oldest_opened_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_open_repair_counts_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_report_open_repair_counts")),
    )
    # Later events keep the counts exact, and the open repairs already stored are counted here.
    op.execute(
        "INSERT INTO report_open_repair_counts (site_id, repair_count, oldest_opened_at) "
        "SELECT site_id, count(*), min(opened_at) FROM report_open_repairs GROUP BY site_id"
    )


def downgrade() -> None:
    op.drop_table("report_open_repair_counts")
