"""Command line: flask --app statuspage init | seed | users | tokens | subscribers | jobs |
backup | restore.

Each command is thin: parse the arguments, call a service with `now` from the clock, commit
once. A mistake the operator can fix ends as a one-line (or one-per-field) error and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, date, datetime, time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import inspect

from statuspage import clock
from statuspage.extensions import db
from statuspage.seed import defaults, demo
from statuspage.services import ValidationError, factors, sessions, staff
from statuspage.services.staff import PASSWORD_MIN

# The first CallTower Connect sprint release the three-weekly series counts from (a Tuesday).
DEFAULT_CONNECT_ANCHOR = date(2026, 1, 6)


def _fail(what: str, exc: ValidationError) -> click.ClickException:
    """Roll back and turn the service's field errors into one message, one line per field."""
    db.session.rollback()
    lines = [f"  {field}: {message}" for field, message in exc.errors.items()]
    return click.ClickException("\n".join([f"{what}:", *lines]))


def _interactive() -> bool:
    """Whether a person is typing: then a password is asked for instead of generated."""
    return sys.stdin.isatty()


def _require_schema() -> None:
    if not inspect(db.engine).has_table("platform"):
        raise click.ClickException(
            "the database has no tables yet; run `flask --app statuspage init` first"
        )


def _connect_anchor(value: date | None) -> date:
    if value is not None:
        return value
    configured = current_app.config.get("CONNECT_SPRINT_ANCHOR")
    if configured:
        return configured if isinstance(configured, date) else date.fromisoformat(configured)
    return DEFAULT_CONNECT_ANCHOR


def _seed_defaults(anchor: date) -> tuple[int, int]:
    return defaults.seed_defaults(
        db.session,
        clock.now(),
        tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
        connect_anchor=anchor,
    )


def _parse_anchor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        anchor = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if anchor.weekday() != 1:
        raise click.BadParameter(f"{value} is not a Tuesday (releases are on Tuesdays)")
    return anchor


anchor_option = click.option(
    "--connect-anchor",
    metavar="YYYY-MM-DD",
    callback=_parse_anchor,
    help="A CallTower Connect release day (a Tuesday) the three-weekly release series counts "
    f"from. Default {DEFAULT_CONNECT_ANCHOR.isoformat()}.",
)


@click.command("init")
@anchor_option
@with_appcontext
def init_command(connect_anchor: date | None) -> None:
    """Create or migrate the database and seed the defaults. Safe to run again."""
    upgrade()
    platforms, series = _seed_defaults(_connect_anchor(connect_anchor))
    db.session.commit()
    click.echo(
        f"Database ready; {platforms} default platforms and {series} maintenance series created."
    )


@click.command("seed")
@click.option("--demo", "demo_data", is_flag=True, help="Fill a new database with a demo page.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="With --demo: print a note and succeed when the database already has data.",
)
@anchor_option
@with_appcontext
def seed_command(demo_data: bool, if_empty: bool, connect_anchor: date | None) -> None:
    """Seed the defaults, or with --demo a lived-in demo page (a new database only)."""
    _require_schema()
    anchor = _connect_anchor(connect_anchor)
    if not demo_data:
        platforms, series = _seed_defaults(anchor)
        db.session.commit()
        click.echo(f"{platforms} default platforms and {series} maintenance series created.")
        return
    if demo.has_data(db.session):
        if if_empty:
            click.echo("The database already has data; the demo was not seeded.")
            return
        raise click.ClickException(
            "the database already holds staff or incidents; the demo only seeds a new database"
        )
    click.echo("Seeding the demo:")
    try:
        result = demo.seed(
            db.session,
            now=clock.now(),
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
            connect_anchor=anchor,
            progress=lambda step: click.echo(f"  - {step}"),
        )
    except ValidationError as exc:
        raise _fail("the demo was not seeded", exc) from None
    db.session.commit()
    click.echo(
        f"Demo ready: {result.incidents} incidents, one master case open, "
        f"{result.windows} maintenance windows, {result.subscribers} subscribers."
    )
    click.echo("Demo logins (the passwords are shown only now):")
    for email, role, password in result.logins:
        click.echo(f"  {role:<9} {email:<22} {password}")
    if result.authenticators:
        click.echo(
            "Admins and CSS then type a code from an authenticator app: add their key to one "
            "(Microsoft or Google Authenticator, 1Password...), or print the current code with"
        )
        click.echo("  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('KEY').now())\"")
        for email, secret in result.authenticators.items():
            click.echo(f"  key for {email}: {secret}")


users_group = AppGroup("users", help="Staff accounts.")


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, help="admin, css or engineer.")
@click.option("--password", help=f"At least {PASSWORD_MIN} characters; asked for when omitted.")
@click.option("--name", default="", help="The name shown to other staff.")
def create_user_command(email: str, role: str, password: str | None, name: str) -> None:
    """Create a staff account.

    Without --password the password is asked for (twice) on a terminal; elsewhere a strong one
    is generated and printed once.
    """
    _require_schema()
    generated = False
    if password is None:
        if _interactive():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(18), True
    try:
        user = staff.create_user(
            db.session, None, email=email, role=role, password=password, name=name, now=clock.now()
        )
    except ValidationError as exc:
        raise _fail("the user was not created", exc) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")
    if generated:
        click.echo(f"Generated password (shown only now): {password}")


@users_group.command("authenticator")
@click.argument("email")
@click.option(
    "--remove",
    is_flag=True,
    help="Remove it instead (a lost phone): the next password sign-in sets up a new one.",
)
def authenticator_command(email: str, remove: bool) -> None:
    """Set up a staff member's authenticator app (the key and ten recovery codes are printed
    once), or remove it; either ends their sessions."""
    _require_schema()
    user = staff.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no staff member has the address {email!r}")
    now = clock.now()
    sessions.end_all(db.session, user, reason="authenticator changed", now=now)
    if remove:
        removed = factors.remove(db.session, None, user, now)
        db.session.commit()
        click.echo(
            f"Removed the authenticator of {user.email}."
            if removed
            else f"{user.email} had no authenticator."
        )
        return
    secret, codes = factors.enrol_by_operator(db.session, user, now)
    db.session.commit()
    click.echo(f"Authenticator key for {user.email} (shown only now): {secret}")
    click.echo("Recovery codes (each signs in once; shown only now):")
    for code in codes:
        click.echo(f"  {code}")


tokens_group = AppGroup("tokens", help="Manage API tokens.")


def _parse_expiry(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> datetime | None:
    """--expires: a number of days, or a date (YYYY-MM-DD, the end of that day in UTC)."""
    if value is None:
        return None
    text = value.strip().lower().removesuffix("d")
    if text.isascii() and text.isdigit():
        return staff.token_expiry(clock.now(), int(text))
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a number of days nor a date") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@tokens_group.command("create")
@click.argument("email")
@click.option(
    "--name",
    default="command line",
    show_default=True,
    help="What the token is for, e.g. the monitoring system.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(staff.TOKEN_SCOPES),
    help="What it may do; repeat for several. Default: every scope (read, write, subscribers).",
)
@click.option(
    "--expires",
    callback=_parse_expiry,
    metavar="DAYS|YYYY-MM-DD",
    help=f"When it stops working: days from now or a date. Default {staff.TOKEN_DAYS} days; "
    f"at most {staff.TOKEN_DAYS_MAX}.",
)
def create_token_command(
    email: str, name: str, scopes: tuple[str, ...], expires: datetime | None
) -> None:
    """Issue a Manage API token for a staff member; it is printed once, as the last line."""
    _require_schema()
    user = staff.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no staff member has the address {email!r}")
    now = clock.now()
    try:
        plaintext, token = staff.create_token(
            db.session,
            None,
            user,
            name=name,
            scopes=scopes or staff.TOKEN_SCOPES,
            expires_at=expires or staff.token_expiry(now, current_app.config["API_TOKEN_DAYS"]),
            now=now,
        )
    except ValidationError as exc:
        raise _fail("the token was not created", exc) from None
    db.session.commit()
    click.echo(
        f"API token {token.prefix}... for {user.email} ({user.role}), scopes "
        f"{token.scopes.replace(' ', ', ')}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC; "
        "store it now:"
    )
    click.echo(plaintext)


def init_app(app: Flask) -> None:
    from statuspage import cli_backup, cli_jobs, cli_ops

    app.cli.add_command(init_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(users_group)
    app.cli.add_command(tokens_group)
    cli_jobs.init_app(app)
    cli_ops.init_app(app)
    cli_backup.init_app(app)
