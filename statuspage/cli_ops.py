"""`flask doctor`: what to fix before (or while) running in production (statuspage.doctor)."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from statuspage import clock, doctor
from statuspage.extensions import db

LABELS = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.FIX: "FIX "}


def _default_workers() -> int:
    value = os.environ.get("WEB_CONCURRENCY", "")
    return int(value) if value.isdigit() and int(value) > 0 else 4


@click.command("doctor")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=_default_workers,
    show_default="$WEB_CONCURRENCY, else 4 as in the README's production command",
    help="How many gunicorn workers will serve with this configuration.",
)
@with_appcontext
def doctor_command(workers: int) -> None:
    """Check this configuration against production's needs and say what to fix. Exits 1
    when something must be fixed."""
    findings = doctor.examine(current_app.config, db.session, workers=workers, now=clock.now())
    width = max(len(f.check) for f in findings)
    for finding in findings:
        click.echo(f"{LABELS[finding.level]}  {finding.check:<{width}}  {finding.message}")
    to_fix = sum(f.level == doctor.FIX for f in findings)
    warnings = sum(f.level == doctor.WARN for f in findings)
    assumed = f"{workers} worker{'s' if workers != 1 else ''}"
    click.echo(f"{to_fix} to fix, {warnings} to look at, {assumed} assumed")
    if to_fix:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(doctor_command)
