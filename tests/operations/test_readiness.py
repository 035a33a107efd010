"""/healthz (alive, its contract kept) and /readyz (the database answers, its schema is at the
code's migrations head, the scheduler was heard from within two intervals): cheap, signed in
or not, never cached, and one word per check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from jobs import scheduler as job_scheduler
from statuspage.queries import health
from tests.helpers import NOW, login
from tests.operations.schema import stamp

WORDS = {"ok", "error", "behind", "unknown", "never", "silent"}


def ready(client):
    response = client.get("/readyz")
    return response.status_code, response.get_json()


def test_ready_when_migrated_and_the_scheduler_has_run(app, client, db):
    stamp(db)
    job_scheduler.tick(app, NOW)
    status, body = ready(client)
    assert status == 200
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "scheduler": "ok"},
    }


def test_not_ready_before_the_scheduler_has_ever_run(client, db):
    stamp(db)
    status, body = ready(client)
    assert status == 503 and body["status"] == "error"
    assert body["checks"] == {"database": "ok", "migrations": "ok", "scheduler": "never"}


def test_the_scheduler_is_silent_after_two_of_its_longest_interval(app, client, db):
    stamp(db)
    job_scheduler.tick(app, NOW)  # every job ran at NOW; the longest interval is 60 s
    longest = max(job_scheduler.job_intervals(app).values())
    app.config["FIXED_NOW"] = NOW + timedelta(seconds=2 * longest)
    assert ready(client)[0] == 200
    app.config["FIXED_NOW"] = NOW + timedelta(seconds=2 * longest + 1)
    status, body = ready(client)
    assert status == 503 and body["checks"]["scheduler"] == "silent"


def test_a_failing_job_still_tells_that_the_scheduler_is_alive(app, client, db, monkeypatch):
    stamp(db)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(job_scheduler.p1g, "alert_overdue", broken)
    with pytest.raises(RuntimeError):
        job_scheduler.job_functions(app)["p1g"](db, NOW)  # the only run recorded: a failure
    assert ready(client)[1]["checks"]["scheduler"] == "ok"


def test_not_ready_when_the_database_is_behind_or_not_this_codes(app, client, db):
    job_scheduler.tick(app, NOW)
    assert ready(client)[1]["checks"]["migrations"] == "unknown"  # built without Alembic
    stamp(db, "a3c5e7f9b1d2")  # a revision before the head
    status, body = ready(client)
    assert status == 503 and body["checks"]["migrations"] == "behind"
    db.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    db.commit()
    assert ready(client)[1]["checks"]["migrations"] == "unknown"


def test_not_ready_when_the_database_is_down(client, monkeypatch):
    def down(session):
        raise ConnectionError("connection refused by db.internal:5432 user statuspage")

    monkeypatch.setattr(health, "ping", down)
    status, body = ready(client)
    assert status == 503
    assert body["checks"] == {"database": "error", "migrations": "error", "scheduler": "error"}
    assert "db.internal" not in str(body)


def test_readyz_needs_no_sign_in_is_never_cached_and_says_one_word_a_check(app, client, db, admin):
    stamp(db)
    job_scheduler.tick(app, NOW)
    for signed_in in (False, True):
        if signed_in:
            login(client, admin)
        response = client.get("/readyz")
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers and "Set-Cookie" not in response.headers
        body = response.get_json()
        assert set(body) == {"status", "checks"} and set(body["checks"].values()) <= WORDS
        for secret in ("sqlite", "postgresql", "a3c5e7f9b1d2", app.config["SECRET_KEY"]):
            assert secret not in response.get_data(as_text=True)


def test_healthz_keeps_its_contract_and_is_not_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
