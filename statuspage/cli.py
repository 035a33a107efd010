"""Command line: flask --app statuspage init | seed | users | tokens | subscribers | jobs."""

from __future__ import annotations

import click
from flask import Flask
from flask_migrate import upgrade

from statuspage import clock
from statuspage.extensions import db
from statuspage.services import platforms as platform_service


@click.command("init")
def init_command() -> None:
    """Create or migrate the database and seed the defaults."""
    upgrade()
    created = platform_service.seed_defaults(db.session, clock.now())
    db.session.commit()
    click.echo(f"Database ready; {created} default platforms created.")


def init_app(app: Flask) -> None:
    from statuspage import cli_jobs

    app.cli.add_command(init_command)
    cli_jobs.init_app(app)
