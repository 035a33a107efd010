"""Commands for scheduled work and subscribers: jobs tick | jobs run, subscribers import.

In production the scheduler runs alone (`jobs run`) beside gunicorn workers that never start
it; `serve` (statuspage.server) is the embedded default with the scheduler inside its worker.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from calendars.recurrence import to_local
from jobs import lock as job_locks
from jobs import scheduler as job_scheduler
from statuspage import clock, server
from statuspage.extensions import db
from statuspage.services import ValidationError
from statuspage.services.subscriptions import mpoc


def parse_at(value: str | None) -> datetime:
    """An ISO-8601 moment; without an offset it is read in the provider's zone."""
    if value is None:
        return clock.now()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 date and time") from None
    if moment.tzinfo is None:
        moment = to_local(moment, ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"]))
    return moment


@click.group("jobs")
def jobs_group() -> None:
    """Scheduled work: expand and advance windows, queue and deliver notices, P1G alerts."""


@jobs_group.command("tick")
@click.option("--at", "at", metavar="ISO-8601", help="Run the pass as if it were this moment.")
@with_appcontext
def tick_command(at: str | None) -> None:
    """Run one pass of every job for now (or --at)."""
    now = parse_at(at)
    # Flask types current_app as the app itself, not the LocalProxy it is.
    # Flask types current_app as the app itself, not the LocalProxy it is.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    report = job_scheduler.tick(app, now)
    d = report.delivery
    click.echo(f"tick at {now.isoformat()}")
    click.echo(
        f"  windows: {report.windows_created} created, {report.windows_changed} "
        "started or completed"
    )
    click.echo(
        f"  notices: {report.notices_queued} due, {report.alerts} P1G alerts, "
        f"{report.deliveries_made} deliveries queued"
    )
    click.echo(
        f"  delivery: {d.sent} sent in {d.batches} requests, {d.retried} to retry, "
        f"{d.failed} failed, {d.recovered} recovered from a dead sender"
    )


@jobs_group.command("run")
@with_appcontext
def run_command() -> None:
    """Run the scheduler in this process (production). A second one stands by and takes
    over when the first stops; one that loses its lock (a database restart) runs nothing
    until it holds it again. Ctrl+C or SIGTERM stops it once a running job has finished."""
    # Flask types current_app as the app itself, not the LocalProxy it is.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock = job_locks.scheduler_lock(app)
    scheduler = job_scheduler.build_scheduler(app, lock=lock)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"scheduler {lock.owner}: waiting for the scheduler lock")
    with contextlib.suppress(KeyboardInterrupt):
        job_scheduler.lead(scheduler, lock, stop, say=lambda line: click.echo(line))


@click.group("subscribers")
def subscribers_group() -> None:
    """Subscribers and MPOC contacts."""


@subscribers_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--organisation", default="", help="Organisation for rows that leave it blank.")
@with_appcontext
def import_command(path: Path, organisation: str) -> None:
    """Import an MPOC contact list (CSV: email, name, organisation, platforms, topics,
    language). Bad rows are reported; good rows are imported and confirmed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        rows = list(mpoc.read_csv(io.StringIO(text)))
    except UnicodeDecodeError:
        raise click.ClickException("the file must be UTF-8 text (CSV)") from None
    except ValidationError as exc:
        raise click.ClickException("; ".join(exc.errors.values())) from None
    with click.progressbar(length=len(rows), label="Importing", file=sys.stderr) as bar:
        done = {"n": 0}

        def progress(n: int) -> None:
            bar.update(n - done["n"])
            done["n"] = n

        result = mpoc.import_contacts(
            db.session,
            rows,
            actor=None,  # the operator at the command line
            organisation=organisation,
            now=clock.now(),
            progress=progress,
        )
    db.session.commit()
    for line, message in result.errors:
        click.echo(f"line {line}: {message}", err=True)
    click.echo(
        f"{result.created} created, {result.updated} updated, {len(result.errors)} rows with errors"
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs_group)
    app.cli.add_command(subscribers_group)
    app.cli.add_command(server.serve_command)
