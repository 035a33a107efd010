"""APScheduler wiring. Every job is a thin call of an idempotent function of `now`.

One scheduler, always: a started scheduler runs jobs only while its process holds the
scheduler lock (`jobs.lock`; `lead` below), and writes each run's start to the job table in
the same step as it checks that it still holds the lock, so a lock lost to a database restart
or a network cut is noticed before the next job; the process then runs nothing until it holds
the lock again. A second `jobs run` (or `serve`) stands by and takes over when the first
stops. Each job also takes a lock of its own (try, skip if taken), against a `jobs tick` run
by hand beside the scheduler: a transaction-independent advisory lock on PostgreSQL, a file
lock in the instance folder on SQLite. Correctness never depends on these locks: the
outbox's unique keys and the delivery leases hold when two runners overlap anyway.

Waking delivery: the delivery job polls every `DELIVERY_INTERVAL` seconds, but a commit that
queues mail runs it at once (see `statuspage.outbox_signal`). A started scheduler subscribes
a `DeliveryWake` for its database, called after such commits in this process (the embedded
`serve`, or the one web worker the scheduler runs in), and on PostgreSQL it also keeps a
thread LISTENing for the NOTIFY those commits send from any process (`jobs run` beside web
workers). A wake moves the job's next run to now. The delivery job may have one run waiting
behind the one running (`max_instances=2` on a one-thread executor), so a wake arriving
mid-pass is not lost, and wakes arriving before the waiting run starts merge into it.
`jobs tick` starts no scheduler: a pass stays a function of the `now` it is given.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN, EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from jobs import delivery, durable, heartbeat, p1g
from jobs.lock import SchedulerLock
from statuspage import clock, outbox_signal
from statuspage.extensions import db
from statuspage.services import maintenance, notices

log = logging.getLogger(__name__)

INTERVALS = {"windows": 60, "notices": 30, "delivery": 10, "p1g": 60}
CHECK_EVERY = 1.0  # seconds between a running scheduler's checks that it holds its lock
# Requests one delivery pass makes at most, so the other jobs get their turn during a large
# fan-out; a pass that made them all is followed at once by the next (`run_delivery_job`).
PASS_BATCHES = 100


def delivery_context(app: Flask) -> delivery.DeliveryContext:
    """The app's delivery: its links and settings; each channel makes its transport from
    them when first needed (`Channel.transport`)."""
    config = app.config
    return delivery.DeliveryContext(
        base_url=config["STATUSPAGE_URL"].rstrip("/"),
        secret=config["SECRET_KEY"],
        provider_tz=config["STATUSPAGE_TIMEZONE"],
        settings=config,
        instance_path=app.instance_path,
        concurrency=int(config.get("DELIVERY_CONCURRENCY", delivery.CONCURRENCY)),
        page_id=config["STATUSPAGE_PAGE_ID"],
        site_name=config["STATUSPAGE_NAME"],
    )


@dataclass
class TickReport:
    windows_created: int = 0
    windows_changed: int = 0
    notices_queued: int = 0
    alerts: int = 0
    deliveries_made: int = 0
    delivery: delivery.DeliveryReport = field(default_factory=delivery.DeliveryReport)


class JobFunctions(TypedDict):
    """The jobs by name, each a function of (session, now) returning what it did."""

    windows: Callable[[Session, datetime], tuple[int, int]]
    notices: Callable[[Session, datetime], int]
    p1g: Callable[[Session, datetime], int]
    delivery: Callable[[Session, datetime], tuple[int, delivery.DeliveryReport]]


def job_intervals(app: Flask) -> dict[str, float]:
    """Seconds between two runs of each job (the delivery job's from DELIVERY_INTERVAL)."""
    return {
        **INTERVALS,
        "delivery": float(app.config.get("DELIVERY_INTERVAL", INTERVALS["delivery"])),
    }


def job_functions(app: Flask) -> JobFunctions:
    config = app.config
    ctx = delivery_context(app)

    def run_windows(session: Session, now: datetime) -> tuple[int, int]:
        """Materialise every active series' windows for the coming 400 days, then start the
        windows whose start has come and complete those whose end has passed: (windows
        created, windows changed). Commits after each."""
        created = maintenance.expand_series(session, now)
        session.commit()
        changed = maintenance.advance_windows(session, now)
        session.commit()
        return created, len(changed)

    def run_notices(session: Session, now: datetime) -> int:
        """Queue the due one-week, 24-hour, start and completion notices (idempotent)."""
        made = notices.queue_due_window_notices(session, now, config["STATUSPAGE_TIMEZONE"])
        session.commit()
        return len(made)

    def run_p1g(session: Session, now: datetime) -> int:
        every = timedelta(minutes=float(config.get("OVERDUE_REMINDER_MINUTES") or 15))
        return p1g.alert_overdue(session, now, config["CSS_ON_DUTY_EMAIL"], every)

    def run_delivery(session: Session, now: datetime) -> tuple[int, delivery.DeliveryReport]:
        return (
            delivery.fan_out(session, now),
            delivery.deliver(session, now, ctx, max_batches=PASS_BATCHES),
        )

    every = job_intervals(app)
    # Each run under its own id, counted and recorded: the scheduler's heartbeat.
    return JobFunctions(
        windows=heartbeat.observed("windows", every["windows"], run_windows),
        notices=heartbeat.observed("notices", every["notices"], run_notices),
        p1g=heartbeat.observed("p1g", every["p1g"], run_p1g),
        delivery=heartbeat.observed("delivery", every["delivery"], run_delivery),
    )


def tick(app: Flask, now: datetime) -> TickReport:
    """One pass of every job for `now`, in dependency order."""
    fns = job_functions(app)
    report = TickReport()
    with app.app_context():
        session = db.session
        report.windows_created, report.windows_changed = fns["windows"](session, now)
        report.notices_queued = fns["notices"](session, now)
        report.alerts = fns["p1g"](session, now)
        report.deliveries_made, report.delivery = fns["delivery"](session, now)
        session.remove()
    return report


def _lock_key(name: str) -> int:
    return zlib.crc32(f"statuspage:{name}".encode())


@contextmanager
def exclusive(app: Flask, name: str, *, wait: bool = False) -> Iterator[bool]:
    """Hold the lock `name` for the block; yields False if another holder has it (no wait)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(name)})
                acquired = True
            else:
                acquired = bool(
                    conn.execute(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": _lock_key(name)}
                    ).scalar()
                )
            conn.commit()
            try:
                yield acquired
            finally:
                if acquired:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(name)})
                    conn.commit()
        return
    path = os.path.join(app.instance_path, f"jobs-{name}.lock")
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_exclusive(
    app: Flask,
    name: str,
    fn: Callable[[Session, datetime], object],
    lock: SchedulerLock | None = None,
) -> object:
    """Run one job now, unless another runner is in the middle of the same job or, for a
    scheduler holding `lock`, unless that lock is no longer this process's (checked with the
    database as the run's start is recorded). Returns what the job returned, or None."""
    with app.app_context():
        try:
            with exclusive(app, name) as acquired:
                if not acquired:
                    log.info("job %s is running elsewhere; skipped", name)
                    return None
                if lock is None:
                    return fn(db.session, clock.now())
                run = lock.begin(name, clock.now())
                if run is None:
                    log.warning("job %s not run: this process no longer holds the lock", name)
                    return None
                outcome, error = "failed", None
                try:
                    with durable.fenced(lock.reclaim):
                        result = fn(db.session, clock.now())
                    outcome = "ok"
                    return result
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    raise
                finally:
                    lock.finish(run, clock.now(), outcome, error)
        except Exception:  # a failed pass is retried by the next one; the data says what's due
            log.exception("job %s failed", name)
            with suppress(Exception):  # the connection may be gone with the database
                db.session.rollback()
            return None
        finally:
            db.session.remove()


def lead(
    scheduler: BaseScheduler,
    lock: SchedulerLock,
    stop: threading.Event,
    say: Callable[[str], None] = log.info,
) -> None:
    """Run `scheduler`'s jobs while this process holds `lock`, until `stop` is set: wait
    for the lock, start (or resume) the jobs, check the lock every `CHECK_EVERY` seconds,
    pause the jobs when it is lost and wait for it again. On the way out, a job that is
    running finishes, then the lock is released."""
    started = False
    try:
        while lock.acquire(stop):
            say("scheduler lock held; running jobs")
            if started:
                scheduler.resume()
            else:
                scheduler.start()
                started = True
            while not stop.wait(CHECK_EVERY) and lock.held():
                pass
            if stop.is_set():
                break
            scheduler.pause()
            say("scheduler lock lost; running no jobs until it is held again")
    finally:
        if started and scheduler.running:
            scheduler.shutdown(wait=True)
        lock.release()


class DeliveryWake:
    """Runs the scheduler's delivery job now; a wake before that run starts merges into it."""

    def __init__(self, scheduler: BaseScheduler) -> None:
        self.scheduler = scheduler
        self._lock = threading.Lock()
        self._waiting = False

    def __call__(self) -> None:
        with self._lock:
            if self._waiting:
                return
            self._waiting = True
        try:
            self.scheduler.modify_job("delivery", next_run_time=datetime.now(UTC))
        except Exception:  # shut down meanwhile: the next start runs delivery anyway
            self.started()
            log.warning("could not wake the delivery job", exc_info=True)

    def started(self) -> None:
        with self._lock:
            self._waiting = False


def run_delivery_job(
    wake: DeliveryWake,
    app: Flask,
    name: str,
    fn: Callable[[Session, datetime], object],
    lock: SchedulerLock | None = None,
) -> None:
    wake.started()  # from here on, a new wake asks for another run after this one
    result = run_exclusive(app, name, fn, lock)
    report = result[-1] if isinstance(result, tuple) else None
    # A pass that made all its requests stopped with more to send: the next one now (after
    # any other job that is due), not at the next poll. Asked from a thread of its own: a
    # scheduler shutting down holds its job store until this job has returned.
    if isinstance(report, delivery.DeliveryReport) and report.batches >= PASS_BATCHES:
        threading.Thread(target=wake, name="delivery-wake", daemon=True).start()


class _WakeWhileRunning:
    """While the scheduler runs: wake it after this process's commits that queue mail and,
    on PostgreSQL, on every NOTIFY of such a commit from any process."""

    def __init__(self, url: URL, wake: DeliveryWake) -> None:
        self.url = url
        self.wake = wake
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: tuple[threading.Event, threading.Thread] | None = None

    def __call__(self, event: SchedulerEvent) -> None:
        if event.code == EVENT_SCHEDULER_STARTED:
            self._unsubscribe = outbox_signal.subscribe(self.url, self.wake)
            if self.url.get_backend_name() == "postgresql":
                stop = threading.Event()
                thread = threading.Thread(
                    target=outbox_signal.listen,
                    args=(self.url, self.wake, stop),
                    name="outbox-listener",
                    daemon=True,
                )
                thread.start()
                self._listener = (stop, thread)
        elif event.code == EVENT_SCHEDULER_SHUTDOWN:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
            if self._listener is not None:
                stop, thread = self._listener
                self._listener = None
                stop.set()
                thread.join(timeout=5)


def build_scheduler(
    app: Flask, *, blocking: bool = False, lock: SchedulerLock | None = None
) -> BaseScheduler:
    """A scheduler with one explicitly named job per function, the delivery job also woken by
    commits that queue mail; never start it in a web worker of a multi-process server. With
    `lock`, every job runs only while this process holds it (run it with `lead`)."""
    # One job at a time: they share one database, and on SQLite one writer at a time.
    options = {"timezone": "UTC", "executors": {"default": ThreadPoolExecutor(max_workers=1)}}
    scheduler: BaseScheduler = (
        BlockingScheduler(**options) if blocking else BackgroundScheduler(**options)
    )
    intervals = job_intervals(app)
    wake = DeliveryWake(scheduler)
    for name, fn in job_functions(app).items():
        woken = name == "delivery"
        scheduler.add_job(
            run_delivery_job if woken else run_exclusive,
            "interval",
            seconds=intervals[name],
            args=(wake, app, name, fn, lock) if woken else (app, name, fn, lock),
            id=name,
            name=name,
            # Delivery: one run at work and one waiting (for a wake that came mid-pass).
            max_instances=2 if woken else 1,
            coalesce=True,
            # Behind another job on the one thread, a run starts late; it still runs (every
            # job is a function of the time it starts).
            misfire_grace_time=None,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
    with app.app_context():
        url = db.engine.url
    scheduler.add_listener(
        _WakeWhileRunning(url, wake), EVENT_SCHEDULER_STARTED | EVENT_SCHEDULER_SHUTDOWN
    )
    return scheduler
