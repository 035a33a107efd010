"""The network status page and maintenance notice service."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from statuspage import config


def _secret_key(instance_path: str) -> str:
    """The embedded default keeps a generated key in the instance folder across restarts."""
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    with open(path) as fh:
        return fh.read().strip()


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
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.load(app.instance_path))
    if overrides:
        app.config.from_mapping(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.instance_path)

    from statuspage import changes, models  # noqa: F401  (tables; the version bump on writes)
    from statuspage.extensions import babel, csrf, db, limiter, login_manager, migrate
    from statuspage.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)

    from statuspage import cli, security, templating  # noqa: F401  (security: user loader)
    from statuspage.views import register_blueprints

    templating.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app
