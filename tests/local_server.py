"""What the local HTTP servers the tests talk to share (the SendGrid- and Twilio-speaking
ones, the webhook receiver): serving on 127.0.0.1 in a thread of their own, answering a
request, and the failures and delays a test scripts for the next requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing (a test's output stays its own)."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        pass

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Send the status, the headers and the body with its length; a sender that gave up
        waiting (its timeout) is no error of the server's."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


def start(handler: type[BaseHTTPRequestHandler], port: int = 0) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (any free port unless `port` is given), serving in a thread."""
    http = ThreadingHTTPServer(("127.0.0.1", port), handler)
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return http


def stop(http: ThreadingHTTPServer) -> None:
    http.shutdown()
    http.server_close()


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler], port: int = 0) -> Iterator[str]:
    """Serve with `handler` while the block runs; yields the server's base URL."""
    http = start(handler, port)
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        stop(http)


@dataclass
class Script:
    """A failure a test asked for: the status, headers and JSON body to answer with (the
    server's own error body when `body` is None)."""

    status: int
    headers: dict[str, str]
    body: dict[str, Any] | None


@dataclass
class ScriptedServer:
    """A provider's state that tests script: `fail_next(status)` answers the next requests
    with an error, `delay_next(seconds)` holds them first."""

    url: str = ""
    _failures: list[Script] = field(default_factory=list)
    _delays: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        times: int = 1,
    ) -> None:
        with self._lock:
            self._failures += [Script(status, headers or {}, body)] * times

    def delay_next(self, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._delays += [seconds] * times

    def _next_script(self) -> tuple[float, Script | None]:
        """The next request's delay and scripted failure, if any (taken under the lock)."""
        delay = self._delays.pop(0) if self._delays else 0.0
        return delay, self._failures.pop(0) if self._failures else None
