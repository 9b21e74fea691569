"""References between devices, their events and coverages, and the rows they name.

SQLite checks them with foreign keys. PostgreSQL checks them with triggers, once per
statement (see the migration "statement reference checks"). These tests hold both to the
same rules: a new or changed reference must exist, and a referenced row stays.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from inventory.config import Settings
from inventory.db import Database
from inventory.migrations import TRIGGER_CHECKED_KEYS, downgrade, upgrade
from tests.conftest import POSTGRES_URL, _admin_connection
from tests.factories import make_world, receive

MISSING = 987654
START, END, NOW = date(2026, 1, 1), date(2027, 1, 1), datetime(2026, 1, 1, tzinfo=UTC)

EVENT = (
    "INSERT INTO device_events (device_id, sequence, action, to_state, technician_id, "
    "actor_user_id, site_id, occurred_at, recorded_at, data, hash) VALUES (:device, :sequence, "
    "'note', 'received', :technician, :user, :site, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
    "'{}', 'x')"
)
COVERAGE = (
    "INSERT INTO warranty_coverages (device_id, kind, start_date, end_date, created_at) "
    "VALUES (:device, 'extension', '2026-01-01', '2027-01-01', CURRENT_TIMESTAMP)"
)
DEVICE = (
    "INSERT INTO devices (asset_tag, serial_number, manufacturer_key, model_id, site_id, state, "
    "version, state_changed_at, created_at, updated_at) VALUES ('T-NEW', 'S-NEW', 'acer', "
    ":model, :site, 'received', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)


async def _ids(db: Database) -> dict[str, int]:
    await make_world(db)
    await receive(db, "0001")
    queries = {
        "device": "SELECT id FROM devices",
        "site": "SELECT id FROM sites WHERE code = '01M015'",
        "other_site": "SELECT id FROM sites WHERE code = '02M019'",
        "technician": "SELECT id FROM technicians WHERE employee_number = '000123'",
        "model": "SELECT id FROM device_models",
    }
    return {name: await _count(db, query) for name, query in queries.items()}


async def _refused(db: Database, statement: str, **values: object) -> str:
    """Run `statement` and return the error it must raise; nothing of it is kept."""
    with pytest.raises(IntegrityError) as caught:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement), values)
    return str(caught.value.orig)


async def _count(db: Database, statement: str) -> int:
    async with db.engine.connect() as connection:
        return (await connection.execute(text(statement))).scalar_one()


async def test_new_rows_must_name_existing_rows(db: Database) -> None:
    ids = await _ids(db)
    good = {"device": ids["device"], "sequence": 2, "technician": ids["technician"]}
    cases = [
        (EVENT, {**good, "device": MISSING, "user": None, "site": ids["site"]}, "device_id"),
        (EVENT, {**good, "user": None, "site": MISSING}, "site_id"),
        (EVENT, {**good, "technician": MISSING, "user": None, "site": ids["site"]}, "technician"),
        (EVENT, {**good, "user": MISSING, "site": ids["site"]}, "actor_user_id"),
        (COVERAGE, {"device": MISSING}, "device_id"),
        (DEVICE, {"model": MISSING, "site": ids["site"]}, "model_id"),
        (DEVICE, {"model": ids["model"], "site": MISSING}, "site_id"),
    ]
    for statement, values, column in cases:
        message = await _refused(db, statement, **values)
        assert "foreign key" in message.lower(), message
        assert db.is_sqlite or column in message, (column, message)
    assert await _count(db, "SELECT count(*) FROM device_events") == 1
    assert await _count(db, "SELECT count(*) FROM warranty_coverages") == 1
    assert await _count(db, "SELECT count(*) FROM devices") == 1

    # The same rows with existing references are taken.
    async with db.engine.begin() as connection:
        await connection.execute(text(EVENT), {**good, "user": None, "site": ids["site"]})
        await connection.execute(text(COVERAGE), {"device": ids["device"]})
        await connection.execute(text(DEVICE), {"model": ids["model"], "site": ids["site"]})
    assert await _count(db, "SELECT count(*) FROM device_events") == 2


async def test_one_missing_row_refuses_the_whole_statement(db: Database) -> None:
    ids = await _ids(db)
    rows = [
        {
            "device": ids["device"],
            "sequence": sequence,
            "technician": ids["technician"],
            "user": None,
            "site": ids["site"],
        }
        for sequence in range(2, 12)
    ]
    rows[7]["site"] = MISSING
    with pytest.raises(IntegrityError):
        async with db.engine.begin() as connection:
            await connection.execute(text(EVENT), rows)
    assert await _count(db, "SELECT count(*) FROM device_events") == 1


async def test_changed_references_must_exist(db: Database) -> None:
    ids = await _ids(db)
    device = ids["device"]
    await _refused(db, f"UPDATE devices SET site_id = {MISSING} WHERE id = {device}")
    await _refused(db, f"UPDATE devices SET model_id = {MISSING} WHERE id = {device}")
    await _refused(db, f"UPDATE device_events SET technician_id = {MISSING}")
    await _refused(db, f"UPDATE warranty_coverages SET device_id = {MISSING}")
    async with db.engine.begin() as connection:
        await connection.execute(
            text(f"UPDATE devices SET site_id = {ids['other_site']} WHERE id = {device}")
        )
    assert await _count(db, f"SELECT site_id FROM devices WHERE id = {device}") == ids["other_site"]


async def test_referenced_rows_stay(db: Database) -> None:
    ids = await _ids(db)
    for table, key in (
        ("devices", ids["device"]),
        ("sites", ids["site"]),
        ("technicians", ids["technician"]),
        ("device_models", ids["model"]),
    ):
        message = await _refused(db, f"DELETE FROM {table} WHERE id = {key}")
        assert "foreign key" in message.lower(), message
        await _refused(db, f"UPDATE {table} SET id = {MISSING} WHERE id = {key}")
    # A row nothing references may go.
    async with db.engine.begin() as connection:
        await connection.execute(text(f"DELETE FROM sites WHERE id = {ids['other_site']}"))
    assert await _count(db, "SELECT count(*) FROM sites") == 1


def _postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's reference triggers; SQLite keeps its foreign keys")


async def test_postgres_error_matches_its_foreign_keys(db: Database) -> None:
    _postgres_only(db)
    ids = await _ids(db)
    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        with pytest.raises(asyncpg.ForeignKeyViolationError) as caught:
            await driver.copy_records_to_table(
                "warranty_coverages",
                records=[
                    (device, "extension", START, END, NOW) for device in (ids["device"], MISSING)
                ],
                columns=["device_id", "kind", "start_date", "end_date", "created_at"],
            )
    error = caught.value
    assert error.constraint_name == "fk_warranty_coverages_device_id_devices"
    assert error.table_name == "warranty_coverages"
    assert error.message == (
        'insert or update on table "warranty_coverages" violates foreign key constraint '
        '"fk_warranty_coverages_device_id_devices"'
    )
    assert error.detail == f'Key (device_id)=({MISSING}) is not present in table "devices".'

    async with db.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        with pytest.raises(asyncpg.ForeignKeyViolationError) as caught:
            await raw.driver_connection.execute(f"DELETE FROM devices WHERE id = {ids['device']}")
    assert caught.value.detail == (
        f'Key (id)=({ids["device"]}) is still referenced from table "device_events".'
    )


async def test_postgres_delete_waits_for_a_new_reference(db: Database) -> None:
    """A site deleted while another transaction adds its first device stays.

    The insert locks the site's row as a foreign key would, so the delete waits for it and
    then finds the committed device.
    """
    _postgres_only(db)
    ids = await _ids(db)
    site = ids["other_site"]
    url = make_url(db.settings.database_url)
    inserting = await _admin_connection(url.render_as_string(hide_password=False))
    deleting = await _admin_connection(url.render_as_string(hide_password=False))
    try:
        transaction = inserting.transaction()
        await transaction.start()
        await inserting.execute(
            DEVICE.replace(":model", str(ids["model"])).replace(":site", str(site))
        )
        delete = asyncio.create_task(deleting.execute(f"DELETE FROM sites WHERE id = {site}"))
        await asyncio.sleep(0.3)
        assert not delete.done(), "the delete did not wait for the inserting transaction"
        await transaction.commit()
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await delete
    finally:
        await inserting.close()
        await deleting.close()
    assert await _count(db, f"SELECT count(*) FROM sites WHERE id = {site}") == 1


@asynccontextmanager
async def _scratch_database(*settings: str) -> AsyncIterator[str]:
    """Create an empty PostgreSQL database with `settings` (ALTER DATABASE ... SET), yield
    its URL, and drop it."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set INVENTORY_TEST_POSTGRES_URL")
    name = f"inventory_refs_{uuid.uuid4().hex[:8]}"
    admin = await _admin_connection(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        for setting in settings:
            await admin.execute(f'ALTER DATABASE "{name}" SET {setting}')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_postgres_downgrade_restores_foreign_keys() -> None:
    keys = "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conname = ANY($1)"
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%\\_references'"
    async with _scratch_database() as url:
        await asyncio.to_thread(upgrade, url)
        connection = await _admin_connection(url)
        assert await connection.fetch(keys, list(TRIGGER_CHECKED_KEYS)) == []
        assert await connection.fetchval(triggers) == 16
        await connection.close()

        await asyncio.to_thread(downgrade, url, "0010")
        connection = await _admin_connection(url)
        restored = {row[0] for row in await connection.fetch(keys, list(TRIGGER_CHECKED_KEYS))}
        assert restored == TRIGGER_CHECKED_KEYS
        assert await connection.fetchval(triggers) == 0
        await connection.close()

        await asyncio.to_thread(upgrade, url)


async def test_postgres_checks_ignore_the_callers_search_path(db: Database) -> None:
    """A temporary table named like a parent neither replaces it nor hides it."""
    _postgres_only(db)
    ids = await _ids(db)
    schema = await _count(db, "SELECT current_schema()")
    device = DEVICE.replace(":model", str(ids["model"])).replace(
        "INSERT INTO devices", f'INSERT INTO "{schema}".devices'
    )
    connection = await _admin_connection(
        make_url(db.settings.database_url).render_as_string(hide_password=False)
    )
    try:
        await connection.execute(
            f"CREATE TEMP TABLE sites (id int); INSERT INTO sites VALUES ({MISSING})"
        )
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(device.replace(":site", str(MISSING)))
        await connection.execute("CREATE TEMP TABLE devices (site_id int)")
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await connection.execute(f'DELETE FROM "{schema}".sites WHERE id = {ids["site"]}')
        await connection.execute("SET search_path = pg_catalog")
        await connection.execute(device.replace(":site", str(ids["other_site"])))
    finally:
        await connection.close()
    assert await _count(db, "SELECT count(*) FROM devices") == 2


async def test_postgres_service_transactions_read_committed() -> None:
    """The triggers need READ COMMITTED, so the service sets it whatever the default."""
    async with _scratch_database("default_transaction_isolation = 'repeatable read'") as url:
        database = Database(Settings(database_url=url, environment="test"))
        try:
            async with database.write() as session:
                level = (await session.execute(text("SHOW transaction_isolation"))).scalar_one()
        finally:
            await database.dispose()
    assert level == "read committed"
