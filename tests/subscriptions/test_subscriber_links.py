"""Subscriber links: unsubscribing retires old links, re-subscribing needs a fresh opt-in,
a confirmation link only shows a page (its button confirms), confirmation mails are
throttled per address in the database."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.extensions import db as _db
from statuspage.models import Notice, Subscriber, Subscription
from statuspage.services import addresses
from statuspage.services.subscriptions import links, signup
from tests.helpers import NOW, count, csrf_token
from tests.subscriptions import forms

MINUTE = timedelta(minutes=1)


def post_subscribe(client, email="a@example.com", platforms=("cisco",)):
    return forms.post_subscribe(client, email=email, platforms=list(platforms))


def confirmations(db) -> list[Notice]:
    return list(
        db.scalars(select(Notice).where(Notice.kind == "subscription_confirm").order_by(Notice.id))
    )


def confirm_over_http(client, url):
    return client.post(url, data={"csrf_token": csrf_token(client, url)})


def confirmed_subscriber(app, client, db) -> Subscriber:
    post_subscribe(client)
    assert (
        confirm_over_http(client, confirmations(db)[-1].payload["confirm_url"]).status_code == 200
    )
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.confirmed_at is not None
    return subscriber


def strip_csrf(response) -> str:
    return re.sub(r"csrf_token[^>]+", "", response.get_data(as_text=True))


# --- unsubscribing retires the old links --------------------------------------------


def test_unsubscribe_retires_the_old_manage_and_unsubscribe_links(app, client, db):
    subscriber = confirmed_subscriber(app, client, db)
    secret = app.config["SECRET_KEY"]
    manage = links.manage_path(secret, subscriber)
    unsubscribe = links.unsubscribe_path(secret, subscriber)
    token = csrf_token(client, manage)
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200

    assert client.get(manage).status_code == 404
    assert client.get(unsubscribe).status_code == 404
    # The old manage form cannot bring the address back, confirmed, without a new opt-in.
    replay = client.post(
        manage,
        data={"csrf_token": token, "language": "en", "timezone": "UTC", "cisco:incidents": "on"},
    )
    assert replay.status_code == 404
    db.expire_all()
    assert count(db, Subscription) == 0
    assert db.get(Subscriber, subscriber.id).confirmed_at is None


def test_unsubscribe_kills_a_pending_confirmation_link(app, client, db):
    subscriber = confirmed_subscriber(app, client, db)
    post_subscribe(client, platforms=["contact-centre"])
    pending_link = confirmations(db)[-1].payload["confirm_url"]
    client.post(links.unsubscribe_path(app.config["SECRET_KEY"], subscriber))
    assert client.get(pending_link).status_code == 404
    assert client.post(pending_link).status_code in (400, 404)
    db.expire_all()
    assert count(db, Subscription) == 0


def test_resubscribing_after_unsubscribe_needs_a_fresh_confirmation(app, client, db):
    subscriber = confirmed_subscriber(app, client, db)
    client.post(links.unsubscribe_path(app.config["SECRET_KEY"], subscriber))
    sent_before = len(confirmations(db))
    app.config["FIXED_NOW"] = NOW + 11 * MINUTE  # past the confirmation-mail throttle

    again = post_subscribe(client, email="a@example.com")
    stranger = post_subscribe(client, email="stranger@example.com")
    assert again.status_code == stranger.status_code == 200
    assert strip_csrf(again) == strip_csrf(stranger)  # nothing tells the address was known

    db.expire_all()
    subscriber = db.get(Subscriber, subscriber.id)
    assert subscriber.confirmed_at is None
    assert [s.confirmed_at for s in subscriber.subscriptions] == [None]
    assert len(confirmations(db)) == sent_before + 2  # one for each address, nothing else
    assert count(db, Notice) == len(confirmations(db))

    link = confirmations(db)[-2].payload["confirm_url"]
    assert confirm_over_http(client, link).status_code == 200
    db.expire_all()
    subscriber = db.get(Subscriber, subscriber.id)
    assert subscriber.confirmed_at is not None
    assert all(s.confirmed_at for s in subscriber.subscriptions)


def test_a_fresh_confirmation_gives_links_that_work_again(app, client, db):
    subscriber = confirmed_subscriber(app, client, db)
    old_manage = links.manage_path(app.config["SECRET_KEY"], subscriber)
    client.post(links.unsubscribe_path(app.config["SECRET_KEY"], subscriber))
    app.config["FIXED_NOW"] = NOW + 11 * MINUTE  # past the confirmation-mail throttle
    post_subscribe(client)
    confirmed = confirm_over_http(client, confirmations(db)[-1].payload["confirm_url"])
    new_manage = re.search(
        r'href="(/subscriptions/manage/[^"]+)"', confirmed.get_data(as_text=True)
    )
    assert new_manage and new_manage.group(1) != old_manage
    assert client.get(new_manage.group(1)).status_code == 200
    assert client.get(old_manage).status_code == 404


# --- the confirmation link shows a page; its button confirms -------------------------


def test_get_on_a_confirmation_link_shows_a_button_and_confirms_nothing(client, db):
    post_subscribe(client)
    link = confirmations(db)[-1].payload["confirm_url"]
    for _ in range(2):  # a mail scanner fetching the link, twice
        page = client.get(link)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert '<form method="post"' in html and "<button" in html
    db.expire_all()
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.confirmed_at is None
    assert [s.confirmed_at for s in subscriber.subscriptions] == [None]


def test_the_confirm_button_needs_its_form_token(client, db):
    post_subscribe(client)
    link = confirmations(db)[-1].payload["confirm_url"]
    assert client.post(link).status_code == 400
    db.expire_all()
    assert db.scalar(select(Subscriber)).confirmed_at is None
    assert confirm_over_http(client, link).status_code == 200
    db.expire_all()
    assert db.scalar(select(Subscriber)).confirmed_at is not None


def test_forged_confirmation_links_are_not_found_for_get_and_post(client, db):
    token = csrf_token(client, "/subscribe")
    for path in ("/subscriptions/confirm/abc", "/subscriptions/confirm/a.b.c"):
        assert client.get(path).status_code == 404
        assert client.post(path, data={"csrf_token": token}).status_code == 404


def test_one_click_unsubscribe_post_works_without_a_form_token(app, client, db):
    subscriber = confirmed_subscriber(app, client, db)
    path = links.unsubscribe_path(app.config["SECRET_KEY"], subscriber)
    other = app.test_client()  # a mail client: no session, no CSRF token
    response = other.post(
        path,
        data={"List-Unsubscribe": "One-Click"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    db.expire_all()
    assert count(db, Subscription) == 0
    assert db.get(Subscriber, subscriber.id).token_version == 1


# --- confirmation mails are throttled per address --------------------------------------


def subscribe_at(db, moment, email="ann@example.com"):
    return signup.subscribe(db, secret="test-secret", email=email, platforms=["cisco"], now=moment)


def test_confirmation_mails_to_one_address_are_throttled(db):
    sent = [subscribe_at(db, NOW + offset * MINUTE) for offset in (0, 1, 9)]
    assert [r.notice_key is not None for r in sent] == [True, False, False]
    assert len(confirmations(db)) == 1
    # Another address is not held up by this one.
    assert subscribe_at(db, NOW, email="bob@example.com").notice_key is not None
    assert len(confirmations(db)) == 2


def test_at_most_five_confirmation_mails_a_day(db):
    moments = [NOW + i * 11 * MINUTE for i in range(7)]
    keys = [subscribe_at(db, m).notice_key for m in moments]
    assert [k is not None for k in keys] == [True] * 5 + [False] * 2
    last_sent = moments[4]
    assert subscribe_at(db, last_sent + timedelta(hours=23)).notice_key is None
    assert subscribe_at(db, last_sent + timedelta(hours=24, minutes=1)).notice_key is not None
    assert len(confirmations(db)) == 6


def test_a_throttled_request_answers_like_any_other(client, db):
    first = post_subscribe(client, email="known@example.com")
    throttled = post_subscribe(client, email="known@example.com")
    fresh = post_subscribe(client, email="fresh@example.com")
    assert first.status_code == throttled.status_code == fresh.status_code == 200
    assert strip_csrf(throttled) == strip_csrf(fresh)
    assert [n.direct_address for n in confirmations(db)] == [
        "known@example.com",
        "fresh@example.com",
    ]


def test_the_throttle_holds_across_workers(app, db):
    """Two workers read the allowance, then both try to take it: the conditional write lets
    only the first through, also when neither had seen the mailbox before."""
    key = addresses.mailbox_key("ann@example.com")
    other = Session(bind=_db.engine)
    try:
        # Neither worker has seen the mailbox: one insert wins, the other finds it taken.
        assert signup._take_confirmation(db, key, None, NOW)
        db.commit()
        assert not signup._take_confirmation(other, key, None, NOW)
        other.commit()
        # Both read the allowance; the first takes it; the second's stale view matches nothing.
        seen = signup._allowance_of(other, key)
        assert seen is not None and seen.sent == 1
        assert signup._take_confirmation(db, key, signup._allowance_of(db, key), NOW + 11 * MINUTE)
        db.commit()
        assert not signup._take_confirmation(other, key, seen, NOW + 11 * MINUTE)
        other.commit()
    finally:
        other.close()
    assert signup._allowance_of(db, key).sent == 2


def test_plus_tags_and_spellings_of_one_mailbox_share_its_throttle(db):
    """The throttle counts per mailbox: case, a +tag and the domain's Unicode or ASCII form
    do not make another one. Dots do (only some providers ignore them)."""
    moments = iter(NOW + i * MINUTE for i in range(100))
    for email in ("ann@example.com", "ann+1@example.com", "ANN+news@Example.COM"):
        sent = subscribe_at(db, next(moments), email=email).notice_key is not None
        assert sent == (email == "ann@example.com"), email
    assert subscribe_at(db, next(moments), email="a.nn@example.com").notice_key is not None
    assert subscribe_at(db, NOW, email="zoe@bücher.example").notice_key is not None
    assert subscribe_at(db, NOW + MINUTE, email="zoe+x@xn--bcher-kva.example").notice_key is None
    # Five a day for the mailbox, whatever tags the requests use.
    keys = [
        subscribe_at(db, NOW + (11 + 11 * i) * MINUTE, email=f"ann+{i}@example.com").notice_key
        for i in range(6)
    ]
    assert [k is not None for k in keys] == [True] * 4 + [False] * 2
