"""Fixtures: a fresh app and database per test, time pinned, staff of every role.

`db_url` is parametrised over the backends: every test that uses the database runs on a
file-backed SQLite and, where its server binaries exist, on a throwaway PostgreSQL cluster.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import User
from statuspage.security import SESSION_VERSION
from statuspage.seed.defaults import seed_platforms
from statuspage.services import staff
from tests import pg

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
# A secret key long enough for create_app (32 characters or more).
SECRET_KEY = "test-secret-key-long-enough-for-create-app"
# scrypt at N=2^14 instead of OWASP's 2^17: a test hashes in milliseconds, not 0.3 s.
FAST_HASH = "scrypt:16384:8:1"


@pytest.fixture
def now() -> datetime:
    return NOW


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[pg.Cluster]:
    """One throwaway PostgreSQL cluster for the session, started on first use."""
    with pg.cluster() as cluster:
        cluster.make_template(_db.metadata)
        yield cluster


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
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A fresh database per test: a SQLite file, or a PostgreSQL database holding the schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def app(tmp_path, db_url: str, now: datetime) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "PASSWORD_HASH_METHOD": FAST_HASH,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "FIXED_NOW": now,
            "RATELIMIT_ENABLED": False,
            "STATUSPAGE_URL": "http://localhost",
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        _db.create_all()
        seed_platforms(_db.session, now)
        _db.session.commit()
        yield app
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app: Flask) -> Session:
    return _db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def make_user(session: Session, role: str, email: str | None = None) -> User:
    user = staff.create_user(
        session,
        None,
        email=email or f"{role}@example.com",
        role=role,
        password=PASSWORD,
        now=NOW,
        hash_method=FAST_HASH,
    )
    session.commit()
    return user


@pytest.fixture
def admin(db: Session) -> User:
    return make_user(db, "admin")


@pytest.fixture
def css(db: Session) -> User:
    return make_user(db, "css")


@pytest.fixture
def engineer(db: Session) -> User:
    return make_user(db, "engineer")


def login(client: FlaskClient, user: User) -> None:
    """Log a user in through the session, as Flask-Login would after a real login."""
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess[SESSION_VERSION] = user.session_version
    # The fixture's app context outlives requests, so `g` (where the logged-in user is
    # cached) is shared between them: forget the previous user.
    g.pop("_login_user", None)


# --- the database backends in the report ---------------------------------------------


def _backend(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("db_url") if callspec is not None else None


_BACKEND_OF: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        backend = _backend(item)
        if backend is not None:
            _BACKEND_OF[item.nodeid] = backend


_OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """One line per database backend, so both runs show in the output."""
    outcome_of: dict[str, str] = {}
    # A test that passed and then errored in teardown counts once, as an error.
    for outcome in ("failed", "error", "passed", "skipped", "xfailed", "xpassed"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if nodeid in _BACKEND_OF:
                outcome_of.setdefault(nodeid, outcome)
    if not outcome_of:
        return
    counts = {backend: Counter[str]() for backend in BACKENDS}
    for nodeid, outcome in outcome_of.items():
        counts[_BACKEND_OF[nodeid]][outcome] += 1
    parts = []
    for backend in BACKENDS:
        tally = ", ".join(f"{counts[backend][o]} {o}" for o in _OUTCOMES if counts[backend][o])
        parts.append(f"{backend} {tally or 'no tests'}")
    terminalreporter.write_line("database backends: " + "; ".join(parts))


# --- Hypothesis profiles (the property tests, tests/test_text_properties.py and
# tests/test_import_delivery_properties.py) ---------------------------------------------


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
    settings.register_profile("nightly", max_examples=1000, deadline=None, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
