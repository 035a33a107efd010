"""`component_update` webhook events: a platform's status change, as Statuspage sends it.

Every path that changes a platform's status (the Manage API's component PATCH, an incident's
platform statuses as it opens and resolves, a window starting and completing) queues one
keyed notice per change, in the same transaction; the outbox sends it once to each confirmed
webhook subscriber of the platform, signed; email subscribers and Teams/Slack channels get
nothing from it. The receiver here checks the signature with its own code, written from
the documented contract (docs/channels.md), not with the sender's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from jobs import delivery
from statuspage.models import Delivery, Notice, Platform, Subscriber, Subscription
from statuspage.services import incidents, maintenance
from statuspage.services import platforms as platform_service
from statuspage.services.subscriptions import channel_signup, pauses
from tests.api.support import BASE, token_for
from tests.helpers import login, open_incident
from tests.maintenance_fixtures import one_off
from tests.webhook_receiver import LOOPBACK, NOW, Receiver, platforms, tick

UPDATE_KEYS = ["created_at", "new_status", "old_status", "id", "component_id"]


def signed_by(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's own check: v1= hex HMAC-SHA256 of `timestamp.body` under the secret."""
    timestamp = headers.get("X-Statuspage-Timestamp", "")
    given = headers.get("X-Statuspage-Signature", "")
    if not timestamp.isdigit() or not given.startswith("v1="):
        return False
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(given[3:], mac.hexdigest())


def cisco(db) -> Platform:
    return db.scalar(select(Platform).where(Platform.slug == "cisco"))


def verified_hook(app, db, receiver: Receiver) -> str:
    made = channel_signup.subscribe_channel(
        db, address=receiver.url, platforms=platforms(db), settings=LOOPBACK, now=NOW
    )
    db.commit()
    tick(app, NOW)  # the verification, echoed
    db.expire_all()
    assert db.get(Subscriber, made.subscriber.id).state == "active"
    return made.secret


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in receiver.components]


def component_notices(db) -> list[Notice]:
    return list(
        db.scalars(select(Notice).where(Notice.kind == "component_update").order_by(Notice.id))
    )


def test_api_patch_sends_the_statuspage_envelope_signed(app, client, db, receiver, guard):
    secret = verified_hook(app, db, receiver)
    platform = cisco(db)
    answer = client.patch(
        f"{BASE}/components/{platform.id}",
        headers=token_for(db, "css"),
        json={"component": {"status": "partial_outage"}},
    )
    assert answer.status_code == 200, answer.get_json()
    tick(app, NOW + timedelta(minutes=1))
    ((headers, body),) = receiver.components
    assert signed_by(secret, headers, body)
    assert not signed_by("another secret", headers, body)
    assert not signed_by(secret, headers, body.replace(b"partial_outage", b"operational", 1))
    event = json.loads(body)
    assert list(event) == ["meta", "page", "component_update", "component"]
    (notice,) = component_notices(db)
    update = event["component_update"]
    assert list(update) == UPDATE_KEYS
    assert update == {
        "created_at": "2026-11-20T15:00:00.000Z",
        "new_status": "partial_outage",
        "old_status": "operational",
        "id": str(notice.id),
        "component_id": str(platform.id),
    }
    component = event["component"]
    assert component["id"] == str(platform.id) and component["name"] == "Cisco"
    assert component["status"] == "partial_outage" and component["page_id"] == "calltower"
    assert {"created_at", "updated_at", "position", "description", "group_id"} <= set(component)
    assert event["page"]["id"] == "calltower"
    assert event["meta"]["unsubscribe"].startswith("http://localhost/subscriptions/unsubscribe/")
    # Sent once: later passes send nothing again.
    tick(app, NOW + timedelta(hours=1))
    assert len(receiver.components) == 1
    (d,) = db.scalars(select(Delivery).where(Delivery.notice_id == notice.id)).all()
    assert (d.channel, d.status, d.attempts) == ("webhook", "sent", 1)
    assert guard == []


def test_every_status_path_queues_one_notice_per_change(app, db, css, receiver, guard):
    verified_hook(app, db, receiver)
    platform = cisco(db)
    # An incident's platform statuses: opened (major outage), then resolved (operational).
    incident = open_incident(db, css, NOW + timedelta(minutes=1))
    incidents.resolve(db, css, incident, body="Fixed", now=NOW + timedelta(minutes=2))
    db.commit()
    # Staff set the same status again: no change, no notice.
    platform_service.set_status(db, css, platform, "operational", NOW + timedelta(minutes=3))
    db.commit()
    # A window with impact starting and completing.
    window = one_off(
        db,
        css,
        starts_at=NOW + timedelta(minutes=10),
        ends_at=NOW + timedelta(minutes=20),
        now=NOW + timedelta(minutes=4),
    )
    db.commit()
    maintenance.advance_windows(db, NOW + timedelta(minutes=10))
    db.commit()
    maintenance.advance_windows(db, NOW + timedelta(minutes=20))
    db.commit()
    assert window.status == "completed"
    changes = [
        (n.payload["component_update"]["old_status"], n.payload["component_update"]["new_status"])
        for n in component_notices(db)
    ]
    assert changes == [
        ("operational", "major_outage"),
        ("major_outage", "operational"),
        ("operational", "under_maintenance"),
        ("under_maintenance", "operational"),
    ]
    # Recomputing the statuses again changes nothing and queues nothing.
    platform_service.refresh_statuses(db, [platform.id], NOW + timedelta(minutes=30))
    db.commit()
    assert len(component_notices(db)) == 4
    tick(app, NOW + timedelta(minutes=30))
    tick(app, NOW + timedelta(minutes=31))
    got = [
        (e["component_update"]["old_status"], e["component_update"]["new_status"])
        for e in events(receiver)
    ]
    assert sorted(got) == sorted(changes)  # each change exactly once
    assert guard == []


def test_the_key_makes_a_change_unique(app, db, receiver, guard):
    verified_hook(app, db, receiver)
    platform = cisco(db)
    for _ in range(2):
        platform_service.component_changed(db, platform.id, "operational", "major_outage", NOW)
    db.commit()
    assert len(component_notices(db)) == 1
    delivery.fan_out(db, NOW)
    delivery.fan_out(db, NOW)
    (notice,) = component_notices(db)
    assert db.scalar(select(func.count()).where(Delivery.notice_id == notice.id)) == 1


def test_only_webhook_subscribers_of_the_platform_are_told(app, db, css, receiver, guard):
    verified_hook(app, db, receiver)
    platform = cisco(db)
    other = db.scalar(select(Platform).where(Platform.slug != "cisco"))
    for email, mode, subscribed_to in (
        ("mpoc@example.com", "email", platform),
        ("https://teams.example.com/hook", "teams", platform),
        ("https://hooks.example.com/other", "webhook", other),
    ):
        subscriber = Subscriber(
            address=email,
            mode=mode,
            webhook_secret="s" * 64,
            confirmed_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        subscriber.subscriptions.append(
            Subscription(platform_id=subscribed_to.id, confirmed_at=NOW, created_at=NOW)
        )
        db.add(subscriber)
    db.commit()
    platform_service.set_status(
        db, css, platform, "degraded_performance", NOW + timedelta(minutes=1)
    )
    db.commit()
    delivery.fan_out(db, NOW + timedelta(minutes=1))
    (notice,) = component_notices(db)
    told = db.scalars(select(Delivery.address).where(Delivery.notice_id == notice.id)).all()
    assert told == [receiver.url]


def test_no_webhook_subscriber_no_notice(app, db, css, guard):
    platform = cisco(db)
    platform_service.set_status(db, css, platform, "major_outage", NOW)
    db.commit()
    assert component_notices(db) == []  # it would reach nobody


def test_an_endpoint_subscribed_after_the_change_is_not_told(app, db, css, receiver, guard):
    verified_hook(app, db, receiver)
    platform_service.set_status(db, css, cisco(db), "major_outage", NOW + timedelta(minutes=1))
    db.commit()
    late = Receiver()
    try:
        made = channel_signup.subscribe_channel(
            db, address=late.url, platforms=platforms(db), settings=LOOPBACK, now=NOW
        )
        made.subscriber.confirmed_at = NOW + timedelta(minutes=2)
        for sub in made.subscriber.subscriptions:
            sub.confirmed_at = NOW + timedelta(minutes=2)
        db.commit()
        tick(app, NOW + timedelta(minutes=3))
        assert len(receiver.components) == 1
        assert late.components == []
    finally:
        late.server.shutdown()
        late.server.server_close()


def test_a_quarantined_webhook_is_not_told(app, db, css, receiver, guard):
    verified_hook(app, db, receiver)
    subscriber = db.scalar(select(Subscriber).where(Subscriber.mode == "webhook"))
    pauses.quarantine(db, subscriber.id, "HTTP 503", NOW)
    db.commit()
    platform_service.set_status(db, css, cisco(db), "major_outage", NOW + timedelta(minutes=1))
    db.commit()
    tick(app, NOW + timedelta(minutes=1))
    assert receiver.components == []
    (notice,) = component_notices(db)
    assert notice.status == "done"


def test_staff_see_a_component_update_in_the_notice_list(app, client, db, css, receiver, guard):
    verified_hook(app, db, receiver)
    platform_service.component_changed(db, cisco(db).id, "operational", "major_outage", NOW)
    db.commit()
    login(client, css)
    page = client.get("/admin/notices").get_data(as_text=True)
    assert "Cisco: Operational → Major outage (to webhooks)" in page
