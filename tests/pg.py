"""A throwaway PostgreSQL 15 cluster for the test session, and a fresh database per test.

The cluster lives in a temporary directory, listens on a free loopback port with trust
authentication, and trades durability for speed (no fsync, no full-page writes, no
synchronous commit): its data is thrown away at the end of the session anyway. Each test gets a
database cloned from a template that already holds the schema, which costs a few milliseconds
instead of creating every table again.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_USER = "postgres"
TEMPLATE = "statuspage_template"
START_TIMEOUT = 30.0

SKIP_REASON = f"PostgreSQL 15 server binaries not found at {PG_BIN}: skipping the PostgreSQL run"


def available() -> bool:
    return (PG_BIN / "initdb").is_file() and (PG_BIN / "postgres").is_file()


def _as_root() -> bool:
    return os.geteuid() == 0


def _scratch_dir() -> str | None:
    """A memory-backed directory when there is room: copying template databases is then
    bound by memory rather than disk (several times faster per test)."""
    shm = "/dev/shm"
    try:
        stat = os.statvfs(shm)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= 1024**3
    return shm if roomy and os.access(shm, os.W_OK | os.X_OK) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the server's child process: stop at once if the test process dies (Linux only).

    Runs after the switch to the `postgres` user, so the setting survives it.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGQUIT)


@dataclass
class Cluster:
    """A running server: where it listens and how to make databases on it (and, for a
    cluster of a test's own, how to stop and start it again under its clients)."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    args: list[str] = field(default_factory=list)
    log: Path | None = None
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def stop(self) -> None:
        """Stop the server as `pg_ctl stop -m fast` does: every session is ended (its
        clients see "terminating connection due to administrator command")."""
        _stop(self.process)

    def start(self) -> None:
        """Start the stopped server again on the same data and port; returns once it
        accepts connections."""
        assert self.log is not None and self.process.poll() is not None
        self.process = _start(self.args, self.log)
        _wait_ready(self.process, self.port, self.log)

    def restart(self, down: float = 0.0) -> None:
        """`pg_ctl restart -m fast`: stop, stay down `down` seconds, start."""
        self.stop()
        time.sleep(down)
        self.start()

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres", autocommit=True
        )

    def create_database(self, *, template: str | None = TEMPLATE, name: str | None = None) -> str:
        """Create a new database (a copy of `template`, or empty) and return its name."""
        name = name or f"test_{next(self._names)}"
        # FILE_COPY copies the template's files at once; PostgreSQL 15's default (WAL_LOG)
        # copies block by block through the log, about twice as slow for a small template
        # (the checkpoint it avoids costs little with fsync off).
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name}{clause}")
        return name

    def drop_database(self, name: str) -> None:
        # FORCE ends connections a test left behind (a thread's pool, a killed subprocess).
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def make_template(self, fill: Callable[[str], None]) -> None:
        """Create the template database every test database starts from; `fill(url)` builds
        what it holds (the schema and the default rows) and closes its connections."""
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        fill(self.url(TEMPLATE))
        with self._admin() as conn:
            # A template must have no open connections while it is copied; mark it as one.
            conn.execute(f"ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true")


def _run(args: list[str], log: Path) -> None:
    if _as_root():
        args = ["runuser", "-u", PG_USER, "--", *args]
    with log.open("ab") as out:
        result = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{log.read_text(errors='replace')}")


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited at start:\n{log.read_text(errors='replace')}")
        try:
            with psycopg.connect(
                host="127.0.0.1", port=port, user=PG_USER, dbname="postgres", connect_timeout=2
            ):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"postgres not ready after {START_TIMEOUT:.0f}s:\n"
                    f"{log.read_text(errors='replace')}"
                ) from None
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # fast shutdown: end sessions, no checkpoint wait
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def cluster(settings: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Start a cluster in a temporary directory; stop it and remove the directory on exit.
    `settings` override the server's (the benchmark asks for durable commits)."""
    root = Path(tempfile.mkdtemp(prefix="statuspage-pg-", dir=_scratch_dir()))
    process: subprocess.Popen[bytes] | None = None
    made: Cluster | None = None
    try:
        data, sockets, log = root / "data", root / "sockets", root / "server.log"
        sockets.mkdir()
        if _as_root():
            shutil.chown(root, user=PG_USER)
            shutil.chown(sockets, user=PG_USER)
        _run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ],
            log,
        )
        port = _free_port()
        server = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(sockets),
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "max_connections": "200",
            "shared_buffers": "64MB",
            **(settings or {}),
        }
        args = [str(PG_BIN / "postgres"), "-D", str(data)]
        for key, value in server.items():
            args += ["-c", f"{key}={value}"]
        process = _start(args, log)
        _wait_ready(process, port, log)
        made = Cluster(root=root, port=port, process=process, args=args, log=log)
        yield made
    finally:
        if made is not None:
            process = made.process  # restarted meanwhile, perhaps
        if process is not None:
            _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            user=PG_USER if _as_root() else None,
            group=PG_USER if _as_root() else None,
            extra_groups=[] if _as_root() else None,
            preexec_fn=_die_with_parent,
        )
