"""APScheduler wiring. Every job is a thin call of an idempotent function of `now`.

Locks only keep concurrent runners from wasting work; correctness never depends on them:
the outbox's unique keys and the delivery leases hold when two runners overlap anyway.
- PostgreSQL: each job takes a transaction-independent advisory lock (try, skip if taken);
  `jobs run` holds a process-wide advisory lock, so a second `jobs run` waits.
- SQLite (embedded default): a file lock in the instance folder plays the same role.

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
from contextlib import contextmanager
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

from jobs import delivery, heartbeat, notices, p1g, windows
from statuspage import clock, outbox_signal
from statuspage.extensions import db

log = logging.getLogger(__name__)

INTERVALS = {"windows": 60, "notices": 30, "delivery": 10, "p1g": 60}


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
        return windows.expand(session, now), windows.advance(session, now)

    def run_notices(session: Session, now: datetime) -> int:
        return notices.queue_due(session, now, config["STATUSPAGE_TIMEZONE"])

    def run_p1g(session: Session, now: datetime) -> int:
        every = timedelta(minutes=float(config.get("OVERDUE_REMINDER_MINUTES") or 15))
        return p1g.alert_overdue(session, now, config["CSS_ON_DUTY_EMAIL"], every)

    def run_delivery(session: Session, now: datetime) -> tuple[int, delivery.DeliveryReport]:
        return delivery.fan_out(session, now), delivery.deliver(session, now, ctx)

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


def run_exclusive(app: Flask, name: str, fn: Callable[[Session, datetime], object]) -> None:
    """Run one job now, unless another runner is in the middle of the same job."""
    with app.app_context():
        try:
            with exclusive(app, name) as acquired:
                if not acquired:
                    log.info("job %s is running elsewhere; skipped", name)
                    return
                fn(db.session, clock.now())
        except Exception:  # a failed pass is retried by the next one; the data says what's due
            log.exception("job %s failed", name)
            db.session.rollback()
        finally:
            db.session.remove()


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
    wake: DeliveryWake, app: Flask, name: str, fn: Callable[[Session, datetime], object]
) -> None:
    wake.started()  # from here on, a new wake asks for another run after this one
    run_exclusive(app, name, fn)


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


def build_scheduler(app: Flask, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler with one explicitly named job per function, the delivery job also woken by
    commits that queue mail; never start it in a web worker of a multi-process server."""
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
            args=(wake, app, name, fn) if woken else (app, name, fn),
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
