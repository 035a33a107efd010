"""Every request's own bookkeeping, around the whole app: its id, its latency, its log line.

The id is the `X-Request-Id` a trusted proxy sent (TRUSTED_PROXIES > 0) or a new one
(`statuspage.logs`); it is bound for the request's length, so every log line and every
notice the request makes carries it, and it is answered in `X-Request-Id`. The latency goes
to the request histogram by the route's endpoint name (bounded, unlike paths, which also
hold subscribers' secret tokens: no path is ever logged).

Logged at INFO: writes (any method but GET, HEAD and OPTIONS) and server errors; at DEBUG:
every other request (LOG_LEVEL=DEBUG shows them), so a busy page's reads cost no log line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

from statuspage import logs, metrics

log = logging.getLogger("statuspage.request")

READS = frozenset({"GET", "HEAD", "OPTIONS"})

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


ENDPOINT_KEY = "statuspage.endpoint"


def _note_endpoint(_error: BaseException | None) -> None:
    """teardown_request: leave the matched route's endpoint where the middleware finds it."""
    request.environ[ENDPOINT_KEY] = request.endpoint


class RequestObserver:
    """WSGI middleware: the outermost layer of the app (outside ProxyFix)."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        trusted = int(self.app.config.get("TRUSTED_PROXIES") or 0) > 0
        request_id = logs.accepted_request_id(environ.get(logs.ENVIRON_KEY), trusted=trusted)
        environ[logs.ENVIRON_KEY] = request_id  # what the app reads is what it logs under
        started = time.perf_counter()
        answered: list[int] = []

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [int(status.split(" ", 1)[0])]
            headers.append((logs.HEADER, request_id))
            return start_response(status, headers, exc_info)

        with logs.bound(request_id):
            try:
                return self.wsgi_app(environ, start)
            finally:
                self._done(environ, answered[0] if answered else 500, started)

    def _done(self, environ: dict[str, Any], status: int, started: float) -> None:
        seconds = time.perf_counter() - started
        method = str(environ.get("REQUEST_METHOD", ""))
        endpoint = environ.get(ENDPOINT_KEY)
        metrics.observe_request(endpoint, method, status, seconds)
        level = logging.INFO if method not in READS or status >= 500 else logging.DEBUG
        if log.isEnabledFor(level):
            log.log(
                level,
                "request",
                extra={
                    "method": method,
                    "endpoint": endpoint,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


def init_app(app: Flask) -> None:
    """Logs in the configured format (not under tests: the runner captures them), the
    metrics' start-up checks, and the request observer around the whole app."""
    if not app.testing:
        logs.configure(app.config)
    metrics.init_app(app)
    app.teardown_request(_note_endpoint)
    app.wsgi_app = RequestObserver(app, app.wsgi_app)  # type: ignore[method-assign]
