"""The service as separate processes on a cluster of a test's own (tests/pg.py `cluster()`),
for the tests that restart PostgreSQL under it: `flask` commands, gunicorn, and a watcher
that reads who holds the scheduler lock from the server's own lock table."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from jobs.lock import lock_key
from tests import pg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
SECRET_KEY = "test-secret-key-long-enough-for-create-app"
APPLICATION_NAME = "statuspage scheduler "


def fresh_database(cluster: pg.Cluster, name: str, instance: Path) -> dict[str, str]:
    """An empty database on `cluster` migrated by `flask init`; the environment of the
    processes that serve it."""
    cluster.create_database(template=None, name=name)
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url(name),
        "SECRET_KEY": SECRET_KEY,
        "STATUSPAGE_INSTANCE_PATH": str(instance),
        "STATUSPAGE_URL": "http://localhost",
        "RATELIMIT_ENABLED": "0",
        "PYTHONPATH": ROOT,
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "statuspage", "init"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def flask(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "statuspage", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, timeout: float, what: str, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2, threads: int = 4) -> Iterator[str]:
    """gunicorn as production runs it (gthread workers), on `env`'s database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                os.path.join(BIN, "gunicorn"),
                "--workers",
                str(workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
                "statuspage:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def up() -> bool:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    return True
            except OSError:
                assert process.poll() is None, log.read_text()
                return False

        wait_for(up, 60, "gunicorn")
        yield base
    finally:
        stop(process)


@dataclass
class Sample:
    at: float  # time.time() halfway through the query
    holders: list[str] | None  # owners holding the scheduler lock; None: no answer


@dataclass
class LockWatcher:
    """Reads `pg_locks` every `every` seconds: which process (its owner, from the
    application_name of the session holding the advisory lock) holds the scheduler lock."""

    conninfo: str
    every: float = 0.02
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    QUERY = (
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.objid::bigint = %s AND l.granted"
    )

    def __enter__(self) -> LockWatcher:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        key = lock_key("scheduler")
        conn: psycopg.Connection[tuple[str]] | None = None
        while not self._stop.is_set():
            before = time.time()
            try:
                if conn is None:
                    conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=2)
                rows = conn.execute(self.QUERY, (key,)).fetchall()
                holders: list[str] | None = [
                    name.removeprefix(APPLICATION_NAME) for (name,) in rows
                ]
            except psycopg.Error:
                if conn is not None:
                    conn.close()
                conn = None
                holders = None
            self.samples.append(Sample((before + time.time()) / 2, holders))
            self._stop.wait(self.every)
        if conn is not None:
            conn.close()

    def holder(self) -> str | None:
        """The owner holding the lock in the latest answer, if any."""
        for sample in reversed(self.samples):
            if sample.holders is not None:
                return sample.holders[0] if sample.holders else None
        return None

    def first_after(self, moment: float, unlike: str | None = None) -> Sample | None:
        """The first sample after `moment` in which a process (other than `unlike`) holds
        the lock."""
        for sample in self.samples:
            if sample.at > moment and sample.holders and sample.holders[0] != unlike:
                return sample
        return None


def pid_of(owner: str) -> int:
    """The process id in a scheduler's owner name (host:pid:random)."""
    return int(owner.split(":")[-2])
