"""tag reservations

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 17:33:42.020840
"""

from collections.abc import Sequence

import sqlalchemy as sa

import inventory.types
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tag_reservations",
        sa.Column("asset_tag", sa.Text(), nullable=False),
        sa.Column("batch", sa.Text(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("reserved_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reserved_by", sa.Text(), nullable=True),
        sa.Column("used_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_tag_reservations_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("asset_tag", name=op.f("pk_tag_reservations")),
    )
    with op.batch_alter_table("tag_reservations", schema=None) as batch_op:
        batch_op.create_index("ix_tag_reservations_batch", ["batch"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tag_reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_tag_reservations_batch")

    op.drop_table("tag_reservations")
