"""The scheduler lock: one process runs the jobs, through database restarts and network cuts.

`jobs run` (and `serve`, which runs the scheduler in its worker) hold this lock while they run
jobs; any other such process stands by and takes it when the holder stops. Holding it is
checked with the database right before each job: the start of every run is written to the
job table (`SchedulerRun`) only by a process that holds the lock, so a lost lock is noticed before
the next job, and the process runs nothing until it holds the lock again (`jobs.scheduler.
lead`).

- PostgreSQL: a session-level advisory lock on a connection of its own. A restart or a cut
  ends that session and the lock with it: the holder's check (its own backend in `pg_locks`,
  in the same statement that writes the run's start) then fails, and it tries to take the
  lock back. A standby waits for the lock in the server's queue, so it gets it as soon as
  the holder's session ends (a holder killed: at once); when its own wait was cut by the
  outage, it lets `TAKEOVER_GRACE` seconds pass after reaching the database again before
  queueing, so the previous holder, whose job may still be recording what it sent, takes
  the lock back first. The connection probes the server (`outage.POSTGRESQL_CONNECT_ARGS`),
  so a cut network is noticed in seconds, and carries the owner in its `application_name`.
- SQLite: an exclusive file lock (`flock`) beside the database file, which the kernel holds
  for the process while it lives; a standby polls it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
import zlib
from contextlib import suppress
from datetime import datetime, timedelta
from typing import IO

from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, delete, insert, literal, select, text
from sqlalchemy import update as sql_update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from jobs import durable
from statuspage import outage
from statuspage.extensions import db
from statuspage.models import SchedulerRun
from statuspage.types import UTCDateTime

log = logging.getLogger(__name__)

NAME = "scheduler"
TAKEOVER_GRACE = 3.0  # seconds a standby whose wait an outage cut leaves to the old holder
RETRY_EVERY = 0.2  # seconds between attempts to reach the database or take the lock back
WAIT_SLICE = 1.0  # a standby's wait is asked again this often, so that it can be stopped
FILE_POLL = 0.1  # seconds between a standby's tries of the SQLite file lock
FINISH_WITHIN = timedelta(minutes=1)  # how long the end of a run waits for the database
KEEP_RUNS = timedelta(days=7)
PRUNE_EVERY = 3600.0  # seconds between deletions of a job's old runs, per process

HOLDING, RECOVERING, STANDBY = "holding", "recovering", "standby"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's lock_timeout


def lock_key(name: str) -> int:
    """The advisory lock's key (the same for every process on the database)."""
    return zlib.crc32(f"statuspage:{name}".encode())


def new_owner() -> str:
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SchedulerLock:
    """What the scheduler asks of its lock; `scheduler_lock(app)` makes the right one."""

    def __init__(self, engine: Engine, owner: str | None = None) -> None:
        self.engine = engine  # the app's engine: where runs are recorded
        self.owner = owner or new_owner()
        self._pruned: dict[str, float] = {}

    def acquire(self, stop: threading.Event) -> bool:
        """Wait until this process holds the lock (True) or `stop` is set (False); a
        database that cannot be reached meanwhile is waited for."""
        raise NotImplementedError

    def held(self) -> bool:
        """Whether this process holds the lock, asked of the database now."""
        raise NotImplementedError

    def reclaim(self) -> bool:
        """For a job waiting on the database (`jobs.durable`): True while this process is,
        or again is, the scheduler (or cannot tell yet), False once another process is."""
        raise NotImplementedError

    def begin(self, job: str, now: datetime) -> int | None:
        """Record the start of a run of `job` if this process holds the lock: the run's id,
        or None (then the job is not to run)."""
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def finish(self, run: int, now: datetime, outcome: str, error: str | None = None) -> None:
        """Record the end of a run (waiting for the database up to `FINISH_WITHIN`), and
        now and then forget the job's runs older than `KEEP_RUNS`."""
        with Session(self.engine) as session:
            job = durable.write(
                session,
                lambda: session.execute(
                    sql_update(SchedulerRun)
                    .where(SchedulerRun.id == run)
                    .values(finished_at=now, outcome=outcome, error=error[:2000] if error else None)
                    .returning(SchedulerRun.job)
                ).scalar(),
                within=FINISH_WITHIN,
            )
            last = self._pruned.get(job or "")
            if job and (last is None or time.monotonic() - last > PRUNE_EVERY):
                self._pruned[job] = time.monotonic()
                session.execute(
                    delete(SchedulerRun).where(
                        SchedulerRun.job == job, SchedulerRun.started_at < now - KEEP_RUNS
                    )
                )
                session.commit()


def scheduler_lock(app: Flask, owner: str | None = None) -> SchedulerLock:
    """The scheduler lock of `app`'s database (in an app context)."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        return PostgresLock(engine, owner)
    database = engine.url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = f"{os.path.abspath(database)}-{NAME}.lock"
    else:
        path = os.path.join(app.instance_path, f"jobs-{NAME}.lock")
    return FileLock(engine, path, owner)


class PostgresLock(SchedulerLock):
    def __init__(self, engine: Engine, owner: str | None = None) -> None:
        super().__init__(engine, owner)
        self.key = lock_key(NAME)
        self._lock_engine = create_engine(
            engine.url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                **outage.POSTGRESQL_CONNECT_ARGS,
                "application_name": f"statuspage scheduler {self.owner}"[:63],
            },
        )
        self._conn: Connection | None = None
        self._state = STANDBY
        self._cut = False  # this standby's wait was cut by an outage
        self._mutex = threading.Lock()

    # The lock's own connection: opened when needed, dropped when it fails.

    def _connection(self) -> Connection:
        if self._conn is None or self._conn.closed or self._conn.invalidated:
            self._drop()
            self._conn = self._lock_engine.connect()
            self._conn.exec_driver_sql(f"SET lock_timeout = '{int(WAIT_SLICE * 1000)}ms'")
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                self._conn.close()
        self._conn = None

    def _holds(self) -> str:
        """SQL: this session holds the lock."""
        return (
            "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
            "AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo "
            "AND objsubid = 1 AND granted)"
        )

    def _check(self) -> bool:
        found = self._connection().execute(
            text(f"SELECT {self._holds()}"), {"hi": self.key >> 32, "lo": self.key & 0xFFFFFFFF}
        )
        return bool(found.scalar())

    def _try(self) -> bool:
        taken = self._connection().execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
        return bool(taken.scalar())

    # What the scheduler asks.

    def acquire(self, stop: threading.Event) -> bool:
        while not stop.is_set():
            with self._mutex:
                if self._state == HOLDING:
                    return True  # a job waiting on the database took it back meanwhile
                try:
                    if self._state == RECOVERING:
                        # We held it when the database went: take it back before anyone.
                        if self._try():
                            self._state = HOLDING
                            return True
                        self._state = STANDBY  # another process is the scheduler now
                        log.warning("the scheduler lock was taken by another process")
                    conn = self._connection()
                except Exception as exc:
                    if not outage.unreachable(exc):
                        raise
                    self._drop()
                    self._cut = self._state == STANDBY
                    conn = None
            if conn is None:
                stop.wait(RETRY_EVERY)
                continue
            if self._cut:
                # Back after an outage that cut this standby's wait: the previous holder
                # (perhaps recording what it sent) takes the lock back first.
                self._cut = False
                stop.wait(TAKEOVER_GRACE)
                continue
            try:  # in the server's queue for the lock, WAIT_SLICE at a time
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            except OperationalError as exc:
                if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                    continue  # still held by another process: ask again
                with self._mutex:
                    self._drop()
                    self._cut = True
                stop.wait(RETRY_EVERY)
                continue
            except Exception as exc:
                if not outage.unreachable(exc):
                    raise
                with self._mutex:
                    self._drop()
                    self._cut = True
                stop.wait(RETRY_EVERY)
                continue
            with self._mutex:
                self._state = HOLDING
                return True
        return False

    def held(self) -> bool:
        with self._mutex:
            if self._state != HOLDING:
                return False
            try:
                holds = self._check()
            except Exception as exc:
                if not outage.unreachable(exc):
                    raise
                self._drop()
                holds = False
            if not holds:
                self._state = RECOVERING
            return holds

    def reclaim(self) -> bool:
        with self._mutex:
            if self._state == STANDBY:
                return False
            if self._state == HOLDING:
                try:
                    if self._check():
                        return True
                except Exception as exc:
                    if not outage.unreachable(exc):
                        raise
                    self._drop()
                self._state = RECOVERING
            try:
                if self._try():
                    self._state = HOLDING
                    return True
            except Exception as exc:
                if not outage.unreachable(exc):
                    raise
                self._drop()
                return True  # cannot tell yet; the job's write finds out
            self._state = STANDBY
            log.warning("the scheduler lock was taken by another process")
            return False

    def begin(self, job: str, now: datetime) -> int | None:
        with self._mutex:
            if self._state != HOLDING:
                return None
            statement = (
                insert(SchedulerRun)
                .from_select(
                    ["job", "owner", "started_at"],
                    select(literal(job), literal(self.owner), literal(now, UTCDateTime())).where(
                        text(self._holds()).bindparams(hi=self.key >> 32, lo=self.key & 0xFFFFFFFF)
                    ),
                )
                .returning(SchedulerRun.id)
            )
            try:
                run = self._connection().execute(statement).scalar()
            except Exception as exc:
                if not outage.unreachable(exc):
                    raise
                self._drop()
                run = None
            if run is None:
                self._state = RECOVERING
            return run

    def release(self) -> None:
        with self._mutex:
            if self._state == HOLDING and self._conn is not None:
                with suppress(Exception):
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._drop()
            self._state = STANDBY
        self._lock_engine.dispose()


class FileLock(SchedulerLock):
    def __init__(self, engine: Engine, path: str, owner: str | None = None) -> None:
        super().__init__(engine, owner)
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self, stop: threading.Event) -> bool:
        if self._file is not None:
            return True
        handle = open(self.path, "a+")  # noqa: SIM115 (held for as long as the lock)
        while True:  # tried at least once, even when `stop` is already set
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if stop.is_set() or stop.wait(FILE_POLL):
                    handle.close()
                    return False
                continue
            self._file = handle
            return True

    def held(self) -> bool:
        return self._file is not None

    def reclaim(self) -> bool:
        return self.held()

    def begin(self, job: str, now: datetime) -> int | None:
        if self._file is None:
            return None
        try:
            with self.engine.begin() as conn:
                made = conn.execute(
                    insert(SchedulerRun)
                    .values(job=job, owner=self.owner, started_at=now)
                    .returning(SchedulerRun.id)
                )
                return int(made.scalar_one())
        except Exception as exc:
            if not outage.unreachable(exc):
                raise
            return None

    def release(self) -> None:
        if self._file is not None:
            with suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
