"""Configuration: defaults for the embedded setup, overridden by environment variables."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Any, overload
from urllib.parse import urlsplit

from statuspage import channels
from statuspage.i18n import DEFAULT_CHAT_HOURS
from statuspage.outage import POSTGRESQL_CONNECT_ARGS

# The names of this machine: a site whose address is one of them (the embedded default,
# a developer's machine, the tests) is also reached by the others.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


@overload
def _env(name: str) -> str | None: ...
@overload
def _env(name: str, default: str) -> str: ...
@overload
def _env(name: str, default: str | None) -> str | None: ...
def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _flag(name: str) -> bool | None:
    value = _env(name)
    return None if value is None else value.lower() in ("1", "true", "yes", "on")


def trusted_hosts(site_url: str, extra: str | None) -> list[str]:
    """The `Host` names the app answers (Flask's TRUSTED_HOSTS; any other is refused with 400):
    STATUSPAGE_URL's host, every loopback name when that host is a loopback name, and the
    names in EXTRA_TRUSTED_HOSTS (commas or spaces; a leading dot accepts every subdomain).
    Ports are not compared."""
    host = (urlsplit(site_url).hostname or "").lower()
    if ":" in host:  # an IPv6 address, as the Host header writes it
        host = f"[{host}]"
    hosts = [host] if host else []
    if host in LOOPBACK_HOSTS:
        hosts += [name for name in LOOPBACK_HOSTS if name != host]
    for name in re.split(r"[\s,]+", extra or ""):
        if name and name.lower() not in hosts:
            hosts.append(name.lower())
    return hosts


def _minutes(value: str | None) -> float:
    """A number of minutes, at least one: a bad value stops the app at start."""
    minutes = float(value or 15)
    if not minutes >= 1:
        raise ValueError("OVERDUE_REMINDER_MINUTES must be a number of minutes, at least 1")
    return minutes


def _words(value: str | None) -> list[str]:
    """A space- (or comma-) separated setting as a list."""
    return (value or "").replace(",", " ").split()


STAFF_ROLES = ("admin", "css", "engineer")


def role_map(text: str | None) -> dict[str, str]:
    """OIDC_ROLE_MAP: `value=role` pairs (spaces or commas between them) mapping values of
    the role claim to staff roles. A pair whose role is none of the staff roles stops the app
    at start, naming it."""
    mapping: dict[str, str] = {}
    for pair in _words(text):
        value, sep, role = pair.rpartition("=")
        if not sep or not value or role not in STAFF_ROLES:
            raise ValueError(
                f"OIDC_ROLE_MAP: {pair!r} is not value=role with a role of "
                + ", ".join(STAFF_ROLES)
            )
        mapping[value] = role
    return mapping


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
        # to drop, and the ping would double the cost of a cached read. PostgreSQL
        # connections also give up on a server that stopped answering within seconds.
        "SQLALCHEMY_ENGINE_OPTIONS": (
            {}
            if database_url.startswith("sqlite")
            else {"pool_pre_ping": True, "connect_args": dict(POSTGRESQL_CONNECT_ARGS)}
        ),
        "SENDGRID_API_KEY": _env("SENDGRID_API_KEY"),
        "SENDGRID_HOST": _env("SENDGRID_HOST", "https://api.sendgrid.com"),
        "SENDGRID_TIMEOUT": float(_env("SENDGRID_TIMEOUT", "10") or 10),
        "MAIL_FROM": _env("MAIL_FROM", "status@status.calltower.com"),
        # SendGrid requests a delivery pass keeps in flight at once (each up to 1,000 people).
        "DELIVERY_CONCURRENCY": int(_env("DELIVERY_CONCURRENCY", "4") or 4),
        # Seconds between delivery passes when no commit wakes it: retries coming due, expired
        # leases, and, on SQLite, mail queued by another process.
        "DELIVERY_INTERVAL": float(_env("DELIVERY_INTERVAL", "10") or 10),
        # Webhook subscribers: seconds an endpoint has to answer 2xx, and whether http URLs
        # to loopback addresses are allowed (a receiver on this machine; tests). Off in
        # production: only https to public addresses is ever called.
        "WEBHOOK_TIMEOUT": float(_env("WEBHOOK_TIMEOUT", "10") or 10),
        "WEBHOOK_ALLOW_LOOPBACK": bool(_flag("WEBHOOK_ALLOW_LOOPBACK")),
        # Ports a webhook or channel URL may name (space-separated): 443 only by default. A
        # value that is not a number stops the app at start.
        "WEBHOOK_PORTS": [int(port) for port in _words(_env("WEBHOOK_PORTS", "443"))],
        "CSS_ON_DUTY_EMAIL": _env("CSS_ON_DUTY_EMAIL", "support@calltower.com"),
        # While a master case's update is overdue, the on-duty list is reminded this often.
        "OVERDUE_REMINDER_MINUTES": _minutes(_env("OVERDUE_REMINDER_MINUTES", "15")),
        "STATUSPAGE_TIMEZONE": _env("STATUSPAGE_TIMEZONE", "America/Denver"),
        # A Tuesday that starts a three-week CallTower Connect sprint cycle.
        "CONNECT_SPRINT_ANCHOR": _env("CONNECT_SPRINT_ANCHOR", "2026-01-06"),
        "STATUSPAGE_PAGE_ID": _env("STATUSPAGE_PAGE_ID", "calltower"),
        "STATUSPAGE_NAME": _env("STATUSPAGE_NAME", "CallTower Network Status"),
        # The Client Support Plan's contacts, shown in every page's footer and on /help.
        "SUPPORT_PHONE": _env("SUPPORT_PHONE", "(800) 347-5444"),
        # A number for readers of each other language (e.g. "+34 91 123 45 67"), shown before
        # the main one on their pages; unset, they see the main one, said to be toll-free
        # from the US and Canada.
        "SUPPORT_PHONE_ES": _env("SUPPORT_PHONE_ES", ""),
        "SUPPORT_PHONE_DE": _env("SUPPORT_PHONE_DE", ""),
        "SUPPORT_PORTAL_URL": _env("SUPPORT_PORTAL_URL", "http://support.calltower.com"),
        "SUPPORT_CHAT_HOURS": _env("SUPPORT_CHAT_HOURS", DEFAULT_CHAT_HOURS),
        # The chat hours in each other language; unset, the default hours are shown in the
        # page's language (the catalogs have them) and hours set above as they are written.
        "SUPPORT_CHAT_HOURS_ES": _env("SUPPORT_CHAT_HOURS_ES", ""),
        "SUPPORT_CHAT_HOURS_DE": _env("SUPPORT_CHAT_HOURS_DE", ""),
        # Every absolute link (pages, mail, feeds, calendars, cards); the embedded default
        # serves on PORT. Its host is the one the app answers (see trusted_hosts).
        "STATUSPAGE_URL": _env("STATUSPAGE_URL", f"http://127.0.0.1:{_env('PORT', '5000')}"),
        # Further Host names answered besides STATUSPAGE_URL's (an internal name the load
        # balancer's health check uses, say); every other Host is refused with 400.
        "EXTRA_TRUSTED_HOSTS": _env("EXTRA_TRUSTED_HOSTS", ""),
        # Renders of public pages one client may cause (a page already rendered for the
        # current data costs nothing); past it, 429. Empty: no limit.
        "PUBLIC_RENDER_LIMIT": _env("PUBLIC_RENDER_LIMIT", "60 per minute"),
        # Bodies beyond this are refused with 413 before any view runs.
        "MAX_CONTENT_LENGTH": int(_env("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024)) or 0),
        # Rate-limit counters. memory:// is per process: right for the embedded default (one
        # worker); several workers or machines share redis://host:6379 or memcached://host:11211.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _env("RATELIMIT_ENABLED", "1") == "1",
        # Proxies in front of the app (load balancer, nginx) whose X-Forwarded-For, -Proto and
        # -Host are believed: the client address (rate limits), https (cookies, HSTS) and host.
        # 0 ignores the headers: anyone can send them.
        "TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0") or 0),
        # A bearer token the metrics scraper sends (Authorization: Bearer ...); unset, /metrics
        # is not served at all (404). At least 32 characters. See docs/operations.md.
        "METRICS_TOKEN": _env("METRICS_TOKEN"),
        # Log lines on stderr: DEBUG, INFO, WARNING, ERROR; `json` (one object per line),
        # `text`, or `auto` (text when stderr is a terminal, else JSON).
        "LOG_LEVEL": _env("LOG_LEVEL", "INFO"),
        "LOG_FORMAT": _env("LOG_FORMAT", "auto"),
        # Origins (space-separated) allowed to frame the embed (/embed, docs/embed.md); empty:
        # any site may (it is read-only public information). Every other page is framed by
        # this site only, staff pages never.
        "FRAME_ANCESTORS": _env("FRAME_ANCESTORS", ""),
        # werkzeug's method for new password hashes: OWASP's scrypt parameters. Tests lower it.
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD", "scrypt:131072:8:1"),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # None: Secure exactly when STATUSPAGE_URL is https (decided in create_app).
        "SESSION_COOKIE_SECURE": _flag("SESSION_COOKIE_SECURE"),
        # A staff sign-in lasts a working day.
        "PERMANENT_SESSION_LIFETIME": timedelta(
            hours=float(_env("SESSION_LIFETIME_HOURS", "12") or 12)
        ),
        # Single sign-on through OpenID Connect (README, "Single sign-on"): the issuer (its
        # discovery document is ISSUER/.well-known/openid-configuration), this app's client id
        # and secret at the provider, the scopes asked for, the claim roles come from
        # (`roles` for Entra ID's app roles, or `groups`), and which of its values mean which
        # role (`value=role` pairs; by default the values `admin`, `css` and `engineer`).
        # Off while OIDC_ISSUER or OIDC_CLIENT_ID is unset.
        "OIDC_ISSUER": _env("OIDC_ISSUER", ""),
        "OIDC_CLIENT_ID": _env("OIDC_CLIENT_ID", ""),
        "OIDC_CLIENT_SECRET": _env("OIDC_CLIENT_SECRET", ""),
        "OIDC_SCOPES": _env("OIDC_SCOPES", "openid email profile"),
        "OIDC_ROLE_CLAIM": _env("OIDC_ROLE_CLAIM", "roles"),
        "OIDC_ROLE_MAP": role_map(_env("OIDC_ROLE_MAP", "admin=admin css=css engineer=engineer")),
        # Minutes a directory sign-in lasts before the next request asks the directory again
        # (silently while the provider's own sign-in holds): a staff member removed from the
        # role's group loses access then, not when the cookie expires.
        "OIDC_RECHECK_MINUTES": float(_env("OIDC_RECHECK_MINUTES", "60") or 60),
        # Seconds the provider has to answer the discovery, key and token requests.
        "OIDC_TIMEOUT": float(_env("OIDC_TIMEOUT", "10") or 10),
        # Passwords: "off" leaves them only to the break-glass admins named in
        # BREAK_GLASS_ADMINS (addresses, spaces or commas), for when the directory is down.
        "LOCAL_LOGIN": (_env("LOCAL_LOGIN", "on") or "on").lower() not in ("off", "0", "no"),
        "BREAK_GLASS_ADMINS": _words(_env("BREAK_GLASS_ADMINS", "")),
        # Days a new Manage API token lasts unless its maker says otherwise (at most 366).
        "API_TOKEN_DAYS": int(_env("API_TOKEN_DAYS", "90") or 90),
        "BABEL_DEFAULT_LOCALE": "en",
        # The compiled catalogs inside the package (relative to it): `make` builds the .mo files.
        "BABEL_TRANSLATION_DIRECTORIES": "translations",
        "LANGUAGES": ["en", "es", "de"],
        "HISTORY_PAGE_SIZE": 20,
        # Each channel's own settings (`Channel.settings`), from the environment too: the
        # hosts a Teams or Slack channel may be on, a provider's account... See
        # docs/channels.md.
        **channels.settings_from(os.environ),
    }
