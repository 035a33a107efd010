"""The network status page and maintenance notice service."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from statuspage import config

# Shorter keys can be guessed offline from one signed cookie.
SECRET_KEY_MIN = 32


def _secret_key(instance_path: str) -> str:
    """The embedded default keeps a generated key in the instance folder across restarts.

    The key is written whole to a temporary file first and then linked into place, so a
    process starting at the same moment reads either no file yet (and links its own, which
    fails because ours is there, so it reads ours) or the whole key, never an empty one.
    """
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd, temporary = tempfile.mkstemp(dir=instance_path, prefix=".secret_key.")  # 0600
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process won the race: its key is complete, use it
            except OSError:  # a filesystem without hard links
                os.replace(temporary, path)
            _fsync_folder(instance_path)
        finally:
            with contextlib.suppress(FileNotFoundError):  # gone if os.replace moved it
                os.unlink(temporary)
    with open(path) as fh:
        return fh.read().strip()


def _fsync_folder(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_secret_key(key: str, *, from_file: str | None) -> None:
    if len(key) >= SECRET_KEY_MIN:
        return
    where = f"the file {from_file}" if from_file else "SECRET_KEY"
    fix = (
        f"delete {from_file} to have a new key generated, or set SECRET_KEY"
        if from_file
        else "set SECRET_KEY to a random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    )
    raise RuntimeError(
        f"refusing to start: the secret key in {where} is "
        f"{'empty' if not key else f'{len(key)} characters'}; "
        f"it must be at least {SECRET_KEY_MIN} characters: {fix}"
    )


def _owner_only(app: Flask) -> None:
    """The instance folder (key, SQLite database, mail files) and the SQLite file are the
    owner's alone. The database file is created empty here (SQLite accepts that) so it never
    exists with the umask's wider mode; its -wal and -shm files take the same mode."""
    # A folder someone else owns (STATUSPAGE_INSTANCE_PATH) is left as it is.
    with contextlib.suppress(PermissionError):
        os.chmod(app.instance_path, 0o700)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    database = url.database
    if not url.drivername.startswith("sqlite") or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(database, 0o600)
    except (FileNotFoundError, PermissionError):  # a folder not there yet: SQLite reports it
        pass


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI. Nothing else."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # STATUSPAGE_INSTANCE_PATH moves the instance folder (SQLite file, job locks, mail files)
    # off the checkout, e.g. for a server a test or benchmark starts.
    instance_path = os.environ.get("STATUSPAGE_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    app.config.from_mapping(config.load(app.instance_path))
    if overrides:
        app.config.from_mapping(overrides)
    if app.config.get("SECRET_KEY") is None:
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)
        _check_secret_key(
            app.config["SECRET_KEY"], from_file=os.path.join(app.instance_path, "secret_key")
        )
    else:
        _check_secret_key(str(app.config["SECRET_KEY"]), from_file=None)
    if app.config.get("SESSION_COOKIE_SECURE") is None:
        app.config["SESSION_COOKIE_SECURE"] = str(app.config["STATUSPAGE_URL"]).startswith(
            "https://"
        )
    if app.config.get("TRUSTED_HOSTS") is None:
        # A request naming any other host is refused (400) before a view runs, so a forged
        # Host or X-Forwarded-Host never reaches a page or the render cache.
        app.config["TRUSTED_HOSTS"] = config.trusted_hosts(
            str(app.config["STATUSPAGE_URL"]), app.config.get("EXTRA_TRUSTED_HOSTS")
        )
    _owner_only(app)
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        # Believe X-Forwarded-For/-Proto/-Host from exactly this many proxies in front.
        # Flask's documented way to wrap its WSGI app, which mypy sees as replacing a method.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )

    # The models register their tables; changes and outbox_signal watch every session's
    # writes (the published data's version, the delivery wake-up).
    from statuspage import changes, models, outbox_signal  # noqa: F401
    from statuspage.extensions import babel, csrf, db, limiter, login_manager, migrate
    from statuspage.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)

    from statuspage import cli, headers, reader, security  # noqa: F401  (user loader)
    from statuspage.renderers import templating
    from statuspage.views import register_blueprints

    templating.init_app(app)
    headers.init_app(app)
    reader.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    # Last, so its middleware is outermost: request ids, latency, logs and metrics.
    from statuspage import observe

    observe.init_app(app)
    return app
