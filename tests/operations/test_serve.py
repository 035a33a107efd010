"""`flask serve`, the embedded default: gunicorn with one threaded worker that also runs the
scheduler, and Ctrl+C stops all of it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from flask import Flask

from statuspage.server import EmbeddedServer, start_scheduler, stop_scheduler
from tests.helpers import PROJECT_ROOT
from tests.processes import wait_for

ROOT = str(PROJECT_ROOT)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_serve_uses_gunicorn_runs_the_scheduler_and_stops_on_ctrl_c(tmp_path):
    database = tmp_path / "serve.db"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "serve-test-secret-key-of-at-least-32-characters",
        "STATUSPAGE_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("SENDGRID_API_KEY", None)
    flask = [sys.executable, "-m", "flask", "--app", "statuspage"]
    init = subprocess.run(
        [*flask, "init"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert init.returncode == 0, init.stderr
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [*flask, "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # SIGINT goes to the master alone, as the test says
        )
    headers: dict[str, str] = {}
    try:

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    headers.update(r.headers.items())
                    return r.status == 200
            except OSError:
                return proc.poll() is not None  # it died: stop waiting, the asserts say why

        wait_for(healthy, 60, "/healthz")
        assert proc.poll() is None, log_path.read_text()
        assert "gunicorn" in headers["Server"]

        def windows() -> int:
            with sqlite3.connect(database) as conn:
                return int(conn.execute("SELECT count(*) FROM maintenance_window").fetchone()[0])

        # `init` seeds the series; the windows job, run by the scheduler at start, expands them.
        wait_for(lambda: windows() > 0, 60, "the scheduler to expand the maintenance series")
        workers = children(proc.pid)
        assert len(workers) == 1, workers

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
        wait_for(lambda: not any(alive(pid) for pid in workers), 5, "the worker to exit")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    output = log_path.read_text()
    assert f"serving on http://127.0.0.1:{port}" in output
    assert "Starting gunicorn" in output and "Using worker: gthread" in output
    assert "scheduler running in this worker" in output
    assert "development server" not in output.lower()
    assert "Traceback" not in output


def no_app() -> Flask:
    raise AssertionError("the app is only loaded in a worker")


def test_the_embedded_server_is_one_threaded_worker_with_the_scheduler_hooks():
    server = EmbeddedServer(no_app, bind="127.0.0.1:0", scheduler=True)
    cfg = server.cfg
    assert (cfg.workers, cfg.worker_class_str, cfg.threads, cfg.preload_app) == (
        1,
        "gthread",
        8,
        False,
    )
    assert cfg.post_worker_init is start_scheduler
    assert cfg.worker_exit is stop_scheduler


def test_no_scheduler_serves_without_the_hooks():
    server = EmbeddedServer(no_app, bind="127.0.0.1:0", scheduler=False)
    assert server.cfg.post_worker_init is not start_scheduler
    assert server.cfg.worker_exit is not stop_scheduler
