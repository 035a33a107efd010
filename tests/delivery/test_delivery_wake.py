"""A commit that queues mail wakes the delivery job at once, in this process and, on
PostgreSQL, in another (LISTEN/NOTIFY); the poll is only the fallback."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from sqlalchemy import text

from jobs import scheduler as job_scheduler
from statuspage import outbox_signal
from statuspage.extensions import db as _db
from statuspage.services import incidents
from tests.helpers import NOW, open_incident, queue_incident, wait_until
from tests.outbox import add_subscribers, flask


def wait_for(condition: Callable[[], object], seconds: float) -> bool:
    """`wait_until`, looking often: these tests time how soon a commit wakes the job."""
    return wait_until(condition, seconds, step=0.02)


def needs_postgres(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite relies on the in-process wake")


def test_only_a_committed_write_that_queues_mail_wakes(app, db, css):
    woken: list[int] = []
    stop = outbox_signal.subscribe(_db.engine.url, lambda: woken.append(1))
    try:
        queue_incident(db, css)
        db.flush()
        assert woken == []  # flushed, not committed: nobody can see it yet
        db.rollback()
        assert woken == []  # and never will
        incident = open_incident(db, css)
        assert woken == [1]
        incident.title = "Calls failing in Denver"  # a write that queues nothing
        db.commit()
        assert woken == [1]
        with db.begin_nested():  # a savepoint released is not a commit
            incidents.post_update(db, css, incident, body="Found it", now=NOW)
        assert woken == [1]
        db.commit()
        assert woken == [1, 1]
    finally:
        stop()
    open_incident(db, css)  # unsubscribed: no longer called
    assert woken == [1, 1]


def test_a_queued_notice_starts_delivering_within_2_s_despite_a_long_poll(app, db, css, sendgrid):
    app.config["DELIVERY_INTERVAL"] = 3600  # the poll alone would wait an hour
    add_subscribers(db, 1500)
    os.makedirs(app.instance_path, exist_ok=True)  # where the jobs' lock files go
    scheduler = job_scheduler.build_scheduler(app)
    ran: list[str] = []

    def on_run(event: JobExecutionEvent) -> None:
        ran.append(event.job_id)

    scheduler.add_listener(on_run, EVENT_JOB_EXECUTED)
    scheduler.start()  # in this process, as in `serve` or the one web worker
    try:
        assert wait_for(lambda: {"windows", "notices", "p1g", "delivery"} <= set(ran), 30)
        assert sendgrid.attempts == 0
        before = len(ran)
        written = time.monotonic()
        open_incident(db, css)  # the write that queues the notice, then commits
        assert wait_for(lambda: sendgrid.attempts > 0, 10)
        assert time.monotonic() - written < 2
        assert wait_for(lambda: len(sendgrid.recipients()) == 1500, 30)
        time.sleep(1)
        # The job's own writes (deliveries queued, sent, retried) do not wake it again.
        assert 1 <= ran[before:].count("delivery") <= 2
    finally:
        scheduler.shutdown()
    assert sorted(set(sendgrid.recipients())) == sorted(sendgrid.recipients())


def test_a_notify_from_one_connection_wakes_the_listener_on_another(app, db, css, db_url):
    needs_postgres(db_url)
    woken, ready, stop = threading.Event(), threading.Event(), threading.Event()
    listener = threading.Thread(
        target=outbox_signal.listen,
        args=(db_url, woken.set, stop),
        kwargs={"ready": ready, "poll": 0.2},
        daemon=True,
    )
    listener.start()
    try:
        assert ready.wait(10)
        queue_incident(db, css)
        db.flush()
        assert not woken.wait(0.5)  # PostgreSQL holds the NOTIFY until COMMIT
        db.rollback()
        assert not woken.wait(0.5)  # and drops it on rollback
        started = time.monotonic()
        open_incident(db, css)
        assert woken.wait(2)
        assert time.monotonic() - started < 2
    finally:
        stop.set()
        listener.join(timeout=5)
    assert not listener.is_alive()


def test_jobs_run_is_woken_by_a_commit_in_another_process(app, db, css, sendgrid, db_url):
    needs_postgres(db_url)
    add_subscribers(db, 20)
    incident = open_incident(db, css)  # the first pass at start sends this one
    proc = flask(app, sendgrid, "jobs", "run", DELIVERY_INTERVAL="3600")
    try:

        def listening() -> bool:
            query = text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query = :q"
            )
            found = db.scalar(query, {"q": f"LISTEN {outbox_signal.CHANNEL}"})
            db.rollback()
            return bool(found)

        assert wait_for(lambda: len(sendgrid.recipients()) == 20, 60), "no first pass"
        assert wait_for(listening, 30), "jobs run is not listening"
        written = time.monotonic()
        incidents.post_update(db, css, incident, body="Found it", now=NOW)
        db.commit()  # in this process; `jobs run` polls only hourly
        assert wait_for(lambda: len(sendgrid.recipients()) == 40, 10)
        assert time.monotonic() - written < 2
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=20)
