"""A local HTTP server that speaks SendGrid's v3 Mail Send, for tests and benchmarks.

It checks the API key and the parts of the request body this product uses, answers 202
with an X-Message-Id, and records what it accepted. Failures and delays can be scripted:
`fail_next(500)`, `fail_next(429, headers={"X-RateLimit-Reset": ...})`, `delay_next(5)`;
`latency` adds a delay to every request, and `max_in_flight` records the most requests it
was handling at once (to see a sender's parallel requests overlap). With `overlap = 2` a
request is held until two have been in flight together (or `OVERLAP_WAIT` seconds passed):
a sender that sends in parallel then shows it however slow the machine, and one that does
not shows `max_in_flight == 1` after the wait. With `gate` an unset `threading.Event`, each
request is accepted (recorded) and its answer held until the gate is set: an acceptance the
sender learns of only later (after its database went away, say).
Recipients are refused as SendGrid refuses them, the whole request answered 400 with one
error per bad address, `{"field": "personalizations.N.to.M.email"}`: an address that is not
one (`EMAIL_RE`), or one in `reject` (`server.reject.add(address)`), or for which the
`refuse` rule gives a reason.
Run alone: `python -m tests.sendgrid_server --port 8025` (prints accepted counts).
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from tests.local_server import QuietHandler, ScriptedServer, serving

API_KEY = "SG.test-key"
# What SendGrid takes for an address (checked with fullmatch: "$" alone allows a final "\n").
EMAIL_RE = re.compile(
    r"[^@\s\x00-\x1f\x7f<>,;]+@[^@\s\x00-\x1f\x7f<>,;]+\.[^@\s\x00-\x1f\x7f<>,;]+"
)


@dataclass
class Delivered:
    """One personalization as SendGrid would deliver it: substitutions applied."""

    email: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    custom_args: dict[str, str]
    attachments: list[dict[str, str]] = field(default_factory=list)


# How long a request waits for company when `overlap` asks for it.
OVERLAP_WAIT = 10.0
# How long an accepted request's answer waits for the `gate` at most.
GATE_WAIT = 60.0


@dataclass
class SendGridServer(ScriptedServer):
    api_key: str = API_KEY
    requests: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    log: bool = False
    latency: float = 0.0
    overlap: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    gate: threading.Event | None = None
    # Addresses refused as SendGrid refuses an invalid one, besides those EMAIL_RE refuses.
    reject: set[str] = field(default_factory=set)
    refuse: Callable[[str], str | None] | None = None

    def messages(self) -> Iterator[Delivered]:
        with self._lock:
            accepted = list(self.requests)
        for body in accepted:
            content = {c["type"]: c["value"] for c in body["content"]}
            for p in body["personalizations"]:
                subs = p.get("substitutions", {})

                def fill(text: str, subs: dict[str, str] = subs) -> str:
                    for tag, value in subs.items():
                        text = text.replace(tag, value)
                    return text

                for to in p["to"]:
                    yield Delivered(
                        email=to["email"],
                        subject=fill(p.get("subject", body.get("subject", ""))),
                        text=fill(content.get("text/plain", "")),
                        html=fill(content.get("text/html", "")),
                        headers=dict(p.get("headers", {})),
                        custom_args=dict(p.get("custom_args", {})),
                        attachments=list(body.get("attachments", [])),
                    )

    def recipients(self) -> list[str]:
        return [m.email for m in self.messages()]

    def _refused(self, address: str) -> str | None:
        if address in self.reject:
            return "Does not contain a valid address."
        return self.refuse(address) if self.refuse else None

    # --- the request handling ---------------------------------------------------------

    def handle(self, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.attempts += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        if self.overlap:
            deadline = time.monotonic() + OVERLAP_WAIT
            while self.max_in_flight < self.overlap and time.monotonic() < deadline:
                time.sleep(0.01)
        try:
            return self._answer(headers, raw)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, headers: Any, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            delay, scripted = self._next_script()
        delay += self.latency
        if delay:
            time.sleep(delay)
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return _errors(
                401, [("The provided authorization grant is invalid, expired, or revoked", None)]
            )
        if scripted is not None:
            body = json.dumps(scripted.body or {"errors": [{"message": "scripted failure"}]})
            return scripted.status, scripted.headers, body.encode()
        try:
            data = json.loads(raw)
        except ValueError:
            return _errors(400, [("Bad Request", None)])
        problems = validate(data, self._refused)
        if problems:
            return _errors(400, problems)
        with self._lock:
            self.requests.append(data)
        gate = self.gate
        if gate is not None:
            gate.wait(GATE_WAIT)
        if self.log:
            print(f"accepted {len(data['personalizations'])} personalizations", flush=True)
        return 202, {"X-Message-Id": uuid.uuid4().hex}, b""


def _errors(
    status: int, problems: list[tuple[str, str | None]]
) -> tuple[int, dict[str, str], bytes]:
    body = {"errors": [{"message": m, "field": f, "help": None} for m, f in problems]}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def validate(
    data: Any, refused: Callable[[str], str | None] | None = None
) -> list[tuple[str, str | None]]:
    """The checks SendGrid makes on the parts of a Mail Send body this product uses;
    `refused(address)` says why an address that looks valid is refused anyway."""
    problems: list[tuple[str, str | None]] = []
    if not isinstance(data, dict):
        return [("The request body must be a JSON object.", None)]
    personalizations = data.get("personalizations")
    if not isinstance(personalizations, list) or not 1 <= len(personalizations) <= 1000:
        problems.append(
            (
                "The personalizations field is required and must have at least "
                "one and at most 1000 personalizations.",
                "personalizations",
            )
        )
        personalizations = []
    for i, p in enumerate(personalizations):
        to = p.get("to") if isinstance(p, dict) else None
        if not isinstance(to, list) or not to:
            problems.append(
                (
                    "The to array is required for all personalization objects, "
                    "and must have at least one email object with a valid email "
                    "address.",
                    f"personalizations.{i}.to",
                )
            )
        else:
            for j, t in enumerate(to):
                address = str(t.get("email", "")) if isinstance(t, dict) else ""
                why = (
                    "Does not contain a valid address."
                    if not EMAIL_RE.fullmatch(address)
                    else refused(address)
                    if refused
                    else None
                )
                if why:
                    problems.append((why, f"personalizations.{i}.to.{j}.email"))
        if not data.get("subject") and not (isinstance(p, dict) and p.get("subject")):
            problems.append(
                (
                    "The subject is required. You can get around this requirement "
                    "if you use a template with a subject defined or if every "
                    "personalization has a subject defined.",
                    "subject",
                )
            )
    sender = data.get("from")
    if not isinstance(sender, dict) or not EMAIL_RE.fullmatch(str(sender.get("email", ""))):
        problems.append(
            (
                "The from object must be provided for every email send. It is an "
                "object that requires an email parameter.",
                "from",
            )
        )
    content = data.get("content")
    if not isinstance(content, list) or not content:
        problems.append(
            (
                "Unless a valid template_id is provided, the content parameter is required.",
                "content",
            )
        )
    else:
        types = [c.get("type") for c in content]
        if (
            "text/html" in types
            and "text/plain" in types
            and (types.index("text/plain") > types.index("text/html"))
        ):
            problems.append(
                ("If present, text/plain must be first, followed by text/html.", "content")
            )
        if any(not c.get("value") for c in content):
            problems.append(
                (
                    "The content value must be a string at least one character in length.",
                    "content.0.value",
                )
            )
    return problems


@contextmanager
def sendgrid_server(port: int = 0, log: bool = False) -> Iterator[SendGridServer]:
    state = SendGridServer(log=log)

    class Handler(QuietHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            raw = self.read_body()
            if self.path.rstrip("/") != "/v3/mail/send":
                self.answer(404, {}, b'{"errors":[{"message":"not found"}]}')
            else:  # a client that gave up (its timeout) is accepted anyway, as SendGrid does
                self.answer(*state.handle(self.headers, raw))

    with serving(Handler, port) as state.url:
        yield state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8025)
    args = parser.parse_args()
    with sendgrid_server(args.port, log=True) as server:
        print(f"listening on {server.url}", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
