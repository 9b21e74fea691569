"""Online backup and restore of an SQLite database with sqlite3's backup API.

The backup API copies the database through an ordinary connection. The copy runs in one
step inside one read transaction, so it is a consistent snapshot. In WAL mode a reader does
not block writers, so the service keeps writing during the copy. A PostgreSQL database is
backed up with pg_dump and pg_restore instead (see docs/deployment.md).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from inventory.migrations import head_revision

log = logging.getLogger(__name__)


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message gives the reason and the fix."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size_bytes: int
    revision: str | None
    devices: int
    events: int


def sqlite_path(database_url: str) -> Path:
    """Return the file of an SQLite URL, or raise BackupError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"`inventory db backup` and `restore` work on SQLite files, but "
            f"INVENTORY_DATABASE_URL is a {url.get_backend_name()} database; back up "
            "PostgreSQL with pg_dump and restore it with pg_restore (docs/deployment.md)."
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database has no file to back up or restore.")
    return Path(url.database)


def _check_file(path: Path) -> tuple[str | None, int, int]:
    """Run PRAGMA integrity_check on `path` and return its revision, devices and events."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(
                    f"{path} fails SQLite's integrity check: {'; '.join(problems[:5])}."
                )
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if not {"alembic_version", "devices", "device_events"} <= tables:
                raise BackupError(f"{path} is an SQLite file, but not an inventory database.")
            revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            devices = connection.execute("SELECT count(*) FROM devices").fetchone()[0]
            events = connection.execute("SELECT count(*) FROM device_events").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}.") from exc
    return (revision[0] if revision else None), devices, events


def backup_sqlite(database_url: str, target: Path, *, overwrite: bool = False) -> BackupSummary:
    """Copy the live database to `target` and check the copy.

    The copy is written beside `target` and renamed into place only after it passes the
    integrity check, so a failed backup never leaves a partial file under the target name.
    """
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"The database file {source_path} does not exist.")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; choose another file or pass --overwrite.")
    if target.resolve() == source_path.resolve():
        raise BackupError(f"{target} is the database itself; choose another file.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(source_path)) as source,
            closing(sqlite3.connect(partial)) as copy,
        ):
            # One step: a backup in several steps restarts from the first page whenever
            # another connection writes between steps, so under load it may never finish.
            source.backup(copy, pages=-1)
            # A self-contained file: no -wal beside it is needed to read the backup.
            copy.execute("PRAGMA journal_mode=DELETE")
        revision, devices, events = _check_file(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    log.info(
        "database backed up",
        extra={"target": str(target), "devices": devices, "events": events},
    )
    return BackupSummary(target, target.stat().st_size, revision, devices, events)


def restore_sqlite(database_url: str, source: Path, *, replace: bool = False) -> BackupSummary:
    """Copy the backup `source` over the configured database.

    The backup is checked first. Restoring over a database that holds devices needs
    `replace`, because everything written since the backup is lost. The copy goes through
    the backup API into the database file itself, so it takes SQLite's write lock and a
    running service sees either the old or the restored database, never a mix.
    """
    target_path = sqlite_path(database_url)
    if not source.exists():
        raise BackupError(f"The backup file {source} does not exist.")
    revision, devices, events = _check_file(source)
    head = head_revision()
    if revision != head:
        log.warning(
            "restoring a backup at another schema revision",
            extra={"revision": revision, "head": head},
        )
    if target_path.exists() and target_path.stat().st_size > 0:
        with closing(sqlite3.connect(target_path)) as existing:
            has_devices = (
                existing.execute(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'devices'"
                ).fetchone()[0]
                and existing.execute("SELECT count(*) FROM devices").fetchone()[0]
            )
        if has_devices and not replace:
            raise BackupError(
                f"The database {target_path} already holds devices, and restoring would lose "
                "everything written since the backup. Stop the service, then run the restore "
                "again with --replace."
            )
    target_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup,
        closing(sqlite3.connect(target_path, timeout=30)) as target,
    ):
        # One step, so that readers never see a half-restored file.
        backup.backup(target, pages=-1)
    log.info("database restored", extra={"source": str(source), "devices": devices})
    return BackupSummary(source, source.stat().st_size, revision, devices, events)
