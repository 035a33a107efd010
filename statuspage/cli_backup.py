"""`flask backup FILE` and `flask restore FILE`: the embedded SQLite database, while it serves.

A backup is a consistent copy of one moment, taken while the service writes
(`statuspage.backup`). A restore replaces the database with a backup; it refuses while a
scheduler (`serve` or `jobs run`) runs on the database, unless `--while-running` says to
restore under the running service (every worker then serves the restored data on its next
request). The safe procedure is stop, restore, start (docs/operations.md).
PostgreSQL databases are backed up and restored with `pg_dump` and `pg_restore`; both
commands say so and stop.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from jobs import lock as job_locks
from statuspage import backup
from statuspage.extensions import db


def _sqlite_file(url: URL, command: str) -> str:
    if url.get_backend_name() == "postgresql":
        target = url.set(drivername="postgresql").render_as_string(hide_password=True)
        tool = (
            f"pg_dump --format=custom --file FILE '{target}'"
            if command == "backup"
            else f"pg_restore --clean --if-exists --no-owner --dbname '{target}' FILE"
        )
        raise click.ClickException(
            f"the database is PostgreSQL: {command} it with its own tools, e.g. `{tool}` "
            "(docs/operations.md)"
        )
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        raise click.ClickException(f"cannot {command} the database at {url!r}")
    return os.path.abspath(database)


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Copy the SQLite database to FILE (replaced if it exists), while the service runs: a
    consistent copy of one moment, readable by its owner only. PostgreSQL: use pg_dump."""
    database = _sqlite_file(db.engine.url, "backup")
    try:
        summary = backup.backup(database, str(file))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"backed up {database} to {file} ({_megabytes(summary.size)}): "
        f"{summary.notices:,} notices, {summary.deliveries:,} deliveries, "
        f"data version {summary.data_version}, schema {summary.revision}"
    )


def _revisions(app: Flask) -> tuple[set[str], set[str]]:
    """(every revision of this code's migrations, the newest ones)."""
    config = app.extensions["migrate"].migrate.get_config()
    scripts = ScriptDirectory.from_config(config)
    return {s.revision for s in scripts.walk_revisions()}, set(scripts.get_heads())


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--while-running",
    is_flag=True,
    help="Restore although a scheduler (serve or jobs run) runs on the database; what was "
    "written since the backup is lost, and every worker serves the restored data.",
)
@with_appcontext
def restore_command(file: Path, while_running: bool) -> None:
    """Replace the SQLite database with the backup in FILE. Stop the service first (or say
    --while-running). PostgreSQL: use pg_restore."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    database = _sqlite_file(db.engine.url, "restore")
    try:
        found = backup.inspect(str(file))
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    known, heads = _revisions(app)
    if found.revision not in known:
        raise click.ClickException(
            f"{file} has schema {found.revision}, which this version of the service does not "
            "know (a backup from a newer version, or of a database `flask init` never made?)"
        )
    # The scheduler lock: held by any `serve` or `jobs run` on this database. Held here for
    # the restore, so that none starts meanwhile.
    lock = job_locks.scheduler_lock(app)
    stop = threading.Event()
    stop.set()  # try once, do not wait
    running = not lock.acquire(stop)
    try:
        if running and not while_running:
            raise click.ClickException(
                "a scheduler (serve or jobs run) is running on this database: stop the "
                "service, restore, start it again; or restore under it with --while-running"
            )
        db.engine.dispose()  # this process's own connections see the new file afresh
        try:
            restored = backup.restore(str(file), database)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        lock.release()
    click.echo(
        f"restored {file} into {database}: {restored.notices:,} notices, "
        f"{restored.deliveries:,} deliveries, data version {restored.data_version}"
    )
    if restored.revision not in heads:
        click.echo("its schema is older than this version's: run `flask init` to migrate it")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
