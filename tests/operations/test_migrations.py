"""The Alembic migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from statuspage.extensions import db as _db


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
