"""A webhook endpoint on 127.0.0.1 and what the tests of webhook and chat-channel
subscribers share around it: the `receiver`, `guard` and `resolver` fixtures (every test
may name them: tests/conftest.py loads this module as a plugin), a faked resolver, subscribing an
endpoint, and the retries, quarantine and killed sender those tests drive."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from jobs import delivery
from statuspage.models import Delivery, Platform
from statuspage.services.subscriptions import channel_signup
from tests.helpers import NOW
from tests.local_server import QuietHandler, start, stop
from tests.outbox import flask_tick, kill_in_flight, tick

__all__ = [
    "LOOPBACK",
    "NOW",
    "PUBLIC_V4",
    "PUBLIC_V6",
    "Receiver",
    "fake_dns",
    "guard",
    "hook",
    "kill_sender_in_flight",
    "platforms",
    "quarantine",
    "receiver",
    "resolver",
    "retried_then_sent_once",
    "send_the_only_delivery",
    "tick",
]

# The operator lets endpoints on this machine stand in for public ones (tests only).
LOOPBACK = {"WEBHOOK_ALLOW_LOOPBACK": True}
PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


class Receiver:
    """A webhook endpoint: answers each request by the next planned (status, delay, headers),
    then 200; echoes a verification token; records what it got (even requests answered late).
    `component_update` events (a platform's status changed) are answered 200 at once and kept
    apart in `components`, unless `plan_components` is set (then they are planned as well)."""

    def __init__(self) -> None:
        self.plan: list[tuple[int, float, dict[str, str]]] = []
        self.got: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self.components: list[tuple[dict[str, str], bytes]] = []
        self.plan_components = False
        self.arrived = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                body = self.read_body()
                if b'"component_update"' in body and not receiver.plan_components:
                    with receiver.lock:
                        receiver.components.append((dict(self.headers), body))
                    self.answer(200, {}, b"ok")
                    return
                with receiver.lock:
                    receiver.arrived += 1
                    receiver.paths.append(self.path)
                    status, delay, extra = receiver.plan.pop(0) if receiver.plan else (200, 0.0, {})
                time.sleep(delay)
                with receiver.lock:
                    receiver.got.append((dict(self.headers), body))
                answer = b"ok"
                token = json.loads(body).get("verification", {}).get("token")
                if token:
                    answer = json.dumps({"verification": {"token": token}}).encode()
                self.answer(status, extra, answer)

        self.server = start(Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _, b in self.got if b"verification" not in b]


@pytest.fixture
def receiver(app) -> Iterator[Receiver]:
    app.config.update(WEBHOOK_ALLOW_LOOPBACK=True, WEBHOOK_TIMEOUT=0.5)
    r = Receiver()
    yield r
    stop(r.server)


@pytest.fixture
def guard(monkeypatch) -> list[Any]:
    """Connections anywhere but 127.0.0.1 (or a local socket file) fail instead of leaving."""
    attempted: list[Any] = []
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            attempted.append(address)
            raise AssertionError(f"a connection to {address} was attempted")
        real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempted


def _resolving(monkeypatch, answers: dict[str, str], otherwise: Callable[[Any], None]) -> None:
    """Names in `answers` resolve to their address; any other host is first shown to
    `otherwise` (which may fail the test), then resolved as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            ip = answers[host]
            family = socket.AF_INET6 if ":" in ip else socket.AF_INET
            sockaddr = (ip, port, 0, 0) if family == socket.AF_INET6 else (ip, port)
            return [(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]
        otherwise(host)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def fake_dns(monkeypatch, answers: dict[str, str]) -> None:
    _resolving(monkeypatch, answers, lambda host: None)


def _no_lookup(host: Any) -> None:
    try:
        ipaddress.ip_address(str(host))
    except ValueError:
        raise AssertionError(f"a DNS lookup of {host!r} was attempted") from None


@pytest.fixture
def resolver(monkeypatch) -> dict[str, str]:
    """Names resolve to what a test puts in this mapping; any other name fails the test
    instead of asking a DNS server (an IP literal is parsed, never looked up)."""
    answers: dict[str, str] = {}
    _resolving(monkeypatch, answers, _no_lookup)
    return answers


def platforms(db) -> list[Platform]:
    return [db.scalar(select(Platform).where(Platform.slug == "cisco"))]


def hook(app, db, url: str) -> channel_signup.ChannelSubscription:
    made = channel_signup.subscribe_channel(
        db, address=url, platforms=platforms(db), settings=LOOPBACK, now=NOW
    )
    db.commit()
    return made


def kill_sender_in_flight(app, receiver: Receiver) -> None:
    """Run a delivery pass in a separate `flask jobs tick` whose second request to `receiver`
    hangs, and kill that process with the request in flight."""
    receiver.plan.append((200, 4.0, {}))  # the request hangs: the process is killed meanwhile
    no_mail = SimpleNamespace(url="http://127.0.0.1:9")  # nothing here goes by mail
    proc = flask_tick(app, no_mail, NOW, WEBHOOK_ALLOW_LOOPBACK="1", WEBHOOK_TIMEOUT="30")
    kill_in_flight(proc, lambda: receiver.arrived)


def quarantine(app, receiver: Receiver, at: datetime = NOW) -> datetime:
    """Answer every attempt 503 and run the passes, an hour apart from `at`, until the
    endpoint is quarantined; returns the time after the last."""
    receiver.plan += [(503, 0.0, {})] * delivery.MAX_ATTEMPTS
    for _ in range(delivery.MAX_ATTEMPTS):
        tick(app, at)
        at += timedelta(hours=1)
    return at


def retried_then_sent_once(app, db, receiver: Receiver, row: Delivery, sent: bytes) -> None:
    """After a first pass answered 500 (the row queued again), the retry answered too late
    and then the third: `row` is sent, and its request (those whose body holds `sent`)
    reached the endpoint three times, one of them marked a possible duplicate."""
    assert "HTTP 500" in row.last_error
    tick(app, NOW + timedelta(minutes=1))
    db.expire_all()
    assert (row.status, row.attempts, row.possibly_duplicated) == ("queued", 2, True)
    tick(app, NOW + timedelta(minutes=3))
    db.expire_all()
    assert (row.status, row.attempts) == ("sent", 3)
    time.sleep(2.2)  # the slow answer's request arrived too: a possible duplicate, marked
    got = [h for h, b in receiver.got if sent in b]
    assert len(got) == 3
    assert [h.get("X-Statuspage-Possibly-Duplicated") for h in got].count("true") == 1
    assert {h["X-Statuspage-Delivery"] for h in got} == {str(row.id)}


def send_the_only_delivery(app, db) -> Delivery:
    """Run a pass at NOW and return the one delivery there is, as it left it."""
    tick(app, NOW)
    db.expire_all()
    (row,) = db.scalars(select(Delivery)).all()
    return row
