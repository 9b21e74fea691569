"""The `inventory` command."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from inventory.accounts.principal import Role
from inventory.config import Settings, get_settings
from inventory.db import Database, DatabaseNotMigratedError, DatabaseUnavailableError
from inventory.errors import ServiceError
from inventory.imports.cli import export_devices, import_group
from inventory.logs import configure_logging
from inventory.salvage.cli import end_of_support_group, recycling_group, salvage_group

T = TypeVar("T")


def _settings() -> Settings:
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"INVENTORY_{'_'.join(str(part) for part in error['loc']).upper() or 'SETTINGS'}: "
            f"{error['msg']}"
            for error in exc.errors()
        )
        raise click.ClickException(f"Invalid settings: {problems}") from exc
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
    if "INVENTORY_BASE_URL" not in os.environ:
        # Links printed below and inside labels follow the address actually served.
        os.environ["INVENTORY_BASE_URL"] = f"http://{bind_host}:{bind_port}"
        get_settings.cache_clear()
        settings = get_settings()
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
    from inventory.accounts.service import list_users
    from inventory.devices.service import first_asset_tag_in_state

    database = Database(settings, pool=False)
    try:
        tag = await first_asset_tag_in_state(database, "received")
        technician_users = [
            user for user in await list_users(database) if user.role == "technician"
        ]
    finally:
        await database.dispose()
    if tag is None or not technician_users:
        return None
    username = technician_users[0].username
    body = json.dumps(
        {
            "action": "enroll",
            "data": {
                "operating_system": "ChromeOS",
                "management_profile": "students",
                "user_profile_kind": "student",
            },
        }
    )
    base = settings.base_url
    return (
        f"First thing to try: sign in at {base}/login and open {base}/a/{tag}, a device\n"
        f"and its history. Then enroll it through the API as technician user {username}\n"
        f"(API documents at {base}/schema/swagger):\n"
        f"  TOKEN=$(.venv/bin/inventory tokens create {username} --name first-try)\n"
        f"  curl -X POST {base}/api/v1/devices/{tag}/actions "
        f'-H "Authorization: Bearer $TOKEN" '
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
    try:
        run_upgrade(settings.database_url, revision)
    except (OSError, SQLAlchemyError) as exc:
        where = make_url(settings.database_url).render_as_string()
        raise click.ClickException(f"Cannot migrate {where}: {str(exc).splitlines()[0]}") from exc
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


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace FILE when it already exists.")
def db_backup(file: Path, overwrite: bool) -> None:
    """Copy the SQLite database to FILE while the service keeps running."""
    from inventory.backup import BackupError, backup_sqlite

    try:
        summary = backup_sqlite(_settings().database_url, file, overwrite=overwrite)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backed up {summary.devices} devices and {summary.events} events to {summary.path} "
        f"({summary.size_bytes} bytes, revision {summary.revision})."
    )


@db.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite a database that already holds devices, losing what was written since.",
)
def db_restore(file: Path, replace: bool) -> None:
    """Copy the SQLite backup FILE over the configured database."""
    from inventory.backup import BackupError, restore_sqlite
    from inventory.migrations import head_revision

    try:
        summary = restore_sqlite(_settings().database_url, file, replace=replace)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored {summary.devices} devices and {summary.events} events from {file}.")
    if summary.revision != head_revision():
        click.echo(
            f"The backup is at revision {summary.revision}; run `inventory db upgrade` "
            "before serving it."
        )


@main.group()
def demo() -> None:
    """Load the demo district built from public data."""


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
    from inventory.demo.users import DemoUser, create_demo_users

    settings = _settings()

    async def run(database: Database) -> tuple[str, list[DemoUser]]:
        summary = await load_demo(
            database,
            devices_per_student=devices_per_student
            if devices_per_student is not None
            else DEFAULT_DEVICES_PER_STUDENT,
            seed=seed,
            if_empty=if_empty,
        )
        return summary, await create_demo_users(database)

    summary, demo_users = _run_with_db(settings, run)
    click.echo(summary)
    if not demo_users:
        return
    if settings.environment != "development":
        click.echo(
            f"Created demo users {', '.join(user.username for user in demo_users)}. Their "
            "passwords are shown only in development; set new ones with "
            "`inventory users set-password USERNAME`."
        )
        return
    click.echo("Demo users (sign in at /login; passwords shown once, in development only):")
    for user in demo_users:
        click.echo(f"  {user.username:<10} {user.password:<14} {user.role}, {user.scope}")


def _run_with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` against a migrated database; report service errors as command errors."""

    async def run() -> T:
        database = Database(settings, pool=False)
        try:
            await database.check_migrated()
            return await work(database)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except (DatabaseNotMigratedError, DatabaseUnavailableError) as exc:
        raise click.ClickException(str(exc)) from exc
    except ServiceError as exc:
        raise click.ClickException(exc.detail) from exc
    except (OSError, SQLAlchemyError) as exc:
        raise click.ClickException(f"Database error: {str(exc).splitlines()[0]}") from exc


@main.group()
def users() -> None:
    """Sign-in accounts: admin, technician, site and vendor users."""


@users.command("create")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice([role.value for role in Role]),
    help="What the user may do.",
)
@click.option(
    "--technician",
    "technician",
    metavar="EMPLOYEE_NUMBER",
    help="Technician record of a technician user.",
)
@click.option(
    "--site",
    "sites",
    metavar="CODE",
    multiple=True,
    help="A site a site user reads; repeat for several.",
)
@click.option("--vendor", metavar="CODE", help="Vendor of a vendor user.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of a prompt.",
)
@click.option(
    "--no-password", is_flag=True, help="Create a user who signs in with API tokens only."
)
def users_create(
    username: str,
    role: str,
    technician: str | None,
    sites: tuple[str, ...],
    vendor: str | None,
    password_stdin: bool,
    no_password: bool,
) -> None:
    """Create USERNAME with one role; the password is asked for twice unless given on stdin."""
    from inventory.accounts.service import create_user

    settings = _settings()
    password: str | None
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _run_with_db(
        settings,
        lambda db: create_user(
            db, username, role, password, technician=technician, sites=list(sites), vendor=vendor
        ),
    )
    click.echo(f"Created user {user.username} ({user.role}).")


@users.command("set-password")
@click.argument("username")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input instead of a prompt.",
)
def users_set_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME and end its signed-in sessions."""
    from inventory.accounts.service import set_password

    settings = _settings()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    _run_with_db(settings, lambda db: set_password(db, username, password))
    click.echo(f"Password of {username.strip().lower()} changed.")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Turn off USERNAME's access: sign-in, sessions and API tokens."""
    from inventory.accounts.service import set_active

    _run_with_db(_settings(), lambda db: set_active(db, username, active=False))
    click.echo(f"User {username.strip().lower()} deactivated.")


@users.command("activate")
@click.argument("username")
def users_activate(username: str) -> None:
    """Turn USERNAME's access back on."""
    from inventory.accounts.service import set_active

    _run_with_db(_settings(), lambda db: set_active(db, username, active=True))
    click.echo(f"User {username.strip().lower()} activated.")


@users.command("list")
def users_list() -> None:
    """List every user with role and scope."""
    from inventory.accounts.service import list_users

    rows = _run_with_db(_settings(), list_users)
    click.echo(f"{'username':<24} {'role':<11} {'active':<6} scope")
    for user in rows:
        scope = user.technician or user.vendor or ", ".join(user.sites) or "-"
        click.echo(
            f"{user.username:<24} {user.role:<11} {'yes' if user.active else 'no':<6} {scope}"
        )


@main.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="api", show_default=True, help="A name to tell tokens apart.")
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3660),
    default=None,
    help="Days until the token expires; default INVENTORY_TOKEN_DEFAULT_DAYS (90).",
)
def tokens_create(username: str, name: str, expires_days: int | None) -> None:
    """Create a token for USERNAME and print it once; only its hash is stored."""
    from inventory.accounts.service import create_token

    token, info = _run_with_db(
        _settings(), lambda db: create_token(db, username, name=name, expires_days=expires_days)
    )
    click.echo(token)
    click.echo(
        f"Token {info.id} ({info.name}) for {info.username}, expires {info.expires_at:%Y-%m-%d}. "
        "It is shown only now: store it safely.",
        err=True,
    )


@tokens.command("list")
@click.argument("username", required=False)
def tokens_list(username: str | None) -> None:
    """List tokens (of USERNAME, or all) without their secret part."""
    from inventory.accounts.service import list_tokens

    rows = _run_with_db(_settings(), lambda db: list_tokens(db, username))
    for info in rows:
        state = "revoked" if info.revoked_at else f"expires {info.expires_at:%Y-%m-%d}"
        click.echo(f"{info.id:>5} {info.username:<24} {info.name:<16} {info.prefix}...  {state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke the token with TOKEN_ID (see `inventory tokens list`)."""
    from inventory.accounts.service import revoke_token

    info = _run_with_db(_settings(), lambda db: revoke_token(db, token_id))
    click.echo(f"Revoked token {info.id} ({info.name}) of {info.username}.")


@main.group(invoke_without_command=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="PDF file to write.")
@click.option("--site", help="Only devices of this site code.")
@click.option("--state", help="Only devices in this lifecycle state.")
@click.option("--tags", help="Comma-separated asset tags, printed in this order.")
@click.option(
    "--template",
    default="avery-5160",
    show_default=True,
    help="Sheet template; `inventory labels templates` lists them.",
)
@click.option(
    "--skip",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Labels already used on a partly used sheet; printing starts after them.",
)
@click.pass_context
def labels(
    context: click.Context,
    out: str | None,
    site: str | None,
    state: str | None,
    tags: str | None,
    template: str,
    skip: int,
) -> None:
    """Print QR asset labels to a PDF: `inventory labels --out FILE.pdf [filters]`."""
    if context.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("Give --out FILE.pdf, or use `inventory labels templates`.")
    from inventory.devices.labels import print_labels, split_tags

    run = _run_with_db(
        _settings(),
        lambda db: print_labels(
            db, None, site=site, state=state, tags=split_tags(tags), template=template, skip=skip
        ),
    )
    with open(out, "wb") as output:
        output.write(run.pdf)
    click.echo(f"Wrote {run.labels} labels on {run.pages} pages to {out}.")
    for warning in run.warnings:
        click.echo(f"Warning: {warning}", err=True)


@labels.command("reserve")
@click.option("--count", type=click.IntRange(1, 5000), required=True, help="Tags to reserve.")
@click.option("--prefix", default="", help="Text before the number, such as K123-.")
@click.option(
    "--digits",
    type=click.IntRange(1, 12),
    default=6,
    show_default=True,
    help="Zero-padded width of the number.",
)
@click.option("--site", help="Site code printed on the labels.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="PDF file to write.",
)
@click.option("--template", default="avery-5160", show_default=True, help="Sheet template.")
@click.option(
    "--skip",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Labels already used on a partly used sheet.",
)
def labels_reserve(
    count: int, prefix: str, digits: int, site: str | None, out: str, template: str, skip: int
) -> None:
    """Reserve new asset tags and print their labels before the devices arrive."""
    from inventory.devices.labels import LabelRun, print_labels
    from inventory.devices.reservations import ReservationBatch, reserve_tags

    async def run(db: Database) -> tuple[ReservationBatch, LabelRun]:
        batch = await reserve_tags(db, count=count, prefix=prefix, digits=digits, site=site)
        sheet = await print_labels(
            db, None, site=site, batch=batch.batch, template=template, skip=skip
        )
        return batch, sheet

    batch, sheet = _run_with_db(_settings(), run)
    with open(out, "wb") as output:
        output.write(sheet.pdf)
    click.echo(
        f"Reserved {len(batch.tags)} tags ({batch.tags[0]} to {batch.tags[-1]}) as batch "
        f"{batch.batch}, and wrote their labels on {sheet.pages} pages to {out}."
    )
    for warning in sheet.warnings:
        click.echo(f"Warning: {warning}", err=True)


@labels.command("templates")
def labels_templates() -> None:
    """List the label sheet templates."""
    from labels import list_templates

    for template in list_templates():
        click.echo(
            f"{template.name:<14} {template.labels_per_sheet:>3} per sheet  {template.title}"
        )


@main.group()
def audit() -> None:
    """Checks of the tamper-evident device history."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute every device's event hash chain; exit 1 naming each chain's first bad event."""
    from inventory.devices.audit import verify_chains

    result = _run_with_db(_settings(), verify_chains)
    if result.ok:
        click.echo(f"All {result.checked} events verified.")
        return
    for broken in result.broken:
        click.echo(
            f"Event {broken.event_id} (device {broken.asset_tag}, sequence {broken.sequence}) "
            f"does not verify: {broken.reason}.",
            err=True,
        )
    click.echo(
        f"{result.broken_chains} device histories do not verify; {result.checked} events verified.",
        err=True,
    )
    sys.exit(1)


@main.group()
def export() -> None:
    """Write exports to files."""


@export.command("vendor")
@click.argument("code")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json"]),
    default="csv",
    show_default=True,
    help="File format.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; CSV and JSON go to standard output without it.",
)
@click.option(
    "--batch",
    "batch_id",
    type=int,
    help="Download this earlier batch again instead of making a new one.",
)
def export_vendor(code: str, fmt: str, out: Path | None, batch_id: int | None) -> None:
    """Export vendor CODE's escalations not yet exported as a new batch, and write it."""
    from inventory.escalations.cli import write_batch

    if fmt == "xlsx" and out is None:
        raise click.UsageError("XLSX needs --out FILE; a workbook is not written to a terminal.")
    summary = _run_with_db(_settings(), lambda db: write_batch(db, code, fmt, out, batch_id))
    click.echo(summary, err=out is None)


export.add_command(export_devices)
main.add_command(import_group)


@main.group()
def escalations() -> None:
    """Warranty escalations to vendors."""


@escalations.command("list")
@click.option("--vendor", metavar="CODE", help="Only this vendor's escalations.")
@click.option("--state", metavar="STATE", help="open, exported, acknowledged, shipped or closed.")
def escalations_list(vendor: str | None, state: str | None) -> None:
    """List escalations, oldest first."""
    from inventory.escalations.cli import list_all

    for line in _run_with_db(_settings(), lambda db: list_all(db, vendor, state)):
        click.echo(line)


# Command groups defined in the domain packages, which run through these two names.
load_settings = _settings
run_with_db = _run_with_db
main.add_command(salvage_group)
main.add_command(recycling_group)
main.add_command(end_of_support_group)


@main.group()
def report() -> None:
    """Site inventory reports and the district view."""


_REPORT_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "csv", "xlsx", "pdf"]),
    default="html",
    show_default=True,
    help="File format.",
)
_REPORT_OUT = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write; HTML and CSV go to standard output without it.",
)
_REPORT_FISCAL_YEAR = click.option(
    "--fiscal-year",
    metavar="YYYY-YY",
    help="Fiscal year of the period figures, such as 2026-27; default: the current one.",
)
_REPORT_MONTH = click.option(
    "--month", metavar="YYYY-MM", help="One month instead of a fiscal year, such as 2026-09."
)


def _check_report_out(fmt: str, out: Path | None) -> None:
    if fmt in ("xlsx", "pdf") and out is None:
        raise click.UsageError(f"{fmt.upper()} needs --out FILE; it is not written to a terminal.")


@report.command("site")
@click.argument("code")
@_REPORT_FORMAT
@_REPORT_OUT
@_REPORT_FISCAL_YEAR
@_REPORT_MONTH
def report_site(
    code: str, fmt: str, out: Path | None, fiscal_year: str | None, month: str | None
) -> None:
    """Write the inventory report of site CODE."""
    from inventory.reports.cli import write_site_report

    _check_report_out(fmt, out)
    summary = _run_with_db(
        _settings(), lambda db: write_site_report(db, code, fmt, out, fiscal_year, month)
    )
    click.echo(summary, err=True)


@report.command("district")
@_REPORT_FORMAT
@_REPORT_OUT
@_REPORT_FISCAL_YEAR
@_REPORT_MONTH
def report_district(fmt: str, out: Path | None, fiscal_year: str | None, month: str | None) -> None:
    """Write every site's key figures, grouped by region, with totals."""
    from inventory.reports.cli import write_district_report

    _check_report_out(fmt, out)
    summary = _run_with_db(
        _settings(), lambda db: write_district_report(db, fmt, out, fiscal_year, month)
    )
    click.echo(summary, err=True)


@report.command("rebuild")
def report_rebuild() -> None:
    """Recompute the report summary from the devices and events, after a bulk load."""
    from inventory.reports.cli import rebuild_summary

    click.echo(_run_with_db(_settings(), rebuild_summary))


# The plans group lives with its domain; registered here so `inventory plans` exists.
from inventory.plans.cli import plans  # noqa: E402

main.add_command(plans)

if __name__ == "__main__":
    main()
