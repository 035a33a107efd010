"""One scheduler, always: a job runs only in the process holding the scheduler lock, checked
with the database as its run is recorded; a lock lost with its session is noticed before the
next job and taken back first by its old holder; a process that another took over from stands
by. (PostgreSQL restarted under real `jobs run` processes:
tests/operations/test_scheduler_failover.py.)
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from jobs import durable
from jobs import lock as job_locks
from jobs import scheduler as job_scheduler
from statuspage.models import SchedulerRun
from tests.helpers import NOW


@pytest.fixture(autouse=True)
def instance_folder(app) -> None:
    os.makedirs(app.instance_path, exist_ok=True)  # each job's own lock file is kept there


def runs(db) -> list[tuple[str, str, str | None]]:
    db.expire_all()
    return [
        (r.job, r.owner, r.outcome)
        for r in db.scalars(select(SchedulerRun).order_by(SchedulerRun.id))
    ]


def holding(lock: job_locks.SchedulerLock) -> job_locks.SchedulerLock:
    stop = threading.Event()
    assert lock.acquire(stop)
    return lock


def ran(app, lock, job: str = "windows", fail: Exception | None = None) -> list[object]:
    calls: list[object] = []

    def fn(session, now):
        calls.append(now)
        if fail is not None:
            raise fail

    job_scheduler.run_exclusive(app, job, fn, lock)
    return calls


def test_a_job_runs_and_is_recorded_only_while_its_process_holds_the_lock(app, db):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        assert ran(app, lock) == [NOW]
        assert runs(db) == [("windows", lock.owner, "ok")]
        run = db.scalars(select(SchedulerRun)).one()
        assert run.started_at == NOW and run.finished_at == NOW
    finally:
        lock.release()
    assert ran(app, lock) == []
    assert len(runs(db)) == 1


def test_a_failed_job_is_recorded_with_its_error(app, db):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        assert len(ran(app, lock, fail=ValueError("no such window"))) == 1
    finally:
        lock.release()
    run = db.scalars(select(SchedulerRun)).one()
    assert (run.outcome, run.error) == ("failed", "ValueError: no such window")


def hand_over(app, holder, standby) -> None:
    """`holder` lets the lock go: `standby`, waiting for it, takes it and runs the jobs."""
    holder.release()
    assert standby.acquire(threading.Event())
    assert len(ran(app, standby)) == 1


def test_a_second_process_stands_by_while_the_first_holds_the_lock(app):
    first = holding(job_locks.scheduler_lock(app))
    second = job_locks.scheduler_lock(app)
    stop = threading.Event()
    try:
        timer = threading.Timer(1.5, stop.set)
        timer.start()
        assert second.acquire(stop) is False  # waited until told to stop
        assert ran(app, second) == []
        hand_over(app, first, second)
    finally:
        first.release()
        second.release()


def test_runs_older_than_a_week_are_forgotten(app, db):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        old = SchedulerRun(job="windows", owner="gone", started_at=NOW - timedelta(days=8))
        recent = SchedulerRun(job="windows", owner="gone", started_at=NOW - timedelta(days=6))
        db.add_all([old, recent])
        db.commit()
        ran(app, lock)
    finally:
        lock.release()
    assert [owner for _, owner, _ in runs(db)] == ["gone", lock.owner]


# --- PostgreSQL: a lock that dies with its session ----------------------------------------


def end_session(db, lock: job_locks.SchedulerLock) -> None:
    """What a restart or a cut network does to the lock's session."""
    ended = db.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"
        ),
        {"name": f"statuspage scheduler {lock.owner}"[:63]},
    ).all()
    db.commit()
    assert ended == [(True,)]
    time.sleep(0.2)


@pytest.fixture
def postgres_only(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("the advisory lock and its session are PostgreSQL's")


def test_a_lock_that_died_with_its_session_is_noticed_before_the_next_job(app, db, postgres_only):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        assert len(ran(app, lock)) == 1
        end_session(db, lock)
        assert ran(app, lock) == []  # not run: the start was not recorded without the lock
        assert lock.held() is False
        # Nobody else holds it: the old holder takes it back, and runs jobs again.
        assert lock.acquire(threading.Event())
        assert len(ran(app, lock)) == 1
    finally:
        lock.release()
    assert len(runs(db)) == 2


def test_the_check_before_each_job_is_the_databases_own_lock_table(app, db, postgres_only):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        holders = db.execute(
            text(
                "SELECT a.application_name FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid::bigint = :key AND l.granted"
            ),
            {"key": job_locks.lock_key("scheduler")},
        ).all()
        db.commit()
        assert holders == [(f"statuspage scheduler {lock.owner}"[:63],)]
        assert lock.held()
    finally:
        lock.release()
    assert not lock.held()


def test_a_holder_another_process_took_over_from_stands_by_and_writes_nothing(
    app, db, postgres_only
):
    old = holding(job_locks.scheduler_lock(app))
    new = job_locks.scheduler_lock(app)
    try:
        end_session(db, old)
        assert new.acquire(threading.Event())  # the standby gets it
        assert old.reclaim() is False  # a job of the old holder stops writing
        with durable.fenced(old.reclaim):
            pass
        assert ran(app, old) == []
        stop = threading.Event()
        threading.Timer(1.5, stop.set).start()
        assert old.acquire(stop) is False  # stands by behind the new holder
        assert len(ran(app, new)) == 1
        hand_over(app, new, old)
    finally:
        old.release()
        new.release()
    assert [owner for _, owner, _ in runs(db)] == [new.owner, old.owner]


def test_a_job_waiting_on_the_database_takes_the_lock_back_itself(app, db, postgres_only):
    lock = holding(job_locks.scheduler_lock(app))
    try:
        end_session(db, lock)
        assert lock.reclaim() is True  # nobody else has it: taken back for the job's write
        assert lock.held()
    finally:
        lock.release()


# --- the scheduler's side: pause while the lock is lost, resume once it is back ----------


class FakeScheduler:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.running = False

    def start(self) -> None:
        self.calls.append("start")
        self.running = True

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")

    def shutdown(self, wait: bool) -> None:
        self.calls.append("shutdown")
        self.running = False


class FlakyLock(job_locks.SchedulerLock):
    """Held, lost once, taken back; then `stop` is set."""

    def __init__(self, stop: threading.Event) -> None:
        self.owner = "fake"
        self.stop = stop
        self.checks = [True, False, True]
        self.acquired = 0
        self.released = False

    def acquire(self, stop: threading.Event) -> bool:
        self.acquired += 1
        return not stop.is_set()

    def held(self) -> bool:
        if not self.checks:
            self.stop.set()
            return True
        return self.checks.pop(0)

    def release(self) -> None:
        self.released = True


@pytest.mark.one_backend
def test_the_scheduler_pauses_while_its_lock_is_lost_and_resumes_once_it_is_back(monkeypatch):
    monkeypatch.setattr(job_scheduler, "CHECK_EVERY", 0.01)
    stop = threading.Event()
    lock, scheduler, said = FlakyLock(stop), FakeScheduler(), []
    job_scheduler.lead(scheduler, lock, stop, say=said.append)
    assert scheduler.calls == ["start", "pause", "resume", "shutdown"]
    assert said == [
        "scheduler lock held; running jobs",
        "scheduler lock lost; running no jobs until it is held again",
        "scheduler lock held; running jobs",
    ]
    assert lock.acquired == 2 and lock.released
