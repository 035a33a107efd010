"""A real HTTP server around the test app, for clients that are separate programs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from flask import Flask
from werkzeug.serving import make_server

from tests.processes import stop

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Server(Protocol):
    server_port: int

    def serve_forever(self) -> None: ...

    def shutdown(self) -> None: ...

    def server_close(self) -> None: ...


@contextmanager
def serving(server: _Server) -> Iterator[str]:
    """Run `server` (bound to a loopback port) in a thread; yield its base URL; stop on exit."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` on a free loopback port; yield its base URL; stop on exit."""
    with serving(make_server("127.0.0.1", 0, app, threaded=True)) as base:
        yield base


@contextmanager
def gunicorn(db_url: str, *, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve the app with gunicorn in separate processes on the database at `db_url`;
    yield its base URL; stop on exit. Each worker has its own caches, as in production.
    gunicorn runs in the checkout, so it reads `gunicorn.conf.py` as production does; `env`
    adds settings (e.g. TRUSTED_PROXIES)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key-long-enough-for-create-app",
        "STATUSPAGE_URL": "http://localhost",
        "RATELIMIT_ENABLED": "0",
        **(env or {}),
    }
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "statuspage:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    message = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(message) from None
                time.sleep(0.1)
        yield base
    finally:
        stop(process, timeout=10)
        if process.stderr:
            process.stderr.close()
