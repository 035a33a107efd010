"""Subscribers: double opt-in, signed tokens, preferences and the MPOC import."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from statuspage.models import Notice, Subscriber, Subscription
from statuspage.services import NotFound, ValidationError
from statuspage.services.subscriptions import links, mpoc, preferences, signup

SECRET = "test-secret"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def confirm_token(db, key):
    notice = db.scalar(select(Notice).where(Notice.key == key))
    return notice.payload["confirm_url"].rsplit("/", 1)[1]


def maintenance_of(db, email: str, platform: str, now: datetime):
    """Ask, as `email`, for the maintenance notices of one platform."""
    return signup.subscribe(
        db, secret=SECRET, email=email, platforms=[platform], topics=["maintenance"], now=now
    )


def test_subscribe_queues_only_a_confirmation(db):
    result = maintenance_of(db, "Ann@Example.com ", "cisco", NOW)
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.address == "ann@example.com" and subscriber.confirmed_at is None
    assert [s.confirmed_at for s in subscriber.subscriptions] == [None]
    notice = db.scalar(select(Notice).where(Notice.key == result.notice_key))
    assert notice.kind == "subscription_confirm" and notice.audience == "direct"
    assert db.scalar(select(func.count()).select_from(Notice)) == 1


def test_known_and_new_addresses_get_the_same_treatment(db):
    signup.subscribe(db, secret=SECRET, email="known@example.com", platforms=["cisco"], now=NOW)
    later = NOW + signup.CONFIRMATION_INTERVAL  # past the confirmation-mail throttle
    a = signup.subscribe(
        db, secret=SECRET, email="known@example.com", platforms=["cisco"], now=later
    )
    b = signup.subscribe(db, secret=SECRET, email="new@example.com", platforms=["cisco"], now=NOW)
    assert type(a) is type(b) and a.notice_key != b.notice_key
    kinds = [n.kind for n in db.scalars(select(Notice))]
    assert kinds == ["subscription_confirm"] * 3


def test_confirm_link_confirms_address_and_subscriptions(db):
    r = signup.subscribe(
        db,
        secret=SECRET,
        email="a@example.com",
        platforms=["cisco", "contact-centre"],
        topics=["incidents"],
        now=NOW,
    )
    subscriber = signup.confirm(
        db, secret=SECRET, token=confirm_token(db, r.notice_key), now=NOW + timedelta(minutes=3)
    )
    assert subscriber.confirmed_at == NOW + timedelta(minutes=3)
    assert all(s.confirmed_at for s in subscriber.subscriptions)
    assert [(s.incidents, s.maintenance) for s in subscriber.subscriptions] == [
        (True, False),
        (True, False),
    ]


def test_stranger_cannot_change_a_known_subscribers_language(db):
    r = signup.subscribe(
        db, secret=SECRET, email="a@example.com", platforms=["cisco"], language="de", now=NOW
    )
    signup.confirm(db, secret=SECRET, token=confirm_token(db, r.notice_key), now=NOW)
    signup.subscribe(
        db,
        secret=SECRET,
        email="a@example.com",
        platforms=["contact-centre"],
        language="es",
        now=NOW,
    )
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.language == "de"
    pending = [s for s in subscriber.subscriptions if s.confirmed_at is None]
    assert len(pending) == 1  # contact-centre waits for the owner's confirmation


def test_forged_tampered_and_foreign_tokens_are_refused(db):
    r = signup.subscribe(db, secret=SECRET, email="a@example.com", platforms=["cisco"], now=NOW)
    token = confirm_token(db, r.notice_key)
    forged = URLSafeTimedSerializer("guessed", salt="subscriptions.confirm").dumps(
        {"s": 1, "v": 0, "sub": [1]}
    )
    for bad in (forged, token[:-2] + "xx", "", "not-a-token"):
        with pytest.raises(NotFound):
            signup.confirm(db, secret=SECRET, token=bad, now=NOW)
    manage = links.manage_path(SECRET, db.scalar(select(Subscriber))).rsplit("/", 1)[1]
    with pytest.raises(NotFound):  # a manage token is not a confirmation token
        signup.confirm(db, secret=SECRET, token=manage, now=NOW)


def test_confirmation_link_expires(db, monkeypatch):
    r = signup.subscribe(db, secret=SECRET, email="a@example.com", platforms=["cisco"], now=NOW)
    token = confirm_token(db, r.notice_key)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 8 * 86400)
    with pytest.raises(NotFound):
        signup.confirm(db, secret=SECRET, token=token, now=NOW)


def test_raising_token_version_kills_old_links(db):
    signup.subscribe(db, secret=SECRET, email="a@example.com", platforms=["cisco"], now=NOW)
    subscriber = db.scalar(select(Subscriber))
    token = links.manage_path(SECRET, subscriber).rsplit("/", 1)[1]
    assert links.read_token(db, SECRET, "manage", token)[0] is subscriber
    subscriber.token_version += 1
    with pytest.raises(NotFound):
        links.read_token(db, SECRET, "manage", token)


def test_preferences_replace_platforms_and_mute_maintenance(db):
    made = signup.subscribe(
        db, secret=SECRET, email="a@example.com", platforms=["cisco", "contact-centre"], now=NOW
    )
    subscriber = signup.confirm(
        db, secret=SECRET, token=confirm_token(db, made.notice_key), now=NOW
    )
    preferences.update_preferences(
        db,
        subscriber,
        platforms={"cisco": ["incidents"], "contact-centre": []},
        language="es",
        timezone="Europe/Madrid",
        now=NOW,
    )
    assert [(s.platform.slug, s.incidents, s.maintenance) for s in subscriber.subscriptions] == [
        ("cisco", True, False)
    ]
    assert subscriber.language == "es" and subscriber.confirmed_at == NOW


def test_the_manage_form_never_confirms_platforms_waiting_for_their_link(db):
    """What a stranger asked for at /subscribe, for a known address or a new one, is neither
    confirmed, changed nor dropped by saving preferences; its confirmation link confirms it."""
    made = signup.subscribe(db, secret=SECRET, email="a@example.com", platforms=["cisco"], now=NOW)
    subscriber = signup.confirm(
        db, secret=SECRET, token=confirm_token(db, made.notice_key), now=NOW
    )
    later = NOW + timedelta(minutes=11)
    added = maintenance_of(db, "a@example.com", "contact-centre", later)
    assert preferences.awaiting_confirmation(subscriber) == {
        s.platform_id for s in subscriber.subscriptions if s.platform.slug == "contact-centre"
    }
    for wanted in ({"cisco": ["incidents"], "contact-centre": ["incidents"]}, {"cisco": []}):
        preferences.update_preferences(
            db, subscriber, platforms=wanted, language="en", timezone="UTC", now=later
        )
        state = {
            s.platform.slug: (s.incidents, s.maintenance, s.confirmed_at)
            for s in subscriber.subscriptions
        }
        assert state["contact-centre"] == (False, True, None)
    signup.confirm(db, secret=SECRET, token=confirm_token(db, added.notice_key), now=later)
    assert [(s.platform.slug, s.maintenance, s.confirmed_at) for s in subscriber.subscriptions] == [
        ("contact-centre", True, later)
    ]
    assert preferences.awaiting_confirmation(subscriber) == set()


def test_unsubscribe_all_is_idempotent(db):
    signup.subscribe(db, secret=SECRET, email="a@example.com", platforms=["cisco"], now=NOW)
    subscriber = db.scalar(select(Subscriber))
    preferences.unsubscribe_all(db, subscriber, NOW)
    preferences.unsubscribe_all(db, subscriber, NOW)
    assert db.scalar(select(func.count()).select_from(Subscription)) == 0


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"email": "not-an-address", "platforms": ["cisco"]}, "email"),
        ({"email": "a@example.com", "platforms": ["nope"]}, "platforms"),
        ({"email": "a@example.com", "platforms": []}, "platforms"),
        ({"email": "a@example.com", "platforms": ["cisco"], "language": "fr"}, "language"),
        (
            {"email": "a@example.com", "platforms": ["cisco"], "timezone": "Mars/Olympus"},
            "timezone",
        ),
        ({"email": "a@example.com", "platforms": ["cisco"], "topics": ["spam"]}, "topics"),
        ({"email": "a@example.com", "incident_id": 999}, "incident"),
    ],
)
def test_bad_subscribe_requests_write_nothing(db, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        signup.subscribe(db, secret=SECRET, now=NOW, **kwargs)
    assert field in exc.value.errors
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.scalar(select(func.count()).select_from(Notice)) == 0


def make_csv(rows: int, bad_every: int) -> tuple[str, int]:
    lines = ["email,name,organisation,platforms,topics,language"]
    bad = 0
    for i in range(rows):
        if i % bad_every == bad_every - 1:
            kind = bad % 5
            bad += 1
            lines.append(
                [
                    f"broken{i}-at-example.com,Bad,Org,cisco,incidents,en",
                    f"x{i}@example.com,Bad,Org,no-such-platform,incidents,en",
                    f"x{i}@example.com,Bad,Org,cisco,gossip,en",
                    f"x{i}@example.com,Bad,Org,cisco,incidents,fr",
                    f"x{i}@example.com,Bad,Org,,incidents,en",
                ][kind]
            )
        else:
            lines.append(
                f"mpoc{i}@example.com,Contact {i},Org {i % 40},"
                f"cisco;microsoft-teams,incidents;maintenance,{['en', 'es', 'de'][i % 3]}"
            )
    return "\n".join(lines) + "\n", bad


@pytest.mark.one_backend
@pytest.mark.slow
def test_import_of_10000_rows_with_50_bad(db):
    text, bad = make_csv(10_000, 200)
    assert bad == 50
    rows = mpoc.read_csv(io.StringIO(text))
    result = mpoc.import_contacts(db, rows, actor=None, now=NOW)
    db.commit()
    assert result.created == 9_950 and len(result.errors) == 50
    assert all(isinstance(line, int) and msg for line, msg in result.errors)
    assert (
        db.scalar(
            select(func.count()).select_from(Subscriber).where(Subscriber.confirmed_at.is_not(None))
        )
        == 9_950
    )
    assert (
        db.scalar(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.confirmed_at.is_not(None))
        )
        == 19_900
    )


def test_import_reports_line_numbers_and_keeps_good_rows(db):
    text = (
        "email,name,organisation,platforms,topics,language\n"
        "good@example.com,Good,Org,cisco,maintenance,de\n"
        "bad,Bad,Org,cisco,incidents,en\n"
    )
    result = mpoc.import_contacts(db, mpoc.read_csv(io.StringIO(text)), actor=None, now=NOW)
    assert result.created == 1
    assert result.errors[0][0] == 3 and "email" in result.errors[0][1]
    good = db.scalar(select(Subscriber))
    assert (good.language, good.source) == ("de", "import")
    assert [(s.incidents, s.maintenance) for s in good.subscriptions] == [(False, True)]


def test_import_refuses_a_file_without_the_columns(db):
    with pytest.raises(ValidationError):
        list(mpoc.read_csv(io.StringIO("name,organisation\nA,B\n")))
