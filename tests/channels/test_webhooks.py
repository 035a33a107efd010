"""Webhook subscribers: the signed envelope, retries, quarantine, SSRF refusals, exactly once.

Every receiver is a local HTTP server on 127.0.0.1 (tests/webhook_receiver.py). The `guard`
fixture makes any connection to another address fail the test instead of leaving the
machine, and the resolver is faked where a test needs a name to resolve somewhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from jobs import delivery
from statuspage import endpoints
from statuspage.endpoints import masked_url as masked
from statuspage.models import Delivery, Notice, Subscriber
from statuspage.services import ValidationError
from statuspage.services.subscriptions import channel_signup, pauses
from tests import webhook_receiver as hooks
from tests.api.support import BASE, token_for
from tests.helpers import csrf_of, login, open_incident, wait_until
from tests.webhook_receiver import (
    NOW,
    PUBLIC_V4,
    PUBLIC_V6,
    fake_dns,
    hook,
    kill_sender_in_flight,
    platforms,
    quarantine,
    retried_then_sent_once,
    tick,
)


def verify(secret: str, headers: dict[str, str], body: bytes, now: datetime) -> bool:
    """A receiver's check, written from the documented contract alone."""
    timestamp = headers["X-Statuspage-Timestamp"]
    scheme, _, given = headers["X-Statuspage-Signature"].partition("=")
    expected = hmac.new(
        secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    fresh = abs(now.timestamp() - int(timestamp)) < 300
    return scheme == "v1" and fresh and hmac.compare_digest(given, expected)


def test_verified_webhook_gets_the_signed_envelope(app, client, db, css, receiver, guard):
    headers = token_for(db, "css")
    made = client.post(
        f"{BASE}/subscribers",
        headers=headers,
        json={"subscriber": {"endpoint": receiver.url, "email": "ops@example.com"}},
    )
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["mode"] == "webhook" and body["endpoint"] == masked(receiver.url)
    assert body["state"] == "unconfirmed" and len(body["secret"]) == 64
    secret = body["secret"]
    tick(app, NOW)  # the verification request, echoed
    db.expire_all()
    subscriber = db.get(Subscriber, int(body["id"]))
    assert subscriber.state == "active"
    listed = client.get(f"{BASE}/subscribers?type=webhook", headers=headers).get_json()
    assert [s["endpoint"] for s in listed] == [masked(receiver.url)]
    assert "secret" not in listed[0]
    assert client.get(f"{BASE}/subscribers", headers=headers).get_json() == []  # email only

    incident = open_incident(db, css, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=1))
    assert len(receiver.got) == 2
    for sent_headers, raw in receiver.got:
        assert verify(secret, sent_headers, raw, NOW + timedelta(minutes=1))
        assert not verify("another secret", sent_headers, raw, NOW + timedelta(minutes=1))
        assert not verify(secret, sent_headers, raw + b" ", NOW + timedelta(minutes=1))
    (event,) = receiver.events()
    assert set(event) == {"meta", "page", "incident"}
    assert event["meta"]["unsubscribe"].startswith("http://localhost/subscriptions/unsubscribe/")
    assert event["meta"]["documentation"].startswith("https://")
    assert event["meta"]["generated_at"].startswith("2026-11-20T15:01:00")
    assert event["page"] == {
        "id": "calltower",
        "status_indicator": "critical",  # a major outage
        "status_description": event["page"]["status_description"],
    }
    assert event["incident"]["id"] == str(incident.id)
    assert event["incident"]["name"] == "Calls failing"
    assert event["incident"]["incident_updates"][0]["body"] == "Investigating"
    # The one-click unsubscribe in the envelope works.
    assert client.post(event["meta"]["unsubscribe"].removeprefix("http://localhost")).status_code
    db.expire_all()
    assert db.get(Subscriber, int(body["id"])).state == "unsubscribed"
    assert guard == []


def test_unverified_endpoint_receives_nothing_else(app, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    receiver.plan.append((204, 0.0, {}))  # a 2xx without the echo
    tick(app, NOW)
    open_incident(db, css, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=1))
    db.expire_all()
    assert len(receiver.got) == 1 and receiver.events() == []
    assert made.subscriber.confirmed_at is None


def test_500_and_a_timeout_are_retried_then_delivered_once(app, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    tick(app, NOW)
    receiver.plan += [(500, 0.0, {}), (200, 2.0, {})]  # an error, then too slow to wait for
    open_incident(db, css, NOW)
    tick(app, NOW)
    (d,) = db.scalars(
        select(Delivery)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(Delivery.channel == "webhook", Notice.kind == "incident_created")
    ).all()
    assert (d.status, d.attempts, d.possibly_duplicated) == ("queued", 1, False)
    retried_then_sent_once(app, db, receiver, d, b"Calls failing")
    assert made.subscriber.quarantined_at is None


def test_endpoint_failing_eight_times_is_quarantined(app, client, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    tick(app, NOW)
    open_incident(db, css, NOW)
    at = quarantine(app, receiver)
    db.expire_all()
    subscriber = db.get(Subscriber, made.subscriber.id)
    assert subscriber.state == "quarantined" and "HTTP 503" in subscriber.quarantine_reason
    listed = client.get(
        f"{BASE}/subscribers?type=webhook&state=quarantined", headers=token_for(db, "css")
    ).get_json()
    assert [s["id"] for s in listed] == [str(subscriber.id)]
    assert listed[0]["quarantined_at"] and "HTTP 503" in listed[0]["quarantine_reason"]
    # Paused: the next notice does not reach it, until staff lift the quarantine.
    before = len(receiver.got)
    open_incident(db, css, at)
    tick(app, at)
    assert len(receiver.got) == before
    pauses.unquarantine(db, css, subscriber, at)
    db.commit()
    open_incident(db, css, at + timedelta(minutes=1))
    tick(app, at + timedelta(minutes=1))
    assert len(receiver.got) == before + 1


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://hooks.example.com/x", "10.0.0.1"),
        ("https://hooks.example.com/x", "169.254.169.254"),
        ("https://hooks.example.com/x", "fd00:ec2::254"),
        ("https://hooks.example.com/x", "::1"),
        ("https://hooks.example.com/x", "::ffff:192.168.1.1"),
        ("http://hooks.example.com/x", "93.184.216.34"),  # http to a public address
        ("https://169.254.169.254/latest/meta-data", None),
        ("https://[::1]/x", None),
        ("https://user:pw@hooks.example.com/x", "93.184.216.34"),
    ],
)
def test_unsafe_endpoints_are_refused_at_subscription(
    app, client, db, monkeypatch, guard, url, address
):
    if address:
        fake_dns(monkeypatch, {"hooks.example.com": address})
    made = client.post(
        f"{BASE}/subscribers",
        headers=token_for(db, "css"),
        json={"subscriber": {"endpoint": url}},
    )
    assert made.status_code == 422
    assert "endpoint" in made.get_json()["errors"] or "endpoint" in json.dumps(made.get_json())
    assert db.scalar(select(Subscriber).where(Subscriber.mode == "webhook")) is None
    assert guard == []


def test_name_rebound_to_a_private_address_is_refused_at_send(
    app, db, css, monkeypatch, guard, receiver
):
    app.config.update(WEBHOOK_ALLOW_LOOPBACK=False)
    fake_dns(monkeypatch, {"hooks.example.com": "93.184.216.34"})
    made = channel_signup.subscribe_channel(
        db, address="https://hooks.example.com/x", platforms=platforms(db), now=NOW
    )
    db.commit()
    fake_dns(monkeypatch, {"hooks.example.com": "10.0.0.1"})
    d = hooks.send_the_only_delivery(app, db)
    assert d.status == "failed" and "10.0.0.1" in d.last_error
    assert db.get(Subscriber, made.subscriber.id).state == "quarantined"
    assert guard == []  # refused before any connection


def test_a_redirect_is_a_failure_and_never_followed(app, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    made.subscriber.confirmed_at = NOW
    for sub in made.subscriber.subscriptions:
        sub.confirmed_at = NOW
    db.commit()
    tick(app, NOW)  # its verification
    receiver.plan.append((302, 0.0, {"Location": "http://10.0.0.1/admin"}))
    open_incident(db, css, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=1))
    db.expire_all()
    d = db.scalars(select(Delivery).order_by(Delivery.id.desc())).first()
    assert d.status == "failed" and "302" in d.last_error
    assert db.get(Subscriber, made.subscriber.id).state == "quarantined"
    assert len(receiver.got) == 2 and guard == []


@pytest.mark.slow
def test_sender_killed_with_a_webhook_in_flight_resends_it_marked(app, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    tick(app, NOW)
    open_incident(db, css, NOW)
    delivery.fan_out(db, NOW)
    kill_sender_in_flight(app, receiver)
    db.expire_all()
    d = db.scalars(select(Delivery).order_by(Delivery.id.desc())).first()
    assert d.status == "sending"
    # Restarted after the lease ran out: the request in flight goes again, marked.
    tick(app, NOW + delivery.LEASE + timedelta(minutes=1))
    # The hung request is answered late, as an endpoint may have done.
    wait_until(lambda: len(receiver.events()) >= 2, timeout=10, step=0.1)
    events = [h for h, b in receiver.got if b"verification" not in b]
    assert len(events) == 2  # twice, the only case it may be, and never a third time
    assert [h.get("X-Statuspage-Possibly-Duplicated") for h in events].count("true") == 1
    assert {h["X-Statuspage-Delivery"] for h in events} == {str(d.id)}
    db.expire_all()
    assert (d.status, d.possibly_duplicated) == ("sent", True)
    assert made.subscriber.id == d.subscriber_id


def test_lifting_a_quarantine_before_verification_sends_a_new_one(
    app, client, db, css, receiver, guard
):
    """Staff lift it on /admin/subscribers; an endpoint never verified is asked again."""
    made = hook(app, db, receiver.url)
    at = quarantine(app, receiver)
    db.expire_all()
    subscriber = db.get(Subscriber, made.subscriber.id)
    assert subscriber.state == "quarantined" and subscriber.confirmed_at is None
    login(client, css)
    html = client.get("/admin/subscribers/").get_data(as_text=True)
    assert "HTTP 503" in html and "Webhook" in html
    csrf = csrf_of(html)
    lifted = client.post(
        f"/admin/subscribers/{subscriber.id}/unquarantine", data={"csrf_token": csrf}
    )
    assert lifted.status_code == 302
    tick(app, at)  # a new verification request, echoed this time
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "active"
    tokens = [json.loads(b)["verification"]["token"] for _, b in receiver.got]
    assert len(tokens) == delivery.MAX_ATTEMPTS + 1 and len(set(tokens)) == 2


def test_component_updates_reach_a_verified_webhook(app, db, css, receiver, guard):
    made = hook(app, db, receiver.url)
    tick(app, NOW)
    open_incident(db, css, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=1))
    ((headers, body),) = receiver.components
    assert verify(made.secret, headers, body, NOW + timedelta(minutes=1))
    change = json.loads(body)["component_update"]
    assert (change["old_status"], change["new_status"]) == ("operational", "major_outage")
    assert len(receiver.events()) == 1  # and the incident itself, once


# --- the address filter's own tables (no packet leaves: names resolve through `resolver`) ---


# Addresses some Python releases' `ipaddress` called global, and the rest of IANA's
# special-purpose registries: none may be called.
NOT_GLOBAL = [
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 around the metadata address
    "2002:5db8:d822::",  # 6to4 around a public address: 6to4 is refused whatever it carries
    "192.0.0.192",  # IETF protocol assignments (a cloud's metadata address)
    "192.0.0.9",  # IETF protocol assignments, PCP anycast
    "3fff::1",  # documentation (RFC 9637)
    "2001:db8::1",  # documentation
    "64:ff9b::a9fe:a9fe",  # NAT64 around the metadata address
    "64:ff9b::5db8:d822",  # NAT64 around a public address
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:2::1",  # benchmarking
    "2620:4f:8000::1",  # AS112
    "::7f00:1",  # IPv4-compatible 127.0.0.1
    "::5db8:d822",  # IPv4-compatible, deprecated whatever it carries
    "::ffff:a9fe:a9fe",  # IPv4-mapped metadata address
    "::ffff:c000:c0",  # IPv4-mapped 192.0.0.192
    "100::1",  # discard-only
    "5f00::1",  # SRv6 segment identifiers
    "fec0::1",  # site-local, deprecated
    "ff02::1",  # multicast
    "0.1.2.3",  # "this network"
    "100.100.100.200",  # shared address space (a cloud's metadata address)
    "192.31.196.1",  # AS112
    "192.52.193.1",  # AMT
    "192.88.99.1",  # 6to4 relay anycast
    "192.175.48.1",  # AS112
    "198.18.0.1",  # benchmarking
    "203.0.113.7",  # documentation
    "224.0.0.251",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",  # limited broadcast
]


def literal(ip: str) -> str:
    return f"https://[{ip}]/x" if ":" in ip else f"https://{ip}/x"


@pytest.mark.parametrize("ip", NOT_GLOBAL)
def test_addresses_outside_global_unicast_are_refused_by_name_and_literally(
    db, resolver, guard, ip
):
    resolver["hooks.example.com"] = ip
    for url in ("https://hooks.example.com/x", literal(ip)):
        with pytest.raises(ValidationError) as caught:
            channel_signup.subscribe_channel(db, address=url, platforms=platforms(db), now=NOW)
        assert "may not be called" in caught.value.errors["endpoint"], url
    assert db.scalar(select(Subscriber)) is None and guard == []


@pytest.mark.parametrize("ip", [PUBLIC_V4, PUBLIC_V6, f"::ffff:{PUBLIC_V4}"])
def test_global_unicast_addresses_are_allowed(db, resolver, guard, ip):
    resolver["hooks.example.com"] = ip
    made = channel_signup.subscribe_channel(
        db, address="https://hooks.example.com/x", platforms=platforms(db), now=NOW
    )
    assert made.subscriber.address == "https://hooks.example.com/x" and guard == []


def test_the_filter_keeps_its_own_tables_whatever_pythons_ipaddress_says(monkeypatch):
    """Independent of the Python patch level: the flags of `ipaddress` are not consulted."""
    for cls in (ipaddress.IPv4Address, ipaddress.IPv6Address):
        for flag in ("is_global", "is_private", "is_reserved", "is_loopback", "is_link_local"):
            monkeypatch.setattr(cls, flag, property(lambda self: True))
    refused = [ip for ip in NOT_GLOBAL if endpoints.address_refusal(ipaddress.ip_address(ip))]
    assert refused == NOT_GLOBAL
    assert endpoints.address_refusal(ipaddress.ip_address(PUBLIC_V4)) == ""
    assert endpoints.address_refusal(ipaddress.ip_address(PUBLIC_V6)) == ""


def test_only_port_443_unless_the_operator_allows_more(app, client, db, resolver, guard):
    resolver["hooks.example.com"] = PUBLIC_V4
    for url in ("https://hooks.example.com:22/x", "https://hooks.example.com:8443/x"):
        with pytest.raises(ValidationError) as caught:
            channel_signup.subscribe_channel(db, address=url, platforms=platforms(db), now=NOW)
        assert "port" in caught.value.errors["endpoint"]
    policy = {"WEBHOOK_PORTS": "443 8443"}
    made = channel_signup.subscribe_channel(
        db,
        address="https://hooks.example.com:8443/x",
        platforms=platforms(db),
        settings=policy,
        now=NOW,
    )
    assert made.subscriber.address == "https://hooks.example.com:8443/x"
    # The default port is stored as the URL without one: one subscriber for both.
    plain = channel_signup.subscribe_channel(
        db, address="https://hooks.example.com:443/y", platforms=platforms(db), now=NOW
    )
    assert plain.subscriber.address == "https://hooks.example.com/y"
    with pytest.raises(ValidationError) as caught:
        channel_signup.subscribe_channel(
            db, address="https://hooks.example.com/y", platforms=platforms(db), now=NOW
        )
    assert caught.value.errors["endpoint"] == "is already subscribed"
    assert guard == []


@pytest.mark.parametrize("ip", ["2002:7f00:1::", "192.0.0.192", "3fff::1", "64:ff9b::a00:1"])
def test_a_name_rebound_to_a_special_address_is_refused_at_send(app, db, resolver, guard, ip):
    resolver["hooks.example.com"] = PUBLIC_V4
    made = channel_signup.subscribe_channel(
        db, address="https://hooks.example.com/x", platforms=platforms(db), now=NOW
    )
    db.commit()
    resolver["hooks.example.com"] = ip
    d = hooks.send_the_only_delivery(app, db)
    assert d.status == "failed" and "may not be called" in d.last_error
    assert db.get(Subscriber, made.subscriber.id).state == "quarantined"
    assert guard == []


def test_a_port_not_allowed_is_refused_at_send(app, db, resolver, guard):
    """A row stored before the rule (or before the operator narrowed the ports)."""
    resolver["hooks.example.com"] = PUBLIC_V4
    made = channel_signup.subscribe_channel(
        db, address="https://hooks.example.com/x", platforms=platforms(db), now=NOW
    )
    made.subscriber.address = "https://hooks.example.com:22/x"
    db.commit()
    d = hooks.send_the_only_delivery(app, db)
    assert d.status == "failed" and "port 22" in d.last_error
    assert guard == []


# --- URLs are stored and sent encoded ------------------------------------------------------


def test_an_internationalised_url_is_stored_encoded(db, resolver, guard):
    resolver["xn--bcher-kva.example"] = PUBLIC_V4
    made = channel_signup.subscribe_channel(
        db,
        address="https://Bücher.example/hook/é?q=ü&x=%41&y=100%",
        platforms=platforms(db),
        now=NOW,
    )
    assert made.subscriber.address == (
        "https://xn--bcher-kva.example/hook/%C3%A9?q=%C3%BC&x=%41&y=100%25"
    )
    # The encoded form is one URL with the typed one: subscribing either again is refused.
    for again in ("https://xn--bcher-kva.example/hook/%C3%A9?q=%C3%BC&x=%41&y=100%25",):
        with pytest.raises(ValidationError) as caught:
            channel_signup.subscribe_channel(db, address=again, platforms=platforms(db), now=NOW)
        assert caught.value.errors["endpoint"] == "is already subscribed"
    assert guard == []


@pytest.mark.parametrize(
    "url",
    [
        "https://☃.example/x",  # a host IDNA refuses
        "https://a..b.example/x",  # an empty label
        "https://hooks.example.com/\udcff",  # a lone surrogate: no UTF-8 for it
        "https://hooks.example.com/" + "é" * 80,  # over 254 characters once encoded
    ],
)
def test_a_url_that_cannot_be_encoded_is_a_field_error(db, resolver, guard, url):
    resolver["hooks.example.com"] = PUBLIC_V4
    with pytest.raises(ValidationError) as caught:
        channel_signup.subscribe_channel(db, address=url, platforms=platforms(db), now=NOW)
    assert "endpoint" in caught.value.errors
    assert db.scalar(select(Subscriber)) is None and guard == []


def test_a_stored_non_ascii_path_is_sent_encoded_not_stuck(app, db, receiver, guard):
    """A URL stored before encoding: the send encodes it, where it raised in http.client
    and left the batch `sending` on its lease, re-raising at every pass."""
    made = hook(app, db, receiver.url)
    made.subscriber.address = receiver.url.replace("/hook", "/hoök/é?q=ü")
    db.commit()
    d = hooks.send_the_only_delivery(app, db)
    assert d.status == "sent" and db.get(Subscriber, made.subscriber.id).state == "active"
    assert len(receiver.got) == 1 and guard == []
    assert receiver.paths == ["/ho%C3%B6k/%C3%A9?q=%C3%BC"]


def test_a_request_that_cannot_be_encoded_is_refused_for_good(guard):
    sender = endpoints.EndpointSender(policy=endpoints.Policy(allow_loopback=True))
    for url in ("http://127.0.0.1:9/\udcff", "http://☃.example/x"):
        with pytest.raises(endpoints.EndpointRefused):
            sender.send(endpoints.EndpointRequest(url=url, body=b"{}", headers={}))
    with pytest.raises(endpoints.EndpointRefused):
        sender.send(
            endpoints.EndpointRequest(
                url="http://127.0.0.1:9/x", body=b"{}", headers={"X-Name": "é\udcff"}
            )
        )
    assert guard == []
