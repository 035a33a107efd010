"""`flask doctor`: the running configuration held against what production needs.

Each check returns one finding: `ok`, `warn` (worth a look, nothing breaks) or `fix` (the
service is unsafe or will misbehave as configured), with what to do. The command exits
non-zero when anything is to fix. Production is the README's: gunicorn with several workers
behind an https proxy, one `jobs run`, PostgreSQL (docs/operations.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from statuspage import readiness
from statuspage.config import LOOPBACK_HOSTS
from statuspage.queries import health
from statuspage.queries import operations as queries

OK, WARN, FIX = "ok", "warn", "fix"
# A database clock further than this from ours moves due times, leases and the
# scheduler's heartbeat.
CLOCK_TOLERANCE = timedelta(seconds=1)
# A key with fewer distinct characters than this is a placeholder, not a random value.
KEY_VARIETY = 12


@dataclass(frozen=True)
class Finding:
    check: str
    level: str  # ok | warn | fix
    message: str


def secret_key(config: Mapping[str, Any], environ: Mapping[str, str]) -> Finding:
    key = str(config.get("SECRET_KEY") or "")
    if not environ.get("SECRET_KEY"):
        return Finding(
            "secret key",
            FIX,
            "the key was generated into the instance folder: set SECRET_KEY to one random "
            "value for every worker and machine (a new checkout or machine would otherwise "
            "sign with another key and void every link mailed)",
        )
    if len(set(key)) < KEY_VARIETY:
        return Finding(
            "secret key",
            FIX,
            f"SECRET_KEY has only {len(set(key))} different characters: a placeholder, not a "
            "random value; set it to e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`",
        )
    return Finding("secret key", OK, f"set in the environment, {len(key)} characters")


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host in ("::1", "[::1]") or host.startswith("127.")


def site_url(config: Mapping[str, Any]) -> Finding:
    url = str(config.get("STATUSPAGE_URL") or "")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return Finding(
            "site address",
            FIX,
            f"STATUSPAGE_URL is {url!r}: every link in mail, feeds and calendars is built "
            "from it, and sign-in cookies are only Secure over https; set it to the https "
            "address readers use",
        )
    if not host or _is_loopback(host):
        return Finding(
            "site address",
            FIX,
            f"STATUSPAGE_URL names {host or 'no host'}: set it to the public name readers use",
        )
    return Finding("site address", OK, url)


def mail_provider(config: Mapping[str, Any]) -> Finding:
    if not config.get("SENDGRID_API_KEY"):
        return Finding(
            "mail provider",
            FIX,
            "SENDGRID_API_KEY is not set: notices are written as files in the instance "
            "folder and reach nobody; set the SendGrid API key",
        )
    host = str(config.get("SENDGRID_HOST") or "")
    if urlsplit(host).scheme != "https":
        return Finding(
            "mail provider",
            FIX,
            f"SENDGRID_HOST is {host!r}: the API key would travel in clear; use "
            "https://api.sendgrid.com",
        )
    return Finding("mail provider", OK, f"SendGrid at {host}")


def proxies(config: Mapping[str, Any]) -> Finding:
    hops = int(config.get("TRUSTED_PROXIES") or 0)
    https = str(config.get("STATUSPAGE_URL") or "").startswith("https://")
    if hops == 0 and https:
        return Finding(
            "proxies",
            FIX,
            "TRUSTED_PROXIES is 0, but the site is https and gunicorn serves plain http: a "
            "proxy ends TLS in front of it. Set TRUSTED_PROXIES to the number of proxies in "
            "front, or every reader shares the proxy's rate limits, https goes unseen and "
            "request ids are not taken from it",
        )
    if hops == 0:
        return Finding("proxies", OK, "no proxy in front (TRUSTED_PROXIES=0)")
    return Finding(
        "proxies",
        OK,
        f"{hops} trusted: make sure exactly that many proxies stand in front and that the "
        "outermost sets X-Forwarded-For and X-Request-Id itself",
    )


def rate_limits(config: Mapping[str, Any], workers: int) -> Finding:
    if not config.get("RATELIMIT_ENABLED", True):
        return Finding(
            "rate limits",
            WARN,
            "rate limits are off (RATELIMIT_ENABLED): sign-in and subscribe are unthrottled",
        )
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if uri.startswith("memory://"):
        if workers > 1:
            return Finding(
                "rate limits",
                FIX,
                f"RATELIMIT_STORAGE_URI is memory:// with {workers} workers: each counts "
                "alone, so every limit is multiplied; point it at redis:// or memcached://",
            )
        return Finding("rate limits", OK, "counted in this process (one worker)")
    try:
        from limits.storage import storage_from_string

        reachable = storage_from_string(uri).check()
    except Exception as exc:
        return Finding(
            "rate limits",
            FIX,
            f"the rate-limit store cannot be used: {type(exc).__name__}: {exc}",
        )
    if not reachable:
        return Finding("rate limits", FIX, "the rate-limit store does not answer")
    return Finding("rate limits", OK, f"shared store at {make_url_safe(uri)}")


def make_url_safe(uri: str) -> str:
    """A store's or database's address without its password."""
    parts = urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return uri


def database(config: Mapping[str, Any], session: Session) -> Finding:
    url = make_url(str(config.get("SQLALCHEMY_DATABASE_URI")))
    where = url.render_as_string(hide_password=True)
    try:
        health.ping(session)
    except Exception as exc:
        session.rollback()
        return Finding(
            "database",
            FIX,
            f"cannot reach {where}: {type(exc).__name__}; check DATABASE_URL and the server",
        )
    session.rollback()
    return Finding("database", OK, f"reached {where}")


def database_kind(config: Mapping[str, Any], workers: int) -> Finding:
    url = make_url(str(config.get("SQLALCHEMY_DATABASE_URI")))
    if url.get_backend_name() == "sqlite" and workers > 1:
        return Finding(
            "database kind",
            FIX,
            f"SQLite with {workers} workers and a scheduler: one writer at a time for every "
            "process, on one machine only; use PostgreSQL (DATABASE_URL=postgresql://...)",
        )
    if url.get_backend_name() == "sqlite":
        return Finding("database kind", OK, "SQLite, one worker (the embedded set-up)")
    return Finding("database kind", OK, url.get_backend_name())


def migrations(session: Session) -> Finding:
    try:
        state = readiness.migrations_state(queries.schema_revision(session))
    except Exception as exc:
        session.rollback()
        return Finding("migrations", FIX, f"cannot read the schema's revision: {exc}")
    if state == "ok":
        return Finding("migrations", OK, "the database is at this code's head")
    if state == "behind":
        return Finding("migrations", FIX, "the database is behind this code: run `flask init`")
    return Finding(
        "migrations",
        FIX,
        "the database's revision is not one of this code's (newer code migrated it, or it "
        "was built without migrations): deploy the matching code, or run `flask init`",
    )


def clock_sync(session: Session, wall: Callable[[], datetime]) -> Finding:
    """The database server's clock against this process's: due times and leases written by
    one process are compared with the clock of another."""
    try:
        before = wall()
        theirs = queries.database_clock(session)
        after = wall()
    except Exception as exc:
        return Finding("clock", FIX, f"cannot read the database's clock: {exc}")
    finally:
        session.rollback()
    if theirs is None:
        return Finding("clock", OK, "SQLite: the database uses this machine's clock")
    ours = before + (after - before) / 2
    skew = theirs - ours
    uncertainty = (after - before) / 2
    if abs(skew) > CLOCK_TOLERANCE + uncertainty:
        return Finding(
            "clock",
            FIX,
            f"the database's clock is {skew.total_seconds():+.1f} s from this machine's: "
            "synchronise both with NTP (chrony, systemd-timesyncd)",
        )
    return Finding(
        "clock", OK, f"within {CLOCK_TOLERANCE.total_seconds():g} s of the database's clock"
    )


def metrics_setup(config: Mapping[str, Any], environ: Mapping[str, str], workers: int) -> Finding:
    if not config.get("METRICS_TOKEN"):
        return Finding(
            "metrics",
            WARN,
            "METRICS_TOKEN is not set: no metrics are served, so nothing alerts when notices "
            "stop leaving (docs/operations.md)",
        )
    directory = environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        if workers > 1:
            return Finding(
                "metrics",
                FIX,
                f"{workers} workers without PROMETHEUS_MULTIPROC_DIR: each scrape would see "
                "one worker's counts; set it to an empty folder shared by the workers and "
                "`jobs run`",
            )
        return Finding("metrics", OK, "served by this one process")
    if not os.path.isdir(directory) or not os.access(directory, os.W_OK):
        return Finding(
            "metrics",
            FIX,
            f"PROMETHEUS_MULTIPROC_DIR {directory!r} is not a folder this user can write",
        )
    return Finding("metrics", OK, f"served, counters shared in {directory}")


def scheduler(session: Session, now: datetime) -> Finding:
    try:
        state = readiness.scheduler_state(session, now)
    except Exception as exc:
        session.rollback()
        return Finding("scheduler", WARN, f"cannot read the jobs' runs: {exc}")
    session.rollback()
    if state == "ok":
        return Finding("scheduler", OK, "heard from lately")
    if state == "never":
        return Finding(
            "scheduler",
            WARN,
            "no job has ever run here: start one `flask jobs run` beside the web workers",
        )
    return Finding(
        "scheduler",
        WARN,
        "no job has run lately: is `flask jobs run` running, and does it reach the database?",
    )


def examine(
    config: Mapping[str, Any],
    session: Session,
    *,
    workers: int,
    environ: Mapping[str, str] | None = None,
    wall: Callable[[], datetime] | None = None,
    now: datetime | None = None,
) -> list[Finding]:
    """Every check, in the order the README's production set-up reads."""
    environ = os.environ if environ is None else environ
    wall = wall or (lambda: datetime.now(UTC))
    findings = [
        secret_key(config, environ),
        site_url(config),
        mail_provider(config),
        proxies(config),
        rate_limits(config, workers),
        database_kind(config, workers),
        reached := database(config, session),
    ]
    if reached.level == OK:
        findings += [
            migrations(session),
            clock_sync(session, wall),
            scheduler(session, now or wall()),
        ]
    findings.append(metrics_setup(config, environ, workers))
    return findings
