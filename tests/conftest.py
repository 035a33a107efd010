"""Fixtures: a fresh app and database per test, time pinned, staff of every role.

`db_url` is parametrised over the backends: every test that uses the database runs on a
file-backed SQLite and, where its server binaries exist, on a throwaway PostgreSQL cluster.
A test marked `one_backend` (it does not depend on the database: pages in a browser, pure
rendering, subprocess plumbing) runs on SQLite only.

The schema and the default platforms are built once per backend per session, into a
template; each test's database is a copy of it (a file copy for SQLite, `CREATE DATABASE
... TEMPLATE` on PostgreSQL). Rolling each test back through a savepoint would be cheaper
still, but the code under test reads through other connections than the test's session (the
render cache's version read on the engine, delivery threads, gunicorn and `flask` in
subprocesses), and those must see what the test committed.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.extensions import limiter
from statuspage.models import User
from statuspage.seed.defaults import seed_platforms
from tests import pg
from tests.helpers import NOW, app_config, make_user
from tests.sendgrid_server import API_KEY as SENDGRID_KEY
from tests.sendgrid_server import SendGridServer, sendgrid_server

# Fixtures of support modules that tests in several folders use: `jobs` (the maintenance
# notices into a memory mailbox); `receiver`, `guard` and `resolver` (a local webhook
# endpoint, connections only to this machine, names resolved only where a test says).
pytest_plugins = ["tests.maintenance_mailbox", "tests.webhook_receiver"]


@pytest.fixture
def now() -> datetime:
    return NOW


BACKENDS = ["sqlite", "postgresql"]


def _fill(url: str) -> None:
    """Build the schema and seed the default platforms into the (template) database at `url`."""
    app = create_app(app_config(url, NOW))
    with app.app_context():
        _db.create_all()
        seed_platforms(_db.session, NOW)
        _db.session.commit()
        _db.session.remove()
        if url.startswith("sqlite"):
            with _db.engine.connect() as conn:  # the whole database in the main file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        _db.engine.dispose()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    """One throwaway PostgreSQL cluster for the session, started on first use."""
    with pg.cluster() as cluster:
        cluster.make_template(_fill)
        yield cluster


@dataclass
class Slot:
    """One backend's database for this test process: always at the same URL, made fresh from
    the template before each test (`reset`), and the app bound to it, built once."""

    url: str
    reset: Callable[[], None]
    app: Flask | None = None
    config: dict[str, Any] = field(default_factory=dict)
    extensions: frozenset[str] = frozenset()


@pytest.fixture(scope="session")
def sqlite_slot(tmp_path_factory: pytest.TempPathFactory) -> Slot:
    folder = tmp_path_factory.mktemp("sqlite")
    template, path, copy = folder / "template.db", folder / "test.db", folder / "copy.db"
    _fill(f"sqlite:///{template}")

    def reset() -> None:
        # The previous test's connections were closed; one a stray thread still holds keeps
        # the old file (replaced, not overwritten), never the new one.
        for leftover in (path.with_name("test.db-wal"), path.with_name("test.db-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(template, copy)
        os.replace(copy, path)

    return Slot(f"sqlite:///{path}", reset)


@pytest.fixture(scope="session")
def postgresql_slot(pg_cluster: pg.Cluster) -> Slot:
    name = "test_db"

    def reset() -> None:
        pg_cluster.drop_database(name)  # FORCE: ends what the previous test left connected
        pg_cluster.create_database(name=name)

    return Slot(pg_cluster.url(name), reset)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not pg.available(), reason=pg.SKIP_REASON),
            ],
        ),
    ]
)
def db_slot(request: pytest.FixtureRequest) -> Slot:
    """This test's backend, its database made fresh: the schema and the default platforms."""
    slot: Slot = request.getfixturevalue(f"{request.param}_slot")
    slot.reset()
    return slot


@pytest.fixture
def db_url(db_slot: Slot) -> str:
    return db_slot.url


@pytest.fixture
def app(tmp_path: Path, db_slot: Slot, now: datetime) -> Iterator[Flask]:
    """The backend's app, built once per test process (building one costs more than most
    tests: the URL map and the templates are compiled per app) and put back after each test:
    its configuration, its extensions' caches and its database connections."""
    if db_slot.app is None:
        db_slot.app = create_app(app_config(db_slot.url, now))
        db_slot.config = copy.deepcopy(dict(db_slot.app.config))
        db_slot.extensions = frozenset(db_slot.app.extensions)
    app = db_slot.app
    app.config["FIXED_NOW"] = now
    # The limiter is one object for every app of the process: a test's own app may have
    # turned it on (tests/staff/test_auth.py); this one runs without limits.
    limiter.enabled = False
    app.instance_path = str(tmp_path / "instance")
    try:
        with app.app_context():
            yield app
            _db.session.remove()
            _db.engine.dispose()
    finally:
        app.config.clear()
        app.config.update(copy.deepcopy(db_slot.config))
        for name in set(app.extensions) - db_slot.extensions:
            del app.extensions[name]  # the render cache and the like: made again on first use


@pytest.fixture
def own_app(tmp_path: Path, db_url: str, now: datetime) -> Iterator[Flask]:
    """An app of this test's own, on its fresh database: for a test that adds a route to it or
    changes a setting `create_app` reads (the shared `app` must stay as built)."""
    app = create_app(app_config(db_url, now))
    app.instance_path = str(tmp_path / "own-instance")
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def sendgrid(app: Flask) -> Iterator[SendGridServer]:
    """A local server speaking SendGrid's v3 API, and the app pointed at it."""
    with sendgrid_server() as server:
        app.config.update(
            SENDGRID_API_KEY=SENDGRID_KEY, SENDGRID_HOST=server.url, SENDGRID_TIMEOUT=5
        )
        yield server


@pytest.fixture
def db(app: Flask) -> Session:
    return _db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def admin(db: Session) -> User:
    return make_user(db, "admin")


@pytest.fixture
def css(db: Session) -> User:
    return make_user(db, "css")


@pytest.fixture
def engineer(db: Session) -> User:
    return make_user(db, "engineer")


# --- the database backends in the report ---------------------------------------------


def _backend(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("db_slot") if callspec is not None else None


# Tests that do not depend on the database run on one: a browser drawing pages, rendering
# that makes no query worth comparing, subprocess plumbing.
ONE_BACKEND_MARKS = ("one_backend", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept, dropped = [], []
    for item in items:
        one = any(item.get_closest_marker(mark) for mark in ONE_BACKEND_MARKS)
        if one and _backend(item) == "postgresql":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Carried in the report (also from pytest-xdist's workers) for the per-backend summary.
    backend = _backend(item)
    if backend is not None:
        item.user_properties.append(("backend", backend))


_OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per database backend, so both runs show in the output."""
    backend_of: dict[str, str] = {}
    outcome_of: dict[str, str] = {}
    # A test that passed and then errored in teardown counts once, as an error.
    for outcome in ("failed", "error", "passed", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            backend = dict(getattr(report, "user_properties", ())).get("backend")
            if backend is None:
                continue
            backend_of[report.nodeid] = backend
            outcome_of.setdefault(report.nodeid, outcome)
    if not outcome_of:
        return
    counts = {backend: Counter[str]() for backend in BACKENDS}
    for nodeid, outcome in outcome_of.items():
        counts[backend_of[nodeid]][outcome] += 1
    parts = []
    for backend in BACKENDS:
        tally = ", ".join(f"{counts[backend][o]} {o}" for o in _OUTCOMES if counts[backend][o])
        parts.append(f"{backend} {tally or 'no tests'}")
    terminalreporter.write_line("database backends: " + "; ".join(parts))


# --- Hypothesis profiles (the property tests, tests/security/test_text_properties.py and
# tests/subscriptions/test_import_delivery_properties.py) -------------------------------


def pytest_configure(config: pytest.Config) -> None:
    """`make test` runs the "ci" profile: 25 examples a property, derandomised (the examples
    follow from each test's source, so a run passes or fails the same way every time, on
    every machine), no deadline, no example database in the working tree, and a failure
    prints the blob that replays it (`@reproduce_failure`). HYPOTHESIS_PROFILE=nightly
    explores instead: 1,000 random examples a property, a new draw each run, to find what the
    fixed examples do not reach; a failure it finds becomes an explicit `@example`."""
    import os

    from hypothesis import settings

    settings.register_profile(
        "ci", max_examples=25, deadline=None, database=None, derandomize=True, print_blob=True
    )
    # Every setting spelled out: where a CI variable is set, Hypothesis's own defaults
    # are derandomised, and a profile inherits the defaults it does not name.
    settings.register_profile(
        "nightly",
        max_examples=1000,
        deadline=None,
        derandomize=False,
        print_blob=True,
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
