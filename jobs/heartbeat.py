"""Each scheduled job's run, recorded where every process can read it.

A job function wrapped by `observed` runs under a job-run id (its log lines, and the
notices it makes, carry it: `statuspage.logs`), and after each run, successful or not, its
row in `job_run` says when it ran, how long it took, its interval and its last error. That
row is the scheduler's heartbeat: `/readyz`, the metrics endpoint and `flask doctor` read
it from any process. A failed run's transaction is rolled back before its run is recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from statuspage import clock, logs, metrics
from statuspage.models import JobRun

log = logging.getLogger(__name__)

R = TypeVar("R")


def record(
    session: Session, name: str, interval: float, seconds: float, error: Exception | None
) -> None:
    """Write the run of job `name` that just ended (after `error`, or successfully). Commits;
    a database that refuses is logged and otherwise ignored (the job's own outcome stands)."""
    at = clock.unpinned()
    values: dict[str, Any] = {
        "interval_seconds": float(interval),
        "last_run_at": at,
        "last_duration_seconds": seconds,
        "last_error": None if error is None else f"{type(error).__name__}: {error}"[:1000],
    }
    if error is None:
        values["last_success_at"] = at
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(JobRun).values(name=name, **values)
    try:
        session.execute(statement.on_conflict_do_update(index_elements=[JobRun.name], set_=values))
        session.commit()
    except Exception:
        session.rollback()
        log.warning("could not record the run of job %s", name, exc_info=True)


def observed(
    name: str, interval: float, fn: Callable[[Session, datetime], R]
) -> Callable[[Session, datetime], R]:
    """`fn` under a job-run id, its run counted (metrics) and recorded (`record`)."""

    def run(session: Session, now: datetime) -> R:
        started = time.perf_counter()
        with logs.bound(logs.new_request_id(f"job-{name}-")):
            try:
                result = fn(session, now)
            except Exception as exc:
                seconds = time.perf_counter() - started
                session.rollback()
                record(session, name, interval, seconds, exc)
                metrics.job_ran(name, seconds, ok=False)
                raise
            seconds = time.perf_counter() - started
            record(session, name, interval, seconds, None)
            metrics.job_ran(name, seconds, ok=True)
            log.debug("job %s ran", name, extra={"job": name, "duration_ms": seconds * 1000})
            return result

    return run
