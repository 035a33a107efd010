"""`flask --app statuspage serve`: the embedded default, the web server and the scheduler in
one process, served by gunicorn.

One gunicorn worker with threads: the scheduler must run in exactly one process (each worker
of a multi-process server would run every job), and threads keep slow readers from queueing
behind each other. The app is built in the worker after the fork, never in the master
(no preload): a database connection pool must not cross a fork. The scheduler starts once the
worker has its app and stops when the worker exits, so Ctrl+C stops both.

Production runs several gunicorn workers without the scheduler and one `jobs run` beside them
(README, "Production on PostgreSQL"); nothing here starts a scheduler in those workers.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo, pass_script_info
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from prometheus_client import multiprocess

from jobs import lock as job_locks
from jobs import scheduler as job_scheduler
from statuspage import logs, metrics

THREADS = 8
# gunicorn believes X-Forwarded-Proto (and -Ssl, -Protocol) and the SCRIPT_NAME and
# PATH_INFO headers from 127.0.0.1 and ::1 by default, whatever TRUSTED_PROXIES says, so
# any program on the machine (or a proxy in front that passes them on) could say "https".
# The app believes forwarded headers in one place only, ProxyFix with TRUSTED_PROXIES hops;
# gunicorn believes none (the web workers read the same from gunicorn.conf.py).
BELIEVE_NO_FORWARDED_HEADERS: dict[str, Any] = {
    "forwarded_allow_ips": "",
    "secure_scheme_headers": {},
    "forwarder_headers": "",
}
# Ctrl+C waits this long for requests in flight and a running job to finish; a job cut
# short is safe (jobs are idempotent and deliveries hold leases).
GRACEFUL_TIMEOUT = 10


def settle_worker(worker: Any) -> None:
    """gunicorn's post_worker_init hook for every worker: once the app is loaded, move what
    is already allocated (modules, templates, the mapper) out of the collector's sight.

    A full collection otherwise walks those objects again and again while a large page
    renders: measured on the benchmark's 400-day calendar, renders took 155-250 ms with the
    collector as it is and a steady 155-165 ms with this.
    """
    gc.collect()
    gc.freeze()


class GunicornLogger(glogging.Logger):
    """gunicorn's own lines (workers booting, timeouts) in the app's format: JSON, or plain
    at a terminal (LOG_FORMAT, `statuspage.logs`). Its access log stays off unless asked
    for; the app logs requests itself (`statuspage.observe`)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = logs.formatter_for(os.environ.get("LOG_FORMAT"))
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(formatter)


def forget_worker(_arbiter: Any, worker: Any) -> None:
    """gunicorn's child_exit hook (in the master): a dead worker's gauges leave the metrics
    (its counters stay: they count what happened)."""
    if metrics.multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def start_scheduler(worker: Any) -> None:
    """gunicorn's post_worker_init hook: run the jobs in this worker, beside its requests,
    while it holds the scheduler lock (another `serve` or `jobs run` on the same database
    holding it: this one stands by)."""
    settle_worker(worker)
    app = worker.wsgi
    with app.app_context():
        lock = job_locks.scheduler_lock(app)
    scheduler = job_scheduler.build_scheduler(app, lock=lock)
    stop = threading.Event()
    thread = threading.Thread(
        target=job_scheduler.lead,
        args=(scheduler, lock, stop, worker.log.info),
        name="scheduler-lock",
        daemon=True,
    )
    thread.start()
    worker.statuspage_scheduler = (stop, thread)
    worker.log.info("scheduler running in this worker (pid: %s)", worker.pid)


def stop_scheduler(_arbiter: Any, worker: Any) -> None:
    """gunicorn's worker_exit hook (it runs in the worker): stop scheduling further jobs;
    a job already running finishes on its own thread, then the lock is released."""
    running = getattr(worker, "statuspage_scheduler", None)
    if running is not None:
        stop, thread = running
        stop.set()
        thread.join(timeout=GRACEFUL_TIMEOUT)


class EmbeddedServer(BaseApplication):
    """gunicorn configured in code, loading the Flask app in its worker."""

    def __init__(
        self,
        load_app: Callable[[], Flask],
        *,
        bind: str,
        scheduler: bool,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self.load_app = load_app
        self.options: dict[str, Any] = {
            "bind": bind,
            "workers": 1,
            "worker_class": "gthread",
            "threads": THREADS,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "preload_app": False,
            "proc_name": "statuspage",
            "post_worker_init": settle_worker,
            "logger_class": GunicornLogger,
            "child_exit": forget_worker,
            **BELIEVE_NO_FORWARDED_HEADERS,
            **(options or {}),
        }
        if scheduler:
            if self.options["workers"] != 1:
                raise ValueError("the scheduler runs in one worker; use `jobs run` beside more")
            self.options["post_worker_init"] = start_scheduler
            self.options["worker_exit"] = stop_scheduler
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    # The gunicorn stubs want a WSGI app taking any MutableMapping environ; Flask's takes the
    # dict gunicorn hands it (typeshed's WSGIEnvironment).
    def load(self) -> Flask:  # type: ignore[override]
        return self.load_app()


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, envvar="PORT")
@click.option(
    "--scheduler/--no-scheduler",
    default=True,
    show_default=True,
    help="Run the jobs in the serving process (the embedded default).",
)
@pass_script_info
def serve_command(info: ScriptInfo, host: str, port: int, scheduler: bool) -> None:
    """Serve the page with gunicorn (one worker, 8 threads) and the scheduler inside it.

    Ctrl+C stops the server and the scheduler. For several workers, run gunicorn yourself
    and one `jobs run` beside it.
    """

    def load_app() -> Flask:
        # A fresh app from the same --app, in the worker: nothing of the master's crosses.
        fresh = ScriptInfo(
            app_import_path=info.app_import_path,
            create_app=info.create_app,
            set_debug_flag=info.set_debug_flag,
        )
        return fresh.load_app()

    server = EmbeddedServer(load_app, bind=bind_address(host, port), scheduler=scheduler)
    click.echo(f"serving on http://{bind_address(host, port)}")
    if scheduler:
        click.echo("the scheduler runs inside the serving worker")
    # Returns only by SystemExit: in the master when it stops (status 0 after Ctrl+C), and
    # in the worker when it exits; nothing may follow this call.
    server.run()
