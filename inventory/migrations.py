"""Run Alembic migrations from code and read the schema's revision."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from inventory.config import PROJECT_ROOT

# Foreign keys that a PostgreSQL database checks with triggers, once per statement, instead
# of with constraints (revision 0011 explains why). The models still declare them, SQLite
# keeps them as constraints, and comparing the models with a PostgreSQL schema skips them.
TRIGGER_CHECKED_KEYS = frozenset(
    {
        "fk_devices_model_id_device_models",
        "fk_devices_site_id_sites",
        "fk_device_events_device_id_devices",
        "fk_device_events_site_id_sites",
        "fk_device_events_technician_id_technicians",
        "fk_device_events_actor_user_id_users",
        "fk_warranty_coverages_device_id_devices",
    }
)


def include_object(dialect_name: str) -> Callable[..., bool]:
    """Return Alembic's `include_object` hook for comparing the models with a database."""

    def include(
        obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
    ) -> bool:
        return not (
            dialect_name == "postgresql"
            and type_ == "foreign_key_constraint"
            and name in TRIGGER_CHECKED_KEYS
        )

    return include


def alembic_config(database_url: str | None = None) -> Config:
    """Return an Alembic configuration for this project, optionally for another database."""
    config = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    if database_url is not None:
        config.attributes["database_url"] = database_url
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_revision_of)


def _make_sqlite_folder(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`; call it outside a running event loop.

    An SQLite file's folder is created first, so a fresh checkout's var/ need not exist.
    """
    _make_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Migrate from inside an event loop; Alembic's env runs its own loop in a thread."""
    await asyncio.to_thread(upgrade, database_url, revision)


def downgrade(database_url: str, revision: str) -> None:
    """Migrate the database back to `revision` ("base": an empty schema)."""
    command.downgrade(alembic_config(database_url), revision)
