"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-04 16:16:22.496923
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import inventory.types
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manufacturer", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("match_key", sa.Text(), nullable=False),
        sa.Column("device_type", sa.Text(), nullable=False),
        sa.Column("operating_system", sa.Text(), nullable=True),
        sa.Column("end_of_support", sa.Date(), nullable=True),
        sa.Column("end_of_support_precision", sa.Text(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_models")),
        sa.UniqueConstraint("match_key", name=op.f("uq_device_models_match_key")),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("attempted_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_login_failures_key_at", ["key", "attempted_at"], unique=False)

    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("enrollment", sa.Integer(), nullable=True),
        sa.Column("external_code", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("code", name=op.f("uq_sites_code")),
    )
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sites_region"), ["region"], unique=False)

    op.create_table(
        "technicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_number", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("home_region", sa.Text(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technicians")),
        sa.UniqueConstraint("employee_number", name=op.f("uq_technicians_employee_number")),
    )
    op.create_table(
        "vendors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.Text(), nullable=True),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendors")),
        sa.UniqueConstraint("code", name=op.f("uq_vendors_code")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("asset_tag", sa.Text(), nullable=False),
        sa.Column("serial_number", sa.Text(), nullable=False),
        sa.Column("manufacturer_key", sa.Text(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("room", sa.Text(), nullable=True),
        sa.Column("assignee", sa.Text(), nullable=True),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("warranty_start", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("operating_system", sa.Text(), nullable=True),
        sa.Column("management_profile", sa.Text(), nullable=True),
        sa.Column("user_profile_kind", sa.Text(), nullable=True),
        sa.Column("repair_return_state", sa.Text(), nullable=True),
        sa.Column("escalation_vendor_id", sa.Integer(), nullable=True),
        sa.Column(
            "replaces_device_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "replaced_by_device_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state_changed_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_vendor_id"],
            ["vendors.id"],
            name=op.f("fk_devices_escalation_vendor_id_vendors"),
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["device_models.id"], name=op.f("fk_devices_model_id_device_models")
        ),
        sa.ForeignKeyConstraint(
            ["replaced_by_device_id"],
            ["devices.id"],
            name=op.f("fk_devices_replaced_by_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(
            ["replaces_device_id"],
            ["devices.id"],
            name=op.f("fk_devices_replaces_device_id_devices"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_devices_site_id_sites")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        sa.UniqueConstraint("asset_tag", name=op.f("uq_devices_asset_tag")),
        sa.UniqueConstraint(
            "manufacturer_key",
            "serial_number",
            name=op.f("uq_devices_manufacturer_key_serial_number"),
        ),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index("ix_devices_model_id", ["model_id"], unique=False)
        batch_op.create_index("ix_devices_serial_number", ["serial_number"], unique=False)
        batch_op.create_index("ix_devices_site_asset_tag", ["site_id", "asset_tag"], unique=False)
        batch_op.create_index("ix_devices_site_state", ["site_id", "state"], unique=False)
        batch_op.create_index("ix_devices_state_asset_tag", ["state", "asset_tag"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("vendor_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["technicians.id"], name=op.f("fk_users_technician_id_technicians")
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"], ["vendors.id"], name=op.f("fk_users_vendor_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("technician_id", name=op.f("uq_users_technician_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("token_prefix", sa.Text(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", inventory.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "device_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "device_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=True),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("technician_name", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.Text(), nullable=True),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["users.id"], name=op.f("fk_device_events_actor_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_device_events_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_device_events_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_device_events_technician_id_technicians"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_events")),
        sa.UniqueConstraint(
            "device_id", "sequence", name=op.f("uq_device_events_device_id_sequence")
        ),
    )
    with op.batch_alter_table("device_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_device_events_site_occurred", ["site_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_device_events_technician_device", ["technician_id", "device_id"], unique=False
        )

    op.create_table(
        "user_sites",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_user_sites_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "site_id", name=op.f("pk_user_sites")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inventory.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_web_sessions_user_id", ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_web_sessions_user_id")

    op.drop_table("web_sessions")
    op.drop_table("user_sites")
    with op.batch_alter_table("device_events", schema=None) as batch_op:
        batch_op.drop_index("ix_device_events_technician_device")
        batch_op.drop_index("ix_device_events_site_occurred")

    op.drop_table("device_events")
    op.drop_table("api_tokens")
    op.drop_table("users")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_state_asset_tag")
        batch_op.drop_index("ix_devices_site_state")
        batch_op.drop_index("ix_devices_site_asset_tag")
        batch_op.drop_index("ix_devices_serial_number")
        batch_op.drop_index("ix_devices_model_id")

    op.drop_table("devices")
    op.drop_table("vendors")
    op.drop_table("technicians")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sites_region"))

    op.drop_table("sites")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_key_at")

    op.drop_table("login_failures")
    op.drop_table("idempotency_records")
    op.drop_table("device_models")
