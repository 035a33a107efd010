"""Configuration: defaults for the embedded setup, overridden by environment variables."""

from __future__ import annotations

import os
from typing import Any


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def load(instance_path: str) -> dict[str, Any]:
    """Return the configuration mapping for an app whose instance folder is `instance_path`.

    Every setting can be overridden with an environment variable of the same name (12-factor);
    the embedded default keeps its SQLite database and outgoing mail in the instance folder.
    """
    database_url = _env("DATABASE_URL", f"sqlite:///{os.path.join(instance_path, 'statuspage.db')}")
    # Heroku-style URLs say "postgres://"; SQLAlchemy wants an explicit driver.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "SECRET_KEY": _env("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # A ping before each use finds connections a server dropped; a SQLite file has none
        # to drop, and the ping would double the cost of a cached read.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not database_url.startswith("sqlite")},
        "SENDGRID_API_KEY": _env("SENDGRID_API_KEY"),
        "SENDGRID_HOST": _env("SENDGRID_HOST", "https://api.sendgrid.com"),
        "SENDGRID_TIMEOUT": float(_env("SENDGRID_TIMEOUT", "10") or 10),
        "MAIL_FROM": _env("MAIL_FROM", "status@status.calltower.com"),
        # SendGrid requests a delivery pass keeps in flight at once (each up to 1,000 people).
        "DELIVERY_CONCURRENCY": int(_env("DELIVERY_CONCURRENCY", "4") or 4),
        # Seconds between delivery passes when no commit wakes it: retries coming due, expired
        # leases, and, on SQLite, mail queued by another process.
        "DELIVERY_INTERVAL": float(_env("DELIVERY_INTERVAL", "10") or 10),
        "CSS_ON_DUTY_EMAIL": _env("CSS_ON_DUTY_EMAIL", "support@calltower.com"),
        "STATUSPAGE_TIMEZONE": _env("STATUSPAGE_TIMEZONE", "America/Denver"),
        # A Tuesday that starts a three-week CallTower Connect sprint cycle.
        "CONNECT_SPRINT_ANCHOR": _env("CONNECT_SPRINT_ANCHOR", "2026-01-06"),
        "STATUSPAGE_PAGE_ID": _env("STATUSPAGE_PAGE_ID", "calltower"),
        "STATUSPAGE_NAME": _env("STATUSPAGE_NAME", "CallTower Network Status"),
        # Links in mail, feeds and calendars; the embedded default serves on PORT.
        "STATUSPAGE_URL": _env("STATUSPAGE_URL", f"http://127.0.0.1:{_env('PORT', '5000')}"),
        # Bodies beyond this are refused with 413 before any view runs.
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024)) or 0),
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env("RATELIMIT_ENABLED", "1") == "1",
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "es", "de"],
        "HISTORY_PAGE_SIZE": 20,
    }
