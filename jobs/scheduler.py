"""APScheduler wiring. Every job is a thin call of an idempotent function of `now`.

Locks only keep concurrent runners from wasting work; correctness never depends on them:
the outbox's unique keys and the delivery leases hold when two runners overlap anyway.
- PostgreSQL: each job takes a transaction-independent advisory lock (try, skip if taken);
  `jobs run` holds a process-wide advisory lock, so a second `jobs run` waits.
- SQLite (embedded default): a file lock in the instance folder plays the same role.
"""

from __future__ import annotations

import fcntl
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from jobs import delivery, notices, p1g, windows
from statuspage import clock
from statuspage.extensions import db
from statuspage.mail import mailer_from_config

log = logging.getLogger(__name__)

INTERVALS = {"windows": 60, "notices": 30, "delivery": 10, "p1g": 60}


def delivery_context(app: Flask) -> delivery.DeliveryContext:
    config = app.config
    return delivery.DeliveryContext(
        mailer=mailer_from_config(config, app.instance_path),
        base_url=config["STATUSPAGE_URL"].rstrip("/"),
        secret=config["SECRET_KEY"],
        from_email=config["MAIL_FROM"],
        from_name=config["STATUSPAGE_NAME"],
        provider_tz=config["STATUSPAGE_TIMEZONE"],
        concurrency=int(config.get("DELIVERY_CONCURRENCY", delivery.CONCURRENCY)),
    )


@dataclass
class TickReport:
    windows_created: int = 0
    windows_changed: int = 0
    notices_queued: int = 0
    alerts: int = 0
    deliveries_made: int = 0
    delivery: delivery.DeliveryReport = field(default_factory=delivery.DeliveryReport)


def job_functions(app: Flask) -> dict[str, Callable[[Session, datetime], object]]:
    config = app.config
    ctx = delivery_context(app)

    def run_windows(session: Session, now: datetime) -> tuple[int, int]:
        return windows.expand(session, now), windows.advance(session, now)

    def run_notices(session: Session, now: datetime) -> int:
        return notices.queue_due(session, now, config["STATUSPAGE_TIMEZONE"])

    def run_p1g(session: Session, now: datetime) -> int:
        return p1g.alert_overdue(session, now, config["CSS_ON_DUTY_EMAIL"])

    def run_delivery(session: Session, now: datetime) -> tuple[int, delivery.DeliveryReport]:
        return delivery.fan_out(session, now), delivery.deliver(session, now, ctx)

    return {
        "windows": run_windows,
        "notices": run_notices,
        "p1g": run_p1g,
        "delivery": run_delivery,
    }


def tick(app: Flask, now: datetime) -> TickReport:
    """One pass of every job for `now`, in dependency order."""
    fns = job_functions(app)
    report = TickReport()
    with app.app_context():
        session = db.session
        report.windows_created, report.windows_changed = fns["windows"](session, now)  # type: ignore[misc]
        report.notices_queued = fns["notices"](session, now)  # type: ignore[assignment]
        report.alerts = fns["p1g"](session, now)  # type: ignore[assignment]
        report.deliveries_made, report.delivery = fns["delivery"](session, now)  # type: ignore[misc]
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


def build_scheduler(app: Flask, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler with one explicitly named job per function; never start it in a web
    worker of a multi-process server."""
    # One job at a time: they share one database, and on SQLite one writer at a time.
    options = {"timezone": "UTC", "executors": {"default": ThreadPoolExecutor(max_workers=1)}}
    scheduler: BaseScheduler = (
        BlockingScheduler(**options) if blocking else BackgroundScheduler(**options)
    )
    for name, fn in job_functions(app).items():
        scheduler.add_job(
            run_exclusive,
            "interval",
            seconds=INTERVALS[name],
            args=(app, name, fn),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
            next_run_time=clock.now(),
        )
    return scheduler
