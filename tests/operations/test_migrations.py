"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from statuspage import create_app
from statuspage.extensions import db as _db
from tests.helpers import SECRET_KEY


@pytest.fixture
def blank_app(db_url: str, tmp_path) -> Iterator[Flask]:
    """An app on a database without tables."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": db_url})
    app.instance_path = str(tmp_path / "instance")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = [lg for lg in logging.Logger.manager.loggerDict.values()]
    disabled = {id(lg): lg.disabled for lg in loggers if isinstance(lg, logging.Logger)}
    with app.app_context():
        _db.drop_all()  # PostgreSQL test databases start with the schema
        yield app
        _db.session.remove()
        _db.engine.dispose()
    # Alembic's env.py reconfigures logging for the process; put it back for later tests.
    root.handlers[:], root.level = handlers, level
    for logger in loggers:
        if isinstance(logger, logging.Logger):
            logger.disabled = disabled[id(logger)]


def differences() -> list[object]:
    with _db.engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), _db.metadata))


def tables() -> set[str]:
    return set(inspect(_db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_of_an_empty_database_builds_exactly_the_models_schema(blank_app: Flask):
    assert tables() == set()
    upgrade()
    assert tables() == set(_db.metadata.tables)
    assert differences() == []


def test_downgrade_to_base_and_upgrade_again_round_trips(blank_app: Flask):
    upgrade()
    downgrade(revision="base")
    assert tables() == set()
    upgrade()
    assert differences() == []
