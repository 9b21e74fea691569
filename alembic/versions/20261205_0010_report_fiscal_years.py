"""Fiscal-year report totals per site and turnarounds per region, for the district view

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import context, op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "report_site_years",
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        _count("repair_opened"),
        _count("reuse"),
        _count("harvest"),
        _count("recycle"),
        _count("recycled"),
        _count("turnaround_count"),
        sa.Column("turnaround_median", sa.Integer(), nullable=True),
        sa.Column("turnaround_p90", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_report_site_years_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("fiscal_year", "site_id", name=op.f("pk_report_site_years")),
    )
    op.create_table(
        "report_region_turnarounds",
        sa.Column("fiscal_year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("turnaround_days", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("repair_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "fiscal_year", "region", "turnaround_days", name=op.f("pk_report_region_turnarounds")
        ),
    )
    # Later events keep both tables exact, and the monthly rows already stored are added here.
    if not context.is_offline_mode():
        from inventory.reports.years import rebuild_years

        rebuild_years(op.get_bind())


def downgrade() -> None:
    op.drop_table("report_region_turnarounds")
    op.drop_table("report_site_years")
