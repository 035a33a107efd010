"""The channel seam (docs/channels.md): one registry of channel modules, and what the app
offers every channel however few use it yet: ceilings with held messages released by staff,
a channel's own routes whose actions the app records, confirmation by a code typed on a page,
and one formatter of moments whose zone order is a parameter."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from statuspage import channels, moments
from statuspage.channels.base import Ceilings, Inbound, Reply, Route, Stop
from statuspage.channels.email import Email
from statuspage.models import AuditEntry, Delivery, Notice, Subscriber
from statuspage.services import PermissionDenied, notices
from statuspage.services.subscriptions import channel_signup, signup
from tests.helpers import NOW, csrf_of, login, open_incident
from tests.outbox import add_subscribers, tick

MT = "America/Denver"


def statuses(db, notice_id: int) -> dict[str, int]:
    rows = db.execute(
        select(Delivery.status, func.count())
        .where(Delivery.notice_id == notice_id)
        .group_by(Delivery.status)
    )
    return dict(rows.all())


@pytest.mark.one_backend
def test_every_module_defining_a_channel_is_in_the_registry_once():
    defined = []
    for module in pkgutil.iter_modules(channels.__path__):
        found = getattr(importlib.import_module(f"statuspage.channels.{module.name}"), "CHANNEL", 0)
        if found:
            defined.append(found.name)
    assert sorted(defined) == sorted(channels.names())
    assert len(set(channels.names())) == len(channels.names())
    assert channels.names()[0] == "email"  # Statuspage's default type leads every list


def test_messages_beyond_a_channels_ceiling_are_held_until_staff_release_them(
    app, client, db, css, engineer, monkeypatch
):
    monkeypatch.setattr(Email, "ceilings", lambda self, settings: Ceilings(per_notice=3))
    add_subscribers(db, 5)
    incident = open_incident(db, css)
    tick(app, NOW)
    notice = db.scalar(select(Notice).where(Notice.incident_id == incident.id))
    assert statuses(db, notice.id) == {"sent": 3, "held": 2}
    held = db.scalars(select(Delivery).where(Delivery.status == "held")).all()
    assert all("ceiling of 3 email messages a notice" in d.last_error for d in held)
    tick(app, NOW + timedelta(hours=2))  # held stays held: nothing is dropped or sent
    assert statuses(db, notice.id) == {"sent": 3, "held": 2}
    assert db.get(Notice, notice.id).status == "queued"

    login(client, engineer)
    page = client.get(f"/admin/notices/{notice.id}").get_data(as_text=True)
    assert "Held 2" in page and "Release and send" not in page
    with pytest.raises(PermissionDenied):
        notices.release_held(db, engineer, notice.id, NOW)
    login(client, css)
    page = client.get(f"/admin/notices/{notice.id}").get_data(as_text=True)
    token = csrf_of(page)
    released = client.post(f"/admin/notices/{notice.id}/release", data={"csrf_token": token})
    assert released.status_code == 302
    assert db.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == (
        "notices.release_held"
    )
    tick(app, NOW + timedelta(hours=2, minutes=1))
    db.expire_all()
    assert statuses(db, notice.id) == {"sent": 5}  # each once, the released past the ceiling
    assert db.get(Notice, notice.id).status == "done"


def test_the_hourly_ceiling_holds_a_later_notice_too(app, db, css, monkeypatch):
    monkeypatch.setattr(Email, "ceilings", lambda self, settings: Ceilings(per_hour=4))
    add_subscribers(db, 3)
    first = open_incident(db, css)
    tick(app, NOW)
    second = open_incident(db, css, now=NOW + timedelta(minutes=5))
    tick(app, NOW + timedelta(minutes=5))
    by_incident = {
        i.id: statuses(db, db.scalar(select(Notice.id).where(Notice.incident_id == i.id)))
        for i in (first, second)
    }
    assert by_incident == {first.id: {"sent": 3}, second.id: {"sent": 1, "held": 2}}


def test_a_channels_route_answers_and_the_app_records_its_actions(app, client, db, monkeypatch):
    add_subscribers(db, 1)
    address = db.scalar(select(Subscriber.address))
    seen: list[Inbound] = []

    def handler(inbound: Inbound, settings: Any) -> Reply:
        seen.append(inbound)
        if inbound.headers.get("X-Signed") != "yes":
            return Reply(status=403, body="bad signature")
        return Reply(body="<Response/>", content_type="text/xml", actions=(Stop(address),))

    monkeypatch.setattr(channels.get("email"), "routes", (Route("inbound", handler),))
    refused = client.post("/channels/email/inbound?x=1", data={"From": address})
    assert refused.status_code == 403
    assert db.scalar(select(Subscriber.stopped_at)) is None
    answered = client.post(
        "/channels/email/inbound?x=1", data={"From": address}, headers={"X-Signed": "yes"}
    )
    assert (answered.status_code, answered.get_data(as_text=True)) == (200, "<Response/>")
    assert seen[-1].url == "http://localhost/channels/email/inbound?x=1"
    assert seen[-1].form == {"From": [address]}
    db.expire_all()
    assert db.scalar(select(Subscriber)).state == "unsubscribed"  # stopped: nothing more sent
    assert client.post("/channels/email/elsewhere").status_code == 404
    assert client.post("/channels/pigeon/inbound").status_code == 404


class Pager(Email):
    """A channel confirmed by a code typed on a page (as SMS is)."""

    name = "pager"
    confirmation = "code"
    default_topics = ("incidents",)


def test_a_code_confirms_only_within_its_tries_and_age(db, monkeypatch):
    registry = {**channels._registry(), "pager": Pager()}
    monkeypatch.setattr(channels, "_registry", lambda: registry)

    def pager(address: str) -> channel_signup.ChannelSubscription:
        return channel_signup.subscribe_channel(
            db, channel="pager", address=address, platform_slugs=["cisco"], secret="s", now=NOW
        )

    made = pager("ann@example.com")
    notice = db.scalar(select(Notice).where(Notice.direct_subscriber_id == made.subscriber.id))
    code = notice.payload["code"]
    token = signup.verify_path("s", made.subscriber).rsplit("/", 1)[1]
    wrong = "".join(str((int(c) + 1) % 10) for c in code)
    check = signup.confirm_code(db, secret="s", token=token, code=wrong, now=NOW)
    assert not check.confirmed and made.subscriber.verification_failures == 1
    check = signup.confirm_code(db, secret="s", token=token, code=code, now=NOW)
    assert check.confirmed and made.subscriber.state == "active"
    (sub,) = made.subscriber.subscriptions
    assert (sub.incidents, sub.maintenance) == (True, False)  # the channel's default topics

    again = pager("bob@example.com")
    token = signup.verify_path("s", again.subscriber).rsplit("/", 1)[1]
    late = NOW + signup.CODE_MAX_AGE + timedelta(seconds=1)
    sent = db.scalar(select(Notice).where(Notice.direct_subscriber_id == again.subscriber.id))
    check = signup.confirm_code(db, secret="s", token=token, code=sent.payload["code"], now=late)
    assert not check.confirmed and "expired" in check.error
    for _ in range(signup.CODE_TRIES):
        signup.confirm_code(db, secret="s", token=token, code="000000x", now=NOW)
    check = signup.confirm_code(db, secret="s", token=token, code=sent.payload["code"], now=NOW)
    assert not check.confirmed and again.subscriber.confirmed_at is None


@pytest.mark.one_backend
def test_the_reader_leads_where_asked_and_each_zone_is_written_once():
    at = datetime(2026, 12, 19, 5, 0, tzinfo=UTC)
    usual = moments.written(at, moments.Zones(MT, "Europe/Berlin"))
    first = moments.written(at, moments.Zones(MT, "Europe/Berlin", reader_first=True))
    assert usual == "Fri, Dec 18, 2026, 22:00 MST · Sat, Dec 19, 05:00 UTC · 06:00 CET"
    assert first == "Sat, Dec 19, 2026, 06:00 CET · Fri, Dec 18, 22:00 MST · Sat, Dec 19, 05:00 UTC"
    assert moments.written(at, moments.Zones(MT, MT, reader_first=True)).count("MST") == 1
    assert moments.written(at, moments.Zones("UTC", "UTC")) == "Sat, Dec 19, 2026, 05:00 UTC"
    assert "Sa." in moments.written(at, moments.Zones("UTC"), "de")
