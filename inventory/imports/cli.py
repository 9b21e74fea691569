"""The `inventory import ...` commands and `inventory export devices`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from inventory.db import Database
from inventory.imports.report import REJECTED, ImportReport, RowResult, csv_header, csv_line

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_REPORT_OPTION = click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the outcome of every row to this CSV file.",
)
_DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Check every row and report, but write nothing."
)


def _progress_printer() -> Callable[[int, bool], None]:
    """Print the rows done so far to standard error: one updating line on a terminal."""
    done = 0
    terminal = sys.stderr.isatty()

    def show(rows: int, written: bool) -> None:
        nonlocal done
        done += rows
        state = "checked and written, not yet committed" if written else "checked"
        if terminal:
            click.echo(f"\r{done:,} rows {state}", nl=False, err=True)
        else:
            click.echo(f"{done:,} rows {state}", err=True)

    return show


def _row_writer(handle: IO[str] | None) -> Callable[[RowResult], None] | None:
    if handle is None:
        return None
    handle.write(csv_header())

    def write(result: RowResult) -> None:
        handle.write(csv_line(result))

    return write


def _finish(report: ImportReport) -> None:
    if sys.stderr.isatty():
        click.echo("", err=True)
    click.echo(report.text())
    if report.counts[REJECTED]:
        sys.exit(1)


@click.group("import")
def import_group() -> None:
    """Import devices, sites or technicians from CSV or XLSX files."""


@import_group.command("devices")
@click.argument("file", type=_FILE)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["auto", "generic", "snipeit", "google"]),
    default="auto",
    show_default=True,
    help="Column layout: the generic template, a Snipe-IT asset import, or a Google Admin "
    "ChromeOS device list; auto tells them apart by their headers.",
)
@click.option("--site", metavar="CODE", help="Import every row at this site code.")
@click.option(
    "--date-format",
    metavar="FORMAT",
    help="strptime format of dates that are not YYYY-MM-DD, such as %m/%d/%y.",
)
@click.option(
    "--update-by",
    type=click.Choice(["tag", "serial"]),
    help="Update the device that has the row's asset tag (or serial number) instead of "
    "rejecting the row.",
)
@click.option(
    "--technician",
    metavar="EMPLOYEE_NUMBER",
    required=True,
    help="Technician who took this inventory; each device's import event names them.",
)
@click.option(
    "--generate-tags",
    metavar="PREFIX",
    help="Give rows without an asset tag the tag PREFIX plus their line number.",
)
@_DRY_RUN_OPTION
@_REPORT_OPTION
def import_devices_command(
    file: Path,
    file_format: str,
    site: str | None,
    date_format: str | None,
    update_by: str | None,
    technician: str,
    generate_tags: str | None,
    dry_run: bool,
    report_path: Path | None,
) -> None:
    """Import devices from FILE; nothing is written unless every row is accepted."""
    from inventory.cli import _run_with_db, _settings
    from inventory.imports.devices import DeviceImportOptions, import_devices
    from inventory.imports.reading import open_path

    options = DeviceImportOptions(
        format=file_format,
        site=site,
        date_format=date_format,
        update_by=update_by,
        dry_run=dry_run,
        generate_tags=generate_tags,
        technician=technician,
    )

    async def run(db: Database) -> ImportReport:
        table = open_path(file)
        handle = report_path.open("w", encoding="utf-8", newline="") if report_path else None
        try:
            report = ImportReport(kind="devices", row_sink=_row_writer(handle))
            return await import_devices(
                db,
                table,
                options,
                source=file.name,
                report=report,
                progress=_progress_printer(),
            )
        finally:
            table.close()
            if handle is not None:
                handle.close()

    _finish(_run_with_db(_settings(), run))


def _directory_command(kind: str) -> Callable[[Path, bool, Path | None], None]:
    def command(file: Path, dry_run: bool, report_path: Path | None) -> None:
        from inventory.cli import _run_with_db, _settings
        from inventory.imports.directory import import_sites, import_technicians
        from inventory.imports.reading import open_path

        importer = import_sites if kind == "sites" else import_technicians

        async def run(db: Database) -> ImportReport:
            table = open_path(file)
            handle = report_path.open("w", encoding="utf-8", newline="") if report_path else None
            try:
                return await importer(
                    db, table, source=file.name, dry_run=dry_run, row_sink=_row_writer(handle)
                )
            finally:
                table.close()
                if handle is not None:
                    handle.close()

        _finish(_run_with_db(_settings(), run))

    return command


import_group.command("sites", help="Import sites from FILE, keyed by site code.")(
    click.argument("file", type=_FILE)(_DRY_RUN_OPTION(_REPORT_OPTION(_directory_command("sites"))))
)
import_group.command("technicians", help="Import technicians from FILE, keyed by employee number.")(
    click.argument("file", type=_FILE)(
        _DRY_RUN_OPTION(_REPORT_OPTION(_directory_command("technicians")))
    )
)


@click.command("devices")
@click.option("--site", metavar="CODE", help="Only the devices of this site.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="File to write; standard output without it.",
)
def export_devices(site: str | None, out: Path | None) -> None:
    """Export devices as CSV in the generic import template's columns."""
    from inventory.cli import _run_with_db, _settings
    from inventory.imports.export import device_csv_chunks

    async def run(db: Database) -> None:
        target = out.open("wb") if out is not None else sys.stdout.buffer
        try:
            async for chunk in device_csv_chunks(db, site):
                target.write(chunk)
        finally:
            if out is not None:
                target.close()
            else:
                target.flush()

    _run_with_db(_settings(), run)
