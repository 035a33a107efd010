"""Writes a job must not lose to a database restart: what it learnt from the outside world.

A sender that got the provider's acceptance and could not record it (the database restarting
under it) would leave its batch to its lease, and every recipient of it would be sent the
notice again when the lease expired. `write` instead retries the same idempotent statement,
on a fresh connection, until the database is back or `within` has passed: the statements
given to it are guarded (only rows this sender still owns), so writing one twice or late
changes nothing.

While a scheduler runs the job, it may write only while it is still the scheduler: after an
outage the process that held the scheduler lock takes it back first (`jobs.lock`), and if
another process took it meanwhile this one stops writing at once (its batches then go to
their lease, marked possibly duplicated). The scheduler says so through `fenced()`; outside
a scheduler (`jobs tick`, tests) nothing else is asked.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from statuspage import outage

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_DELAY = 0.1  # seconds before the first retry; doubled after each, up to MAX_DELAY
MAX_DELAY = 2.0


class _Guard:
    """One job run's writes: whether they may go on, and whether one already gave up."""

    def __init__(self, allowed: Callable[[], bool] | None) -> None:
        self.allowed = allowed
        self.gave_up = False
        self.fenced = False


_guard: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar(
    "statuspage_write_guard", default=None
)


class Fenced(Exception):
    """Another process became the scheduler while this one waited for the database."""


@contextmanager
def fenced(allowed: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block (one job run), retried writes go on only while `allowed()` says
    so (True while this process is, or is again, the scheduler); once one write gave up,
    the run's later writes are tried once each, not waited for again, and once another
    process is the scheduler they are not tried at all."""
    token = _guard.set(_Guard(allowed))
    try:
        yield
    finally:
        _guard.reset(token)


def write(
    session: Session,
    statement: Callable[[], T],
    *,
    within: timedelta,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> T:
    """Run `statement()` in `session` and commit; while the database cannot be reached,
    roll back and run it again (it must be idempotent) until it commits, `within` has
    passed, or the scheduler's fence says another process took over (`Fenced`)."""
    guard = _guard.get()
    if guard is not None and guard.fenced:
        raise Fenced("another process became the scheduler; the write is left")
    deadline = monotonic() + within.total_seconds()
    delay = FIRST_DELAY
    while True:
        try:
            result = statement()
            session.commit()
            return result
        except Exception as exc:
            if not outage.unreachable(exc):
                raise
            with suppress(Exception):  # the connection may be gone with the database
                session.rollback()
            if (guard is not None and guard.gave_up) or monotonic() + delay > deadline:
                if guard is not None:
                    guard.gave_up = True
                raise
            log.warning("the database is unreachable; retrying the write in %.1f s", delay)
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
            if guard is not None and guard.allowed is not None and not guard.allowed():
                guard.gave_up = guard.fenced = True
                raise Fenced("another process became the scheduler; the write is left") from exc
