"""A local HTTP server that speaks Twilio's Messages API, for tests.

`POST /2010-04-01/Accounts/<sid>/Messages.json` (form encoded, HTTP Basic with the account's
SID and auth token) is answered 201 with the message's `sid`, as Twilio answers, and the
message recorded (with the request's headers). A number in `invalid` is refused as Twilio
refuses one (400, code 21211), one in `landlines` as not a mobile number (400, code 21614).
Failures and delays can be scripted: `fail_next(503)`, `fail_next(429, headers={"Retry-After":
"1"})`, `delay_next(5)`; `arrived` counts requests as they come in (before any delay).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.local_server import QuietHandler, ScriptedServer, serving

ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-test-auth-token"
SENDER = "+15005550006"


@dataclass
class Sent:
    """One message Twilio accepted."""

    sid: str
    to: str
    body: str
    sender: str
    status_callback: str
    headers: dict[str, str]


@dataclass
class TwilioServer(ScriptedServer):
    account: str = ACCOUNT
    token: str = TOKEN
    messages: list[Sent] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)
    landlines: set[str] = field(default_factory=set)
    arrived: int = 0

    def to(self, number: str) -> list[Sent]:
        with self._lock:
            return [m for m in self.messages if m.to == number]

    def handle(self, path: str, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.arrived += 1
            delay, scripted = self._next_script()
        if delay:
            time.sleep(delay)
        expected = base64.b64encode(f"{self.account}:{self.token}".encode()).decode()
        if headers.get("Authorization") != f"Basic {expected}":
            return _error(401, 20003, "Authenticate")
        if path != f"/2010-04-01/Accounts/{self.account}/Messages.json":
            return _error(404, 20404, "The requested resource was not found")
        if scripted is not None:
            status, extra = scripted.status, scripted.headers
            answer = scripted.body or {
                "code": 20500,
                "message": "scripted failure",
                "status": status,
            }
            return (
                status,
                {"Content-Type": "application/json", **extra},
                json.dumps(answer).encode(),
            )
        form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        to, text = form.get("To", ""), form.get("Body", "")
        if not to.startswith("+") or to in self.invalid:
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.landlines:
            return _error(400, 21614, f"'To' number {to} is not a valid mobile number")
        if not text or not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21602, "Message body is required.")
        sid = "SM" + uuid.uuid4().hex
        with self._lock:
            self.messages.append(
                Sent(
                    sid,
                    to,
                    text,
                    form.get("From", ""),
                    form.get("StatusCallback", ""),
                    dict(headers),
                )
            )
        answer = {"sid": sid, "status": "queued", "to": to, "body": text}
        return 201, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@contextmanager
def twilio_server() -> Iterator[TwilioServer]:
    server = TwilioServer()

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            self.answer(*server.handle(self.path, self.headers, self.read_body()))

    with serving(Handler) as server.url:
        yield server
