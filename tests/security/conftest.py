"""What the security tests share: apps a test makes with settings of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from statuspage.extensions import db as _db


@pytest.fixture
def made_apps() -> Iterator[list[Flask]]:
    """The apps a test makes (it appends them); their database connections are closed after
    the test."""
    made: list[Flask] = []
    yield made
    for app in made:
        with app.app_context():
            _db.engine.dispose()
