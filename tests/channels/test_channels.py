"""Microsoft Teams and Slack channels: cards through the outbox, exactly once.

Every receiver is a local HTTP server on 127.0.0.1 (tests/webhook_receiver.py's `Receiver`);
the `guard` fixture fails the test on any connection elsewhere.

Teams cards are validated against the published Adaptive Card 1.5 JSON schema
(tests/schemas/). Slack publishes no JSON schema for Block Kit: `check_slack` checks the
structural rules of Slack's Block Kit reference instead (known block types, text object
types, header text plain_text of at most 150 characters, section text at most 3000, at most
10 section fields of at most 2000, at most 50 blocks, context elements, button text and
URL) and that mrkdwn carries no unescaped control character (`&`, `<`, `>`) but in the
links the card itself makes.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from functools import cache
from typing import Any, get_args

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from jobs import delivery
from statuspage.channels import chat
from statuspage.channels import slack as slack_channel
from statuspage.channels import teams as teams_channel
from statuspage.contract.payloads import WindowKind
from statuspage.i18n import language as in_language
from statuspage.models import AuditEntry, Delivery, Notice, Subscriber
from statuspage.services import ValidationError, notices
from statuspage.services.subscriptions import channel_signup, staff_api
from tests import webhook_receiver as hooks
from tests.channels.messages import slack_text, teams_text
from tests.helpers import TESTS_DIR, csrf_of, login, make_user, open_incident, wait_until
from tests.maintenance_fixtures import one_off
from tests.webhook_receiver import (
    LOOPBACK,
    NOW,
    Receiver,
    fake_dns,
    platforms,
    tick,
)

SCHEMA = TESTS_DIR / "schemas" / "adaptive-card-1.5.json"
# A subscriber's manage link, opening in the subscriber's language.
MANAGE = re.compile(r"^http://localhost/subscriptions/manage/[A-Za-z0-9._~-]+\?lang=[a-z]{2}$")


@cache
def _validator() -> jsonschema.Draft6Validator:
    return jsonschema.Draft6Validator(json.loads(SCHEMA.read_text()))


# --- the checks -----------------------------------------------------------------------


def check_teams(message: dict[str, Any]) -> dict[str, Any]:
    """A Teams incoming-webhook message with one Adaptive Card valid under the published
    schema; staff text only in TextRuns (never read as Markdown). Returns the card."""
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    errors = sorted(_validator().iter_errors(card), key=lambda e: e.path)
    assert not errors, [e.message[:300] for e in errors]
    assert card["type"] == "AdaptiveCard" and card["version"] in ("1.4", "1.5")
    for block in card["body"]:
        assert block["type"] == "RichTextBlock"  # no TextBlock: no Markdown anywhere
        for run in block["inlines"]:
            assert run["type"] == "TextRun"
            assert "{{" not in run["text"]  # no template function is evaluated
    for action in card["actions"]:
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("http")
    return card


def teams_links(message: dict[str, Any]) -> list[str]:
    return [a["url"] for a in message["attachments"][0]["content"]["actions"]]


SLACK_BLOCKS = {"header", "section", "context", "actions", "divider"}
OUR_LINK = re.compile(r"<(http://localhost/[^<>| ]+)\|[^<>]*>")


def _check_mrkdwn(text: str, limit: int) -> None:
    assert isinstance(text, str) and 0 < len(text) <= limit
    rest = OUR_LINK.sub("", text)
    assert "<" not in rest and ">" not in rest  # no <!channel>, <@U1>, <http://x|y>
    assert re.search(r"&(?!amp;|lt;|gt;)", rest) is None
    assert re.search(r"(?<![\w\u2060])@(channel|here|everyone)\b", rest, re.I) is None


def _check_plain(obj: dict[str, Any], limit: int) -> None:
    assert obj["type"] == "plain_text" and 0 < len(obj["text"]) <= limit
    assert "<" not in obj["text"] and ">" not in obj["text"]


def check_slack(message: dict[str, Any]) -> None:
    """Block Kit's structural rules (Slack's reference for blocks, text objects and
    elements) and safe mrkdwn."""
    assert set(message) == {"text", "blocks"}
    _check_mrkdwn(message["text"], 3000)
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        assert block["type"] in SLACK_BLOCKS
        if block["type"] == "header":
            assert set(block) == {"type", "text"}
            _check_plain(block["text"], 150)
        elif block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["type"] == "mrkdwn"
                _check_mrkdwn(block["text"]["text"], 3000)
            for item in block.get("fields", []):
                assert item["type"] == "mrkdwn"
                _check_mrkdwn(item["text"], 2000)
            assert len(block.get("fields", [])) <= 10
        elif block["type"] == "context":
            assert 0 < len(block["elements"]) <= 10
            for item in block["elements"]:
                assert item["type"] == "mrkdwn"
                _check_mrkdwn(item["text"], 3000)
        elif block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for button in block["elements"]:
                assert button["type"] == "button"
                _check_plain(button["text"], 75)
                assert button["url"].startswith("http") and len(button["url"]) <= 3000
    # Nothing the services refuse in stored text reaches the channel either.
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u202e\u2028]", json.dumps(message))


def slack_links(message: dict[str, Any]) -> list[str]:
    links = [e["url"] for b in message["blocks"] for e in b.get("elements", []) if "url" in e]
    for b in message["blocks"]:
        for e in b.get("elements", []):
            if isinstance(e.get("text"), str):
                links += OUR_LINK.findall(e["text"])
    return links


# --- helpers ------------------------------------------------------------------------


def channel(db, url: str, mode: str, language: str = "en") -> Subscriber:
    made = channel_signup.subscribe_channel(
        db,
        address=url,
        platforms=platforms(db),
        channel=mode,
        language=language,
        settings=LOOPBACK,
        now=NOW,
    )
    db.commit()
    return made.subscriber


def bodies(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(b) for _, b in receiver.got]


# --- end to end ---------------------------------------------------------------------


def test_teams_channel_is_welcomed_then_sent_incident_cards(app, client, db, css, receiver, guard):
    subscriber = channel(db, receiver.url, "teams")
    assert subscriber.state == "unconfirmed"
    tick(app, NOW)
    (welcome,) = bodies(receiver)
    check_teams(welcome)
    assert "Cisco" in teams_text(welcome) and "This channel will receive" in teams_text(welcome)
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "active"  # the 2xx confirmed it

    incident = open_incident(db, css, NOW + timedelta(minutes=1), priority="P1G")
    tick(app, NOW + timedelta(minutes=1))
    got = bodies(receiver)
    assert len(got) == 2  # the card; no component_update goes to a channel
    card = got[1]
    check_teams(card)
    text = teams_text(card)
    for expected in (
        "New incident",
        "Calls failing",
        "investigating",
        "Master case P1G",
        "CS-1",
        "Cisco",
        "Fri, Nov 20, 2026, 15:01 UTC · 08:01 MST",  # the channel's zone (UTC), then MT
        "Investigating",  # the update's text
    ):
        assert expected in text, expected
    details, manage = teams_links(card)
    assert details == f"http://localhost/incidents/{incident.id}?lang=en"
    assert MANAGE.match(manage)
    assert client.get(manage.removeprefix("http://localhost")).status_code == 200
    (d,) = db.scalars(select(Delivery).join(Notice).where(Notice.kind == "incident_created")).all()
    assert (d.channel, d.status, d.attempts) == ("teams", "sent", 1)
    headers = receiver.got[1][0]
    assert headers["Content-Type"] == "application/json"
    assert "X-Statuspage-Signature" not in headers  # an incoming webhook checks none
    assert guard == []


def test_slack_channel_gets_block_kit_in_its_language(app, db, css, receiver, guard):
    subscriber = channel(db, receiver.url, "slack", language="de")
    tick(app, NOW)
    incident = open_incident(db, css, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=1))
    welcome, card = bodies(receiver)
    check_slack(welcome)
    check_slack(card)
    with in_language("de") as _:
        heading, status, original = _("New incident"), _("Status"), _("(original in English)")
    assert heading != "New incident"  # the catalog has it in German
    text = slack_text(card)
    # No German title was given: the English one, marked as the original.
    assert card["blocks"][0]["text"]["text"] == f"{heading}: Calls failing {original}"
    assert f"*{status}*" in text
    assert "MST" in text and "15:01 UTC" in text and "08:01 MST" in text
    links = slack_links(card)
    assert f"http://localhost/incidents/{incident.id}?lang=de" in links  # in its language
    assert any(MANAGE.match(link) for link in links)
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).confirmed_at is not None


def test_nothing_but_the_welcome_until_it_is_answered_2xx(app, db, css, receiver, guard):
    subscriber = channel(db, receiver.url, "slack")
    receiver.plan.append((500, 0.0, {}))
    tick(app, NOW)
    open_incident(db, css, NOW)  # while the channel is unconfirmed
    tick(app, NOW)
    db.expire_all()
    assert len(receiver.got) == 1 and db.get(Subscriber, subscriber.id).confirmed_at is None
    tick(app, NOW + timedelta(minutes=1))  # the welcome again, answered 200
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "active"
    got = bodies(receiver)
    assert len(got) == 2 and all(g == got[0] for g in got)  # the incident never went
    assert "This channel will receive" in slack_text(got[0])


def test_500_and_a_timeout_are_retried_then_delivered_once(app, db, css, receiver, guard):
    subscriber = channel(db, receiver.url, "teams")
    tick(app, NOW)
    receiver.plan += [(500, 0.0, {}), (200, 2.0, {})]  # an error, then too slow to wait for
    open_incident(db, css, NOW)
    tick(app, NOW)
    (d,) = db.scalars(select(Delivery).join(Notice).where(Notice.kind == "incident_created"))
    assert (d.status, d.attempts, d.channel) == ("queued", 1, "teams")
    hooks.retried_then_sent_once(app, db, receiver, d, b"Calls failing")
    assert db.get(Subscriber, subscriber.id).quarantined_at is None


@pytest.mark.slow
def test_sender_killed_with_a_card_in_flight_resends_it_once(app, db, css, receiver, guard):
    channel(db, receiver.url, "slack")
    tick(app, NOW)
    open_incident(db, css, NOW)
    delivery.fan_out(db, NOW)
    hooks.kill_sender_in_flight(app, receiver)
    db.expire_all()
    (d,) = db.scalars(select(Delivery).join(Notice).where(Notice.kind == "incident_created"))
    assert d.status == "sending"
    tick(app, NOW + delivery.LEASE + timedelta(minutes=1))
    wait_until(lambda: len(receiver.got) >= 3, timeout=10, step=0.1)
    sent = [h for h, b in receiver.got if b"Calls failing" in b]
    assert len(sent) == 2  # twice, the only case it may be, and never a third time
    assert [h.get("X-Statuspage-Possibly-Duplicated") for h in sent].count("true") == 1
    db.expire_all()
    assert (d.status, d.possibly_duplicated) == ("sent", True)
    tick(app, NOW + delivery.LEASE + timedelta(minutes=30))
    assert len([b for _, b in receiver.got if b"Calls failing" in b]) == 2


def test_quarantined_channel_is_shown_to_staff_and_lifted_by_css(
    app, client, db, css, receiver, guard
):
    subscriber = channel(db, receiver.url, "teams")
    tick(app, NOW)
    open_incident(db, css, NOW)
    at = hooks.quarantine(app, receiver)
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "quarantined"
    path = f"/admin/subscribers/{subscriber.id}/unquarantine"

    assert client.get("/admin/subscribers/").status_code in (302, 401)  # anonymous
    engineer = make_user(db, "engineer", "eng@example.com")
    db.commit()
    login(client, engineer)
    page = client.get("/admin/subscribers/?state=quarantined")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "HTTP 503" in html and "Microsoft Teams" in html
    assert receiver.url not in html  # an incoming webhook's URL is a credential: shortened
    assert path not in html  # engineers only look
    csrf = csrf_of(html)
    assert client.post(path, data={"csrf_token": csrf}).status_code == 403
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "quarantined"

    login(client, css)
    html = client.get("/admin/subscribers/").get_data(as_text=True)
    assert path in html
    assert client.post(path, data={}).status_code == 400  # no CSRF token: nothing written
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "quarantined"
    csrf = csrf_of(html)
    answer = client.post(path, data={"csrf_token": csrf})
    assert answer.status_code == 302
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "active"
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.unquarantine"))
    again = client.post(path, data={"csrf_token": csrf}, follow_redirects=True)
    assert again.status_code == 200 and "not quarantined" in again.get_data(as_text=True)
    assert (
        client.post("/admin/subscribers/999999/unquarantine", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert client.get("/admin/subscribers/?state=bogus").status_code == 400

    before = len(receiver.got)
    open_incident(db, css, at)
    tick(app, at)
    assert len(receiver.got) == before + 1  # it receives notices again


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://hooks.example.com/x", "10.0.0.1"),
        ("https://hooks.example.com/x", "169.254.169.254"),
        ("http://hooks.example.com/x", "93.184.216.34"),
        ("https://[::1]/x", None),
    ],
)
def test_unsafe_channel_urls_are_refused(db, monkeypatch, guard, url, address):
    if address:
        fake_dns(monkeypatch, {"hooks.example.com": address})
    with pytest.raises(ValidationError) as caught:
        channel_signup.subscribe_channel(
            db, address=url, platforms=platforms(db), channel="slack", now=NOW
        )
    assert "endpoint" in caught.value.errors
    assert db.scalar(select(Subscriber).where(Subscriber.mode == "slack")) is None
    assert guard == []


def test_mode_and_language_are_checked(db, guard):
    # Email is a channel too now (subscribe_channel takes every channel), so an unknown one.
    for fields, field in (({"channel": "pigeon"}, "mode"), ({"language": "xx"}, "language")):
        with pytest.raises(ValidationError) as caught:
            channel_signup.subscribe_channel(
                db,
                address="http://127.0.0.1:9/x",
                platforms=platforms(db),
                settings=LOOPBACK,
                now=NOW,
                **fields,
            )
        assert field in caught.value.errors
    assert db.scalar(select(Subscriber)) is None


# --- where a channel may be: its service's incoming-webhook hosts ---------------------------

TEAMS_URLS = [
    "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d",
    "https://prod-23.westeurope.logic.azure.com:443/workflows/f1/triggers/manual/paths/invoke"
    "?api-version=2016-06-01&sig=s1",
    "https://default0a1b2c.3d.environment.api.powerplatform.com:443/powerautomate/automations"
    "/direct/workflows/f2/triggers/manual/paths/invoke?sig=s2",
]
SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"


def host_of(url: str) -> str:
    return url.split("/")[2].split(":")[0]


@pytest.mark.parametrize(
    ("mode", "url"), [("teams", url) for url in TEAMS_URLS] + [("slack", SLACK_URL)]
)
def test_a_channel_on_its_services_webhook_hosts_is_accepted(db, resolver, guard, mode, url):
    resolver[host_of(url)] = hooks.PUBLIC_V4
    made = channel_signup.subscribe_channel(
        db, address=url, platforms=platforms(db), channel=mode, now=NOW
    )
    assert made.subscriber.address == url.replace(":443/", "/") and guard == []


@pytest.mark.parametrize(
    ("mode", "url"),
    [
        ("teams", "https://hooks.example.com/webhookb2/x"),
        ("teams", "https://contoso.webhook.office.com.evil.example/webhookb2/x"),
        ("teams", "https://evil-logic.azure.com/workflows/x"),
        ("slack", "https://hooks.slack.com.evil.example/services/x"),
        ("slack", "https://api.slack.com/services/x"),
        ("slack", "https://hooks.example.com/services/x"),
    ],
)
def test_a_channel_anywhere_else_is_refused(db, resolver, guard, mode, url):
    """A 2xx confirms a channel: anywhere else, anyone could make this service post to an
    endpoint of a third party's that answers 2xx."""
    resolver[host_of(url)] = hooks.PUBLIC_V4
    with pytest.raises(ValidationError) as caught:
        channel_signup.subscribe_channel(
            db, address=url, platforms=platforms(db), channel=mode, now=NOW
        )
    service = {"teams": "Microsoft Teams", "slack": "Slack"}[mode]
    assert f"a {service} channel's URL must be on" in caught.value.errors["endpoint"]
    assert db.scalar(select(Subscriber)) is None and guard == []


def test_a_url_of_the_other_service_is_refused_naming_the_right_one(db, resolver, guard):
    resolver.update({host_of(SLACK_URL): hooks.PUBLIC_V4, host_of(TEAMS_URLS[0]): hooks.PUBLIC_V4})
    for mode, url, right in (
        ("teams", SLACK_URL, "choose “Slack channel”"),
        ("slack", TEAMS_URLS[0], "choose “Microsoft Teams channel”"),
    ):
        with pytest.raises(ValidationError) as caught:
            channel_signup.subscribe_channel(
                db, address=url, platforms=platforms(db), channel=mode, now=NOW
            )
        assert right in caught.value.errors["endpoint"]
    assert db.scalar(select(Subscriber)) is None and guard == []


def test_a_webhook_may_be_on_any_public_host(db, resolver, guard):
    resolver[host_of(SLACK_URL)] = hooks.PUBLIC_V4
    made = channel_signup.subscribe_channel(db, address=SLACK_URL, platforms=platforms(db), now=NOW)
    assert made.subscriber.mode == "webhook" and guard == []


def test_the_host_lists_are_the_operators_settings(db, resolver, guard):
    resolver["chat.example.net"] = hooks.PUBLIC_V4
    url = "https://chat.example.net/hooks/x"
    with pytest.raises(ValidationError):
        channel_signup.subscribe_channel(
            db, address=url, platforms=platforms(db), channel="slack", now=NOW
        )
    policy = {"SLACK_WEBHOOK_HOSTS": "hooks.slack.com chat.example.net"}
    made = channel_signup.subscribe_channel(
        db, address=url, platforms=platforms(db), channel="slack", settings=policy, now=NOW
    )
    assert made.subscriber.mode == "slack" and guard == []


def test_a_stored_channel_off_its_hosts_is_refused_at_send(app, db, resolver, guard):
    """A row from before the rule: the send checks the host again and quarantines it."""
    resolver.update({host_of(SLACK_URL): hooks.PUBLIC_V4, "hooks.example.com": hooks.PUBLIC_V4})
    made = channel_signup.subscribe_channel(
        db, address=SLACK_URL, platforms=platforms(db), channel="slack", now=NOW
    )
    made.subscriber.address = "https://hooks.example.com/services/x"
    db.commit()
    d = hooks.send_the_only_delivery(app, db)
    assert d.status == "failed" and "Slack channel's URL must be on" in d.last_error
    assert db.get(Subscriber, made.subscriber.id).state == "quarantined"
    assert guard == []


# --- the cards, as pure functions ------------------------------------------------------

# Every kind of window notice the payloads declare.
MAINTENANCE_KINDS = list(get_args(WindowKind))
LINKS = chat.Links(
    details="http://localhost/maintenance/1", manage="http://localhost/subscriptions/manage/t"
)


def test_every_maintenance_notice_has_both_cards(app, db, css):
    window = one_off(db, css, title="Firmware upgrade")
    window.note = "Expect **short** drops"
    window.release_notes = "New codecs"
    db.flush()
    previous = (window.starts_at - timedelta(days=1), window.ends_at - timedelta(days=1))
    for kind in MAINTENANCE_KINDS:
        payload = notices.window_payload(
            window,
            kind,
            previous=previous if kind == "maintenance_rescheduled" else None,
            removed=["Webex"] if kind == "maintenance_no_longer_affected" else (),
        )
        payload["window"]["url"] = "http://localhost" + payload["window"]["url"]
        for mode in ("teams", "slack"):
            message = {"teams": teams_channel, "slack": slack_channel}[mode].CHANNEL.build(
                payload, language="en", provider_tz="America/Denver", links=LINKS
            )
            if mode == "teams":
                check_teams(message)
                text, links = teams_text(message), teams_links(message)
            else:
                check_slack(message)
                text, links = slack_text(message), slack_links(message)
            assert "Firmware upgrade" in text, kind
            assert "Fri, Nov 20, 2026, 20:00" in text and "Sat, Nov 21, 03:00" in text, kind
            assert f"http://localhost/maintenance/{window.id}" in links
            if kind == "maintenance_rescheduled":
                assert "Thu, Nov 19, 2026, 20:00" in text
            if kind == "maintenance_release_notes":
                assert "New codecs" in text
            if kind == "maintenance_no_longer_affected":
                assert "Webex" in text
            assert "Expect short drops" in text  # Markdown rendered to plain text


# Text a hostile or careless staff member might type (see tests/security/test_text_properties.py).
PIECES = [
    "\x00",
    "\x07",
    "\x1b",
    "\x7f",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\u202e",
    "\u200b",
    "\ud800",
    "\ufeff",
    "<!channel>",
    "<!here>",
    "<@U123>",
    "<http://x|y>",
    "@channel",
    "@everyone",
    "&",
    "&amp;",
    "<script>alert(1)</script>",
    "<b>",
    "{{DATE(2020-01-01)}}",
    "*",
    "_",
    "~",
    "`",
    "[a](javascript:alert(1))",
    "|",
    ">",
]
PIECE = st.one_of(st.characters(), st.sampled_from(PIECES))
TEXT = st.one_of(
    st.lists(PIECE, max_size=40).map("".join),
    st.lists(PIECE, min_size=1, max_size=20).map(lambda p: ("".join(p) * 10_000)[:10_000]),
)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    title=TEXT,
    body=TEXT,
    platform=TEXT,
    kind=st.sampled_from(["incident_updated", "maintenance_start"]),
)
def test_hostile_text_cannot_break_a_card_or_ping_a_channel(title, body, platform, kind):
    if kind.startswith("incident"):
        payload: dict[str, Any] = {
            "kind": kind,
            "incident": {
                "id": 1,
                "title": title,
                "priority": "P2",
                "is_master_case": False,
                "case_number": platform,
                "impact": "major",
                "status": "identified",
                "url": "http://localhost/incidents/1",
            },
            "update": {
                "id": 1,
                "status": "identified",
                "body": body,
                "at": "2026-11-20T15:00:00+00:00",
                "etr": None,
            },
            "platforms": [platform, "Cisco"],
        }
    else:
        payload = {
            "kind": kind,
            "window": {
                "id": 1,
                "title": title,
                "starts_at": "2026-11-20T15:00:00+00:00",
                "ends_at": "2026-11-20T16:00:00+00:00",
                "platforms": [platform],
                "description": body,
                "justification": body,
                "urgency": "",
                "note": title,
                "release_notes": "",
                "url": "http://localhost/maintenance/1",
                "impact": "maintenance",
                "unscheduled": False,
            },
        }
    teams = teams_channel.CHANNEL.build(
        payload, language="en", provider_tz="America/Denver", links=LINKS
    )
    slack = slack_channel.CHANNEL.build(
        payload, language="en", provider_tz="America/Denver", links=LINKS
    )
    for message in (teams, slack):
        encoded = json.dumps(message, ensure_ascii=False).encode()  # encodable, whatever came in
        assert json.loads(encoded) == message
    assert len(json.dumps(teams, ensure_ascii=False).encode()) < 28_000  # Teams' message size
    check_teams(teams)
    check_slack(slack)
    text = teams_text(teams)
    card = teams["attachments"][0]["content"]
    written = [r["text"] for b in card["body"] if b.get("separator") for r in b["inlines"]]
    assert all("<script" not in w.lower() and "<b>" not in w for w in written)  # HTML stripped
    assert re.search(r"15:00(–16:00)? UTC", text) and "MST" in text
    assert teams_links(teams) == [LINKS.details, LINKS.manage]
    assert slack_links(slack) == [LINKS.details, LINKS.manage]
    header = slack["blocks"][0]["text"]["text"]
    assert "\n" not in header and "\r" not in header


def test_resending_the_confirmation_of_a_channel_sends_a_new_welcome(app, db, css, receiver, guard):
    subscriber = channel(db, receiver.url, "teams")
    receiver.plan.append((404, 0.0, {}))  # the channel was not set up yet
    tick(app, NOW)
    staff_api.resend_confirmation(
        db, css, subscriber, secret=app.config["SECRET_KEY"], now=NOW + timedelta(minutes=1)
    )
    db.commit()
    kinds = db.scalars(select(Notice.kind).where(Notice.direct_subscriber_id == subscriber.id))
    assert set(kinds) == {"webhook_verification"}  # never a confirmation mail to a URL
    tick(app, NOW + timedelta(minutes=1))
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).state == "active"
    assert all("This channel will receive" in teams_text(b) for b in bodies(receiver))
