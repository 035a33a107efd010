"""The servers under test, as separate processes on loopback ports:
- `reader`: the README's production command, gunicorn with several workers, no scheduler;
- `embedded`: `flask --app statuspage serve`, one worker with the scheduler inside;
- `scheduler`: `flask --app statuspage jobs run`, beside `reader` (production).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = os.path.dirname(sys.executable)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def workers(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        found: list[int] = []
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            found += [int(pid) for pid in (task / "children").read_text().split()]
        return found

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the workers, in MB."""
        return max((peak_rss_mb(pid) for pid in self.workers()), default=0.0)


def peak_rss_mb(pid: int) -> float:
    """The peak resident set (VmHWM) of process `pid`, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    return int(kb) / 1024


def _wait_healthy(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(server.base + "/healthz", timeout=2):
                return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the server did not come up:\n{server.log.read_text()[-3000:]}"
                ) from None
            time.sleep(0.1)


@contextmanager
def _running(args: list[str], env: Mapping[str, str], log: Path, port: int) -> Iterator[Server]:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            args, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def reader(
    env: Mapping[str, str], log: Path, *, workers: int, worker_class: str
) -> Iterator[Server]:
    port = free_port()
    args = [
        os.path.join(BIN, "gunicorn"),
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if worker_class == "gthread":
        args += ["--threads", "4"]
    with _running([*args, "statuspage:create_app()"], env, log, port) as server:
        yield server


@contextmanager
def scheduler(env: Mapping[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`flask jobs run`, once it holds the scheduler lock."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [os.path.join(BIN, "flask"), "--app", "statuspage", "jobs", "run"],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while b"lock held" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"jobs run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def embedded(env: Mapping[str, str], log: Path) -> Iterator[Server]:
    port = free_port()
    args = [os.path.join(BIN, "flask"), "--app", "statuspage", "serve", "--port", str(port)]
    with _running(args, env, log, port) as server:
        yield server
