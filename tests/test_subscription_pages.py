"""The public subscription pages over HTTP: no enumeration, CSRF, signed links, limits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import Notice, Subscriber, Subscription
from statuspage.seed.defaults import seed_platforms
from statuspage.services import subscriptions as svc


def csrf_token(client, path):  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def post_subscribe(client, **fields):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "language": "en",
        "timezone": "America/Denver",
        "incidents": "y",
        "maintenance": "y",
        **fields,
    }
    return client.post("/subscribe", data=data)


def test_subscribe_form_lists_platforms_with_labels(client):
    html = client.get("/subscribe").get_data(as_text=True)
    assert "Microsoft Teams (Operator Connect)" in html
    assert '<label for="email">' in html


def test_subscribe_answers_the_same_for_known_and_unknown(client, db):
    first = post_subscribe(client, email="known@example.com", platforms=["cisco"])
    again = post_subscribe(client, email="known@example.com", platforms=["cisco"])
    fresh = post_subscribe(client, email="fresh@example.com", platforms=["cisco"])
    assert first.status_code == again.status_code == fresh.status_code == 200
    strip = lambda r: re.sub(r"csrf_token[^>]+", "", r.get_data(as_text=True))  # noqa: E731
    assert strip(again) == strip(fresh)
    # The second mail to the known address waits out the confirmation throttle, silently.
    assert db.scalar(select(func.count()).select_from(Notice)) == 2


def test_subscribe_without_csrf_is_refused_and_writes_nothing(client, db):
    response = client.post("/subscribe", data={"email": "a@example.com", "platforms": "cisco"})
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "nope", "platforms": ["cisco"]}, "email"),
        ({"email": "a@example.com"}, "choose at least one platform"),
        ({"email": "a@example.com", "platforms": ["atlantis"]}, "unknown platform"),
        (
            {"email": "a@example.com", "platforms": ["cisco"], "timezone": "Nowhere/Land"},
            "not a known time zone",
        ),
        ({"email": "a@example.com", "platforms": ["cisco"], "language": "xx"}, "Not a valid"),
        ({"email": "<script>alert(1)</script>@x", "platforms": ["cisco"]}, "email"),
    ],
)
def test_bad_subscribe_input_gets_a_form_error_and_writes_nothing(client, db, fields, message):
    response = post_subscribe(client, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>alert(1)</script>" not in html
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_confirm_manage_and_one_click_unsubscribe(app, client, db):
    post_subscribe(client, email="a@example.com", platforms=["cisco", "contact-centre"])
    notice = db.scalar(select(Notice))
    link = notice.payload["confirm_url"]
    assert client.get(link).status_code == 200  # shows the button, confirms nothing
    assert db.scalar(select(Subscriber)).confirmed_at is None
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.confirmed_at is not None
    manage = svc.manage_path(app.config["SECRET_KEY"], subscriber)
    page = client.get(manage)
    assert page.status_code == 200 and "a@example.com" in page.get_data(as_text=True)
    token = csrf_token(client, manage)
    saved = client.post(
        manage,
        data={
            "csrf_token": token,
            "language": "de",
            "timezone": "Europe/Berlin",
            "cisco:incidents": "on",
        },
    )
    assert saved.status_code == 200
    db.refresh(subscriber)
    assert subscriber.language == "de"
    assert [(s.platform.slug, s.incidents, s.maintenance) for s in subscriber.subscriptions] == [
        ("cisco", True, False)
    ]
    unsubscribe = svc.unsubscribe_path(app.config["SECRET_KEY"], subscriber)
    confirm_page = client.get(unsubscribe)
    assert confirm_page.status_code == 200 and "<form" in confirm_page.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Subscription)) == 1  # GET changes nothing
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without any form token.
    done = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert db.scalar(select(func.count()).select_from(Subscription)) == 0


def test_forged_links_are_not_found(client, db):
    for path in (
        "/subscriptions/confirm/abc",
        "/subscriptions/manage/abc.def.ghi",
        "/subscriptions/unsubscribe/x",
    ):
        assert client.get(path).status_code == 404
    assert client.post("/subscriptions/unsubscribe/x").status_code == 404


def test_incident_subscription_from_its_page(client, db, css, now):
    from statuspage.services import incidents

    incident = incidents.create_incident(db, css, title="Down", priority="P2", now=now)
    db.commit()
    page = client.get(f"/subscribe?incident={incident.id}").get_data(as_text=True)
    assert "Down" in page
    response = post_subscribe(client, email="b@example.com", incident=str(incident.id))
    assert response.status_code == 200
    sub = db.scalar(select(Subscription))
    assert sub.incident_id == incident.id and sub.platform_id is None


def test_subscribe_is_rate_limited(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-long-enough-for-create-app",
            "RATELIMIT_ENABLED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'rl.db'}",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        _db.create_all()
        from datetime import UTC, datetime

        seed_platforms(_db.session, datetime.now(UTC))
        _db.session.commit()
        client = app.test_client()
        codes = [
            client.post(
                "/subscribe",
                data={
                    "email": f"u{i}@example.com",
                    "platforms": "cisco",
                    "language": "en",
                    "timezone": "UTC",
                    "incidents": "y",
                },
            ).status_code
            for i in range(12)
        ]
        _db.session.remove()
        _db.engine.dispose()
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
