"""Logs: one JSON line per event, each carrying the id of the request (or job run) it
belongs to; plain lines for a person when stderr is a terminal.

The request id lives in a context variable for the length of a request (`statuspage.observe`
sets it) or of a job run (`jobs.heartbeat`). Every log line made meanwhile carries it, the
notices a request causes store it (`services.notices.enqueue`), their deliveries copy it at
fan-out, and the delivery job logs each batch's outcome with it: one grep follows a staff
action to every recipient's outcome.

No Flask here: the formatters are used by the web workers, `jobs run`, the other commands
and gunicorn's own logger (`statuspage.server.GunicornLogger`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# What a request id may look like when a proxy sends one: the notice and delivery columns
# hold 64 characters, and a log line must not carry a line break or a quote of the sender's.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=/-]{1,64}")
HEADER = "X-Request-Id"
ENVIRON_KEY = "HTTP_X_REQUEST_ID"

_current: ContextVar[str | None] = ContextVar("statuspage_request_id", default=None)


def new_request_id(prefix: str = "") -> str:
    """A fresh id: 32 hex digits (a job run's starts with `job-<name>-`)."""
    return prefix + uuid.uuid4().hex


def accepted_request_id(sent: str | None, *, trusted: bool) -> str:
    """The id of a request: the `X-Request-Id` it came with when a trusted proxy stands in
    front (TRUSTED_PROXIES > 0: the proxy sets or passes it on) and it is well formed, else a
    new one. Without a trusted proxy anyone could choose the id their requests log under."""
    if trusted and sent and REQUEST_ID.fullmatch(sent):
        return sent
    return new_request_id()


def request_id() -> str | None:
    """The id of the request or job run in progress, if any."""
    return _current.get()


@contextmanager
def bound(value: str | None) -> Iterator[str | None]:
    """Log (and stamp notices) under `value` for the length of the block."""
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)


# The attributes every LogRecord has; anything else was passed as `extra` and is logged.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "request_id", "taskName"}
)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD and not key.startswith("_")
    }


def _request_id_of(record: logging.LogRecord) -> str | None:
    # A line about something another request caused (a delivery batch) names that request.
    given = record.__dict__.get("request_id")
    return given if given is not None else _current.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, the
    `extra` fields, and the exception's traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _request_id_of(record),
        }
        for key, value in _extras(record).items():
            line.setdefault(key, value)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: `15:04:05 INFO  logger [request id] message key=value`."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        rid = _request_id_of(record)
        parts = [moment, f"{record.levelname:<5}", record.name]
        if rid:
            parts.append(f"[{rid}]")
        parts.append(record.getMessage())
        parts += [f"{k}={v}" for k, v in _extras(record).items()]
        text = " ".join(parts)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the moment (a test runner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # under the handler's lock (Handler.handle takes it)
        super().emit(record)


def formatter_for(fmt: str | None, stream: Any = None) -> logging.Formatter:
    """`json`, `text`, or `auto` (text when `stream`, stderr by default, is a terminal)."""
    choice = (fmt or "auto").lower()
    if choice == "auto":
        stream = stream if stream is not None else sys.stderr
        choice = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    return TextFormatter() if choice == "text" else JsonFormatter()


def configure(settings: Mapping[str, Any]) -> bool:
    """Send this process's log records to stderr in the configured format (LOG_FORMAT) from
    the configured level up (LOG_LEVEL), once per process; False when logging was set up
    already (by us, or by whoever embeds the app: their root handlers are left alone)."""
    root = logging.getLogger()
    if root.handlers:
        return False
    handler = _StderrHandler()
    handler.setFormatter(formatter_for(settings.get("LOG_FORMAT")))
    root.addHandler(handler)
    level = logging.getLevelName(str(settings.get("LOG_LEVEL") or "INFO").upper())
    root.setLevel(level if isinstance(level, int) else logging.INFO)
    if root.level > logging.DEBUG:
        # APScheduler says "Running job" and "executed successfully" at INFO for every run
        # (every few seconds); the jobs record their runs themselves (`jobs.heartbeat`).
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return True
