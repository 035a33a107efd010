"""The operations tests' fixtures: an app on a database without tables, as `flask init` and
the migrations first meet it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask import Flask

from statuspage import create_app
from statuspage.extensions import db as _db
from tests.helpers import NOW, SECRET_KEY


@pytest.fixture
def blank_app(db_url: str, tmp_path) -> Iterator[Flask]:
    """An app on a database without tables, as `init` first meets it."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "FIXED_NOW": NOW,
            "RATELIMIT_ENABLED": False,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    disabled = {
        name: lg.disabled
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    with app.app_context():
        _db.drop_all()  # PostgreSQL test databases start with the schema
        yield app
        _db.session.remove()
        _db.engine.dispose()
    # Alembic's env.py reconfigures logging for the process; leave it as the next test expects.
    root.handlers[:], root.level = handlers, level
    for name, was in disabled.items():
        logger = logging.Logger.manager.loggerDict.get(name)
        if isinstance(logger, logging.Logger):
            logger.disabled = was
