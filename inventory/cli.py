"""The `inventory` command."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from inventory.config import Settings, get_settings
from inventory.db import Database, DatabaseNotMigratedError, DatabaseUnavailableError
from inventory.logs import configure_logging


def _settings():
    try:
        settings = get_settings()
    except ValueError as exc:
        raise click.ClickException(f"Invalid settings: {exc}") from exc
    configure_logging(settings.log_level, settings.log_format)
    return settings


@click.group()
def main() -> None:
    """Device lifecycle and inventory service."""


@main.command()
@click.option("--host", default=None, help="Address to bind; default INVENTORY_HOST (127.0.0.1).")
@click.option("--port", type=int, default=None, help="TCP port; default INVENTORY_PORT (8000).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes serving requests.",
)
@click.option("--reload", is_flag=True, help="Restart when the code changes (development).")
def serve(host: str | None, port: int | None, workers: int, reload: bool) -> None:
    """Serve the web pages and the JSON API."""
    import uvicorn

    settings = _settings()

    async def check() -> None:
        db = Database(settings, pool=False)
        try:
            await db.check_migrated()
        finally:
            await db.dispose()

    try:
        asyncio.run(check())
    except (DatabaseNotMigratedError, DatabaseUnavailableError) as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:
        raise click.ClickException(f"Cannot reach the database: {exc}") from exc

    bind_host = host or settings.host
    bind_port = port or settings.port
    click.echo(f"Serving on http://{bind_host}:{bind_port}/ (stop with Ctrl+C)")
    hint = asyncio.run(_first_step_hint(settings))
    if hint:
        click.echo(hint)
    uvicorn.run(
        "inventory.app:create_app_from_environment",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=workers,
        reload=reload,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=30,
    )


async def _first_step_hint(settings: Settings) -> str | None:
    """Suggest a first thing to try: a device to open and to move through the API."""
    from inventory.devices.service import first_asset_tag_in_state
    from inventory.technicians.service import list_technicians

    database = Database(settings, pool=False)
    try:
        tag = await first_asset_tag_in_state(database, "received")
        technicians = await list_technicians(database, active=True, limit=1)
    finally:
        await database.dispose()
    if tag is None or not technicians.items:
        return None
    body = json.dumps(
        {
            "action": "enroll",
            "technician": technicians.items[0].employee_number,
            "data": {
                "operating_system": "ChromeOS",
                "management_profile": "students",
                "user_profile_kind": "student",
            },
        }
    )
    base = settings.base_url
    return (
        f"First thing to try: open {base}/a/{tag} to see a device and its history,\n"
        f"then enroll it through the API (API documents at {base}/schema/swagger):\n"
        f"  curl -X POST {base}/api/v1/devices/{tag}/actions "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target migration.")
def upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (or to --revision)."""
    from inventory.migrations import upgrade as run_upgrade

    settings = _settings()
    run_upgrade(settings.database_url, revision)
    click.echo(f"Database migrated to {revision}.")


@db.command()
def check() -> None:
    """Exit 1 unless the database is at the newest migration."""
    settings = _settings()

    async def run() -> None:
        database = Database(settings, pool=False)
        try:
            await database.check_migrated()
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except (DatabaseNotMigratedError, DatabaseUnavailableError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo("Database is at the newest migration.")


@main.group()
def demo() -> None:
    """The demo district built from public data."""


@demo.command("load")
@click.option(
    "--devices-per-student",
    type=click.FloatRange(min=0, max=2),
    default=None,
    help="Devices generated per enrolled student; default keeps loading to seconds.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has sites.")
@click.option(
    "--seed",
    type=int,
    default=2026,
    show_default=True,
    help="Random seed, so the same options give the same fleet.",
)
def demo_load(devices_per_student: float | None, if_empty: bool, seed: int) -> None:
    """Load the demo district: NYC schools, ChromeOS models, a generated fleet."""
    from inventory.demo.loader import DEFAULT_DEVICES_PER_STUDENT, load_demo

    settings = _settings()

    async def run() -> str:
        database = Database(settings, pool=False)
        try:
            await database.check_migrated()
            summary = await load_demo(
                database,
                devices_per_student=devices_per_student
                if devices_per_student is not None
                else DEFAULT_DEVICES_PER_STUDENT,
                seed=seed,
                if_empty=if_empty,
            )
        finally:
            await database.dispose()
        return summary

    try:
        click.echo(asyncio.run(run()))
    except (DatabaseNotMigratedError, DatabaseUnavailableError) as exc:
        raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":
    main()
