"""`flask doctor`: each check of the configuration against production's needs, what it tells
the operator to do, and the exit status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from jobs import scheduler as job_scheduler
from statuspage import doctor
from statuspage.queries import health
from tests.helpers import NOW
from tests.operations.schema import stamp

RANDOM_KEY = "Xq3v9LkP2mZr7TbW1cYe5UaN8sGd4HfJ0oIiKlMnBvCx"
PUBLIC_HTTPS = "https://status.example.com"


def levels(findings: list[doctor.Finding]) -> dict[str, str]:
    return {f.check: f.level for f in findings}


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("environ", "key", "level", "says"),
    [
        ({}, RANDOM_KEY, doctor.FIX, "set SECRET_KEY"),
        ({"SECRET_KEY": "a" * 40}, "a" * 40, doctor.FIX, "placeholder"),
        ({"SECRET_KEY": "changeme" * 5}, "changeme" * 5, doctor.FIX, "placeholder"),
        ({"SECRET_KEY": RANDOM_KEY}, RANDOM_KEY, doctor.OK, "set in the environment"),
    ],
)
def test_the_secret_key_must_come_from_the_environment_and_be_random(environ, key, level, says):
    finding = doctor.secret_key({"SECRET_KEY": key}, environ)
    assert finding.level == level and says in finding.message


@pytest.mark.one_backend
@pytest.mark.parametrize(
    ("url", "level"),
    [
        ("http://status.example.com", doctor.FIX),
        ("http://127.0.0.1:5000", doctor.FIX),
        ("https://localhost", doctor.FIX),
        ("https://127.0.0.1", doctor.FIX),
        (PUBLIC_HTTPS, doctor.OK),
    ],
)
def test_the_site_address_must_be_public_https(url, level):
    assert doctor.site_url({"STATUSPAGE_URL": url}).level == level


@pytest.mark.one_backend
def test_the_mail_provider_needs_its_key_over_https():
    unset = doctor.mail_provider({"SENDGRID_API_KEY": None})
    assert unset.level == doctor.FIX and "reach nobody" in unset.message
    clear = doctor.mail_provider({"SENDGRID_API_KEY": "SG.x", "SENDGRID_HOST": "http://mail"})
    assert clear.level == doctor.FIX and "in clear" in clear.message
    good = {"SENDGRID_API_KEY": "SG.x", "SENDGRID_HOST": "https://api.sendgrid.com"}
    assert doctor.mail_provider(good).level == doctor.OK


@pytest.mark.one_backend
def test_an_https_site_without_trusted_proxies_is_told_to_set_them():
    behind = doctor.proxies({"STATUSPAGE_URL": PUBLIC_HTTPS, "TRUSTED_PROXIES": 0})
    assert behind.level == doctor.FIX and "TRUSTED_PROXIES" in behind.message
    assert doctor.proxies({"STATUSPAGE_URL": PUBLIC_HTTPS, "TRUSTED_PROXIES": 1}).level == "ok"
    assert doctor.proxies({"STATUSPAGE_URL": "http://x", "TRUSTED_PROXIES": 0}).level == "ok"


@pytest.mark.one_backend
def test_several_workers_need_a_shared_rate_limit_store():
    memory = {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}
    several = doctor.rate_limits(memory, workers=4)
    assert several.level == doctor.FIX and "4 workers" in several.message
    assert doctor.rate_limits(memory, workers=1).level == doctor.OK
    off = doctor.rate_limits({"RATELIMIT_ENABLED": False}, workers=4)
    assert off.level == doctor.WARN


@pytest.mark.one_backend
def test_a_shared_rate_limit_store_that_does_not_answer_is_to_fix():
    # Port 1 on loopback: nothing listens (or the client library is missing); either way
    # the store cannot be used, and the password is not repeated.
    unreachable = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://:hunter2@127.0.0.1:1",
    }
    finding = doctor.rate_limits(unreachable, workers=4)
    assert finding.level == doctor.FIX and "hunter2" not in finding.message


@pytest.mark.one_backend
def test_sqlite_is_refused_for_several_workers():
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/statuspage.db"}
    assert doctor.database_kind(sqlite, workers=4).level == doctor.FIX
    assert doctor.database_kind(sqlite, workers=1).level == doctor.OK
    postgres = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u:p@db/statuspage"}
    assert doctor.database_kind(postgres, workers=4).level == doctor.OK


def test_an_unreachable_database_is_to_fix_and_the_checks_that_need_it_wait(app, db, monkeypatch):
    def down(session):
        raise ConnectionError("refused")

    monkeypatch.setattr(health, "ping", down)
    found = levels(doctor.examine(app.config, db, workers=1, environ={}))
    assert found["database"] == doctor.FIX
    assert "migrations" not in found and "clock" not in found and "scheduler" not in found


def test_migrations_behind_or_missing_are_to_fix(db):
    missing = doctor.migrations(db)
    assert missing.level == doctor.FIX and "flask init" in missing.message
    stamp(db, "a3c5e7f9b1d2")
    behind = doctor.migrations(db)
    assert behind.level == doctor.FIX and "behind" in behind.message


def test_migrations_at_the_head_are_ok(db):
    stamp(db)
    assert doctor.migrations(db).level == doctor.OK


def test_the_database_clock_is_compared_with_ours(db):
    real = doctor.clock_sync(db, lambda: datetime.now(UTC))
    assert real.level == doctor.OK
    ahead = doctor.clock_sync(db, lambda: datetime.now(UTC) + timedelta(minutes=5))
    if db.get_bind().dialect.name == "postgresql":
        assert ahead.level == doctor.FIX and "-300" in ahead.message and "NTP" in ahead.message
    else:  # a SQLite file has no clock of its own
        assert ahead.level == doctor.OK and "SQLite" in ahead.message


def test_a_scheduler_never_or_no_longer_heard_from_is_worth_a_look(app, db):
    assert doctor.scheduler(db, NOW).level == doctor.WARN
    job_scheduler.tick(app, NOW)
    assert doctor.scheduler(db, NOW).level == doctor.OK
    silent = doctor.scheduler(db, NOW + timedelta(minutes=10))
    assert silent.level == doctor.WARN and "jobs run" in silent.message


@pytest.mark.one_backend
def test_metrics_under_several_workers_need_a_shared_folder(tmp_path):
    token = {"METRICS_TOKEN": "t" * 40}
    assert doctor.metrics_setup({}, {}, workers=4).level == doctor.WARN
    alone = doctor.metrics_setup(token, {}, workers=4)
    assert alone.level == doctor.FIX and "PROMETHEUS_MULTIPROC_DIR" in alone.message
    assert doctor.metrics_setup(token, {}, workers=1).level == doctor.OK
    missing = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "none")}
    assert doctor.metrics_setup(token, missing, workers=4).level == doctor.FIX
    shared = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    assert doctor.metrics_setup(token, shared, workers=4).level == doctor.OK


def test_doctor_exits_1_and_says_what_to_fix(runner):
    result = runner.invoke(args=["doctor", "--workers", "4"])
    assert result.exit_code == 1
    assert "FIX   secret key" in result.output and "FIX   site address" in result.output
    assert "to fix" in result.output.splitlines()[-1]


def test_doctor_exits_0_for_a_production_configuration(app, runner, db, monkeypatch):
    stamp(db)
    job_scheduler.tick(app, NOW)
    monkeypatch.setenv("SECRET_KEY", RANDOM_KEY)
    app.config.update(
        SECRET_KEY=RANDOM_KEY,
        STATUSPAGE_URL=PUBLIC_HTTPS,
        SENDGRID_API_KEY="SG.key",
        SENDGRID_HOST="https://api.sendgrid.com",
        TRUSTED_PROXIES=1,
        RATELIMIT_ENABLED=True,
    )
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    result = runner.invoke(args=["doctor", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "FIX" not in result.output
    assert "ok    scheduler" in result.output and "warn  metrics" in result.output
