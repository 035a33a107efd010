"""Exactly-once delivery against a local server that speaks SendGrid's v3 Mail Send."""

from __future__ import annotations

import collections
import os
import re
import signal
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, insert, select

from jobs import delivery
from jobs import scheduler as job_scheduler
from statuspage.models import Delivery, Notice, Platform, Subscriber, Subscription
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.helpers import NOW, PROJECT_ROOT, csrf_token, open_incident, wait_until
from tests.maintenance_fixtures import MT, window_on
from tests.outbox import add_subscribers, counts, flask, flask_tick, kill_in_flight, tick

ROOT = str(PROJECT_ROOT)


# --- the whole flow -------------------------------------------------------------------


def test_subscribe_confirm_notices_and_unsubscribe_over_http(app, client, db, admin, sendgrid):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    db.commit()
    # Maintenance only, in Spanish, in Madrid's zone.
    form = {"email": "mpoc@example.com", "platforms": ["cisco"], "maintenance": "y"}
    reader = {"language": "es", "timezone": "Europe/Madrid"}
    client.post(
        "/subscribe", data={"csrf_token": csrf_token(client, "/subscribe"), **form, **reader}
    )
    tick(app, NOW)
    [confirmation] = list(sendgrid.messages())
    assert confirmation.email == "mpoc@example.com"
    link = re.search(r"http://localhost(/subscriptions/confirm/\S+)", confirmation.text).group(1)
    csrf = csrf_token(client, link)  # the link shows a button; it confirms
    assert client.post(link, data={"csrf_token": csrf}).status_code == 200

    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    week_before = datetime(2026, 12, 11, 22, 0, tzinfo=MT)
    tick(app, week_before - timedelta(minutes=1))
    assert len(list(sendgrid.messages())) == 1
    tick(app, week_before)
    tick(app, week_before + timedelta(minutes=1))  # a second pass sends nothing again
    notice = list(sendgrid.messages())[1]
    assert notice.subject.startswith("Mantenimiento dentro de una semana")
    # The subscriber's zone first (the subject's too), then MT and UTC, a line each.
    assert notice.subject.endswith(" · sáb, 19 dic 2026, 06:00 CET")
    assert "Fecha y hora: sáb, 19 dic 2026, 06:00–12:00 CET\n" in notice.text
    assert "  vie, 18 dic, 22:00 – sáb, 19 dic, 04:00 MST\n" in notice.text
    assert "  sáb, 19 dic, 05:00–11:00 UTC\n" in notice.text
    assert "Cisco" in notice.text and "Justificación" in notice.text
    assert notice.html.startswith("<!doctype html>") and "Cisco" in notice.html
    unsubscribe = notice.headers["List-Unsubscribe"].strip("<>")
    assert notice.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "-unsubscribe_url-" not in notice.text and unsubscribe in notice.text
    assert "/subscriptions/manage/" in notice.text

    tick(app, window.starts_at)
    assert list(sendgrid.messages())[2].subject.startswith("El mantenimiento ha comenzado")
    path = unsubscribe.replace("http://localhost", "")
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    tick(app, window.ends_at)  # the completion notice finds nobody
    assert len(list(sendgrid.messages())) == 3


def test_batches_of_at_most_1000_personalisations(app, db, css, sendgrid):
    add_subscribers(db, 2500)
    open_incident(db, css)
    report = tick(app, NOW)
    # Several requests are in flight at once: they may be answered in any order.
    assert sorted(len(r["personalizations"]) for r in sendgrid.requests) == [500, 1000, 1000]
    assert report.delivery.sent == 2500
    assert max(counts(sendgrid).values()) == 1


def test_several_requests_in_flight_at_once_each_recipient_once(app, db, css, sendgrid):
    app.config["DELIVERY_CONCURRENCY"] = 3
    sendgrid.overlap = 2  # a request waits until another is in flight beside it
    add_subscribers(db, 5500)
    open_incident(db, css)
    report = tick(app, NOW)
    assert 1 < sendgrid.max_in_flight <= 3  # they overlapped, and never more than the bound
    assert sorted(len(r["personalizations"]) for r in sendgrid.requests) == [500] + [1000] * 5
    assert report.delivery.sent == 5500 and report.delivery.batches == 6
    got = counts(sendgrid)
    assert len(got) == 5500 and set(got.values()) == {1}
    db.expire_all()
    assert {(d.status, d.possibly_duplicated) for d in db.scalars(select(Delivery))} == {
        ("sent", False)
    }


def test_one_request_at_a_time_when_concurrency_is_1(app, db, css, sendgrid):
    app.config["DELIVERY_CONCURRENCY"] = 1
    sendgrid.latency = 0.1
    add_subscribers(db, 2500)
    open_incident(db, css)
    tick(app, NOW)
    assert sendgrid.max_in_flight == 1
    assert [len(r["personalizations"]) for r in sendgrid.requests] == [1000, 1000, 500]


def test_each_batch_is_committed_as_sending_before_its_request_is_made(app, db, css, sendgrid):
    add_subscribers(db, 3500)
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    sendgrid.overlap = 2
    ctx = job_scheduler.delivery_context(app)
    ctx.concurrency = 3
    # Another connection sees only what is committed: what a restarted sender would find.
    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    seen: list[tuple[int, set[str], set[str]]] = []

    def before_send(ids: list[int]) -> None:
        with other.connect() as conn:
            rows = conn.execute(
                select(Delivery.status, Delivery.address).where(Delivery.id.in_(ids))
            )
            statuses, emails = zip(*rows, strict=True)
        seen.append((len(ids), set(statuses), set(emails) & set(sendgrid.recipients())))

    ctx.before_send = before_send
    try:
        report = delivery.deliver(db, NOW, ctx)
    finally:
        other.dispose()
    assert sorted(n for n, _, _ in seen) == [500, 1000, 1000, 1000]
    assert all(statuses == {"sending"} and not sent for _, statuses, sent in seen)
    assert report.sent == 3500 and 1 < sendgrid.max_in_flight <= 3


def test_languages_and_zones_get_their_own_copy(app, db, css, sendgrid):
    add_subscribers(db, 2, language="de", tz="Europe/Berlin", prefix="de")
    add_subscribers(db, 2, language="en", tz="Asia/Tokyo", prefix="jp")
    open_incident(db, css, priority="P1G")
    tick(app, NOW)
    by_email = {m.email: m for m in sendgrid.messages()}
    assert len(sendgrid.requests) == 2
    german = next(m for e, m in by_email.items() if e.startswith("de"))
    # Each zone as its language writes it: MEZ in German; Tokyo has no English name in
    # CLDR, so its offset.
    assert german.subject.startswith("[Hauptfall P1G] Neuer Vorfall") and "MEZ" in german.text
    assert "UTC+9" in next(m for e, m in by_email.items() if e.startswith("jp")).text


# --- failures and retries -------------------------------------------------------------


def test_500_then_429_then_accepted_delivers_each_once(app, db, css, sendgrid):
    add_subscribers(db, 30)
    open_incident(db, css)
    sendgrid.fail_next(500)
    report = tick(app, NOW)
    assert report.delivery.retried == 30 and sendgrid.requests == []
    queued = db.scalars(select(Delivery)).all()
    assert {d.status for d in queued} == {"queued"}
    retry_at = queued[0].next_attempt_at
    assert retry_at > NOW
    reset = time.time() + 120
    sendgrid.fail_next(429, headers={"X-RateLimit-Reset": str(int(reset))})
    tick(app, retry_at - timedelta(seconds=1))  # not yet due: nothing is tried
    assert sendgrid.attempts == 1
    tick(app, retry_at)
    db.expire_all()
    honoured = db.scalars(select(Delivery)).first().next_attempt_at
    assert timedelta(seconds=100) < honoured - retry_at <= timedelta(seconds=121)
    tick(app, honoured)
    assert sendgrid.attempts == 3
    assert sorted(counts(sendgrid).values()) == [1] * 30
    db.expire_all()
    assert {(d.status, d.possibly_duplicated) for d in db.scalars(select(Delivery))} == {
        ("sent", False)
    }


def test_rate_limited_mid_pass_claims_nothing_more_and_records_requests_in_flight(
    app, db, css, sendgrid
):
    app.config["DELIVERY_CONCURRENCY"] = 2
    sendgrid.latency = 0.3
    add_subscribers(db, 4000)
    open_incident(db, css)
    reset = time.time() + 120
    sendgrid.fail_next(429, headers={"X-RateLimit-Reset": str(int(reset))})
    report = tick(app, NOW)
    # Two requests went out together: one was refused, the other's answer is still recorded,
    # and no third request was made after the provider asked us to slow down.
    assert sendgrid.attempts == 2
    assert (report.delivery.sent, report.delivery.retried) == (1000, 1000)
    db.expire_all()
    state = collections.Counter((d.status, d.attempts) for d in db.scalars(select(Delivery)))
    assert state == {("sent", 1): 1000, ("queued", 1): 1000, ("queued", 0): 2000}
    later = max(d.next_attempt_at for d in db.scalars(select(Delivery)))
    tick(app, later)
    got = counts(sendgrid)
    assert len(got) == 4000 and set(got.values()) == {1}


def test_a_mailer_bug_ends_the_pass_and_leaves_the_batches_in_flight_to_their_lease(app, db, css):
    from statuspage.mail.memory import MemoryMailer

    class Broken(MemoryMailer):
        def send(self, batch):
            raise RuntimeError("a bug, not an answer from the provider")

    add_subscribers(db, 2500)
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    ctx = job_scheduler.delivery_context(app)
    ctx.concurrency, ctx.transports["email"] = 2, Broken()
    with pytest.raises(RuntimeError, match="a bug"):
        delivery.deliver(db, NOW, ctx)
    db.expire_all()
    state = collections.Counter(d.status for d in db.scalars(select(Delivery)))
    assert state == {"sending": 2000, "queued": 500}  # nothing more claimed after the bug
    ctx.transports["email"] = MemoryMailer()
    report = delivery.deliver(db, NOW + delivery.LEASE + timedelta(minutes=1), ctx)
    assert (report.recovered, report.sent) == (2000, 2500)
    db.expire_all()
    marked = db.scalars(select(Delivery).where(Delivery.possibly_duplicated.is_(True))).all()
    assert len(marked) == 2000


def test_permanent_error_is_recorded_and_shown_to_staff(app, client, db, css, sendgrid):
    from tests.helpers import login

    add_subscribers(db, 3)
    open_incident(db, css)
    sendgrid.fail_next(400, body={"errors": [{"message": "Invalid from address"}]})
    tick(app, NOW)
    tick(app, NOW + timedelta(hours=2))
    failed = db.scalars(select(Delivery)).all()
    assert {d.status for d in failed} == {"failed"}
    assert "Invalid from address" in failed[0].last_error
    assert sendgrid.attempts == 1
    login(client, css)
    html = client.get("/admin/notices").get_data(as_text=True)
    assert '<strong class="overdue">3</strong>' in html


def test_timeout_is_retried_and_marked_possibly_duplicated(app, db, css, sendgrid):
    add_subscribers(db, 2)
    open_incident(db, css)
    app.config["SENDGRID_TIMEOUT"] = 2
    sendgrid.delay_next(3.5)  # the client gives up after 2 s; the server still accepts
    started = time.monotonic()
    tick(app, NOW)
    assert time.monotonic() - started < 10
    deliveries = db.scalars(select(Delivery)).all()
    assert {(d.status, d.possibly_duplicated) for d in deliveries} == {("queued", True)}
    tick(app, NOW + timedelta(hours=1))
    db.expire_all()
    assert {d.status for d in db.scalars(select(Delivery))} == {"sent"}


# --- processes killed and run side by side ---------------------------------------------


def assert_all_sent_marking(db, addresses: set[str]) -> None:
    """Every delivery is sent, and those to `addresses` (and only those) are marked as
    possibly duplicated."""
    db.expire_all()
    marked = {
        d.address
        for d in db.scalars(select(Delivery).where(Delivery.possibly_duplicated.is_(True)))
    }
    assert marked == addresses
    assert {d.status for d in db.scalars(select(Delivery))} == {"sent"}


@pytest.mark.slow
def test_sender_killed_mid_fan_out_resends_only_the_request_in_flight(app, db, css, sendgrid):
    add_subscribers(db, 2500)
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    sendgrid.delay_next(0, times=1)
    sendgrid.delay_next(4)  # the second request hangs: the process is killed meanwhile
    # One request at a time, so which batch is in flight is known (several: the next test).
    proc = flask_tick(app, sendgrid, NOW, DELIVERY_CONCURRENCY="1")
    kill_in_flight(proc, lambda: sendgrid.attempts)
    time.sleep(0.1)
    db.expire_all()
    state = collections.Counter(d.status for d in db.scalars(select(Delivery)))
    assert state == {"sent": 1000, "sending": 1000, "queued": 500}
    # Restarted after the lease ran out: the batch in flight goes again, marked.
    job_scheduler.tick(app, NOW + delivery.LEASE + timedelta(minutes=1))
    # The hung request is accepted late, as SendGrid may have done.
    wait_until(lambda: len(sendgrid.requests) >= 4, timeout=40, step=0.1)
    got = collections.Counter(m.email for m in sendgrid.messages())
    assert len(got) == 2500  # nothing lost
    twice = {e for e, n in got.items() if n == 2}
    assert len(twice) == 1000 and max(got.values()) == 2
    assert_all_sent_marking(db, twice)


@pytest.mark.slow
def test_sender_killed_with_several_requests_in_flight_resends_only_those(app, db, css, sendgrid):
    add_subscribers(db, 3500)  # four requests: 1000, 1000, 1000 and 500
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    for seconds in (0, 6, 6, 0):  # by order of arrival: two answered at once, two hang
        sendgrid.delay_next(seconds)
    proc = flask_tick(app, sendgrid, NOW, DELIVERY_CONCURRENCY="4")

    def sent() -> set[str]:
        db.expire_all()
        return set(db.scalars(select(Delivery.address).where(Delivery.status == "sent")))

    wait_until(
        lambda: (
            sendgrid.attempts == 4
            and len(sendgrid.requests) == 2
            and sent() == set(sendgrid.recipients())
        ),
        timeout=60,
    )
    answered = set(sendgrid.recipients())
    assert sendgrid.attempts == 4 and len(sendgrid.requests) == 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    db.expire_all()
    by_status = collections.defaultdict(set)
    for d in db.scalars(select(Delivery)):
        by_status[d.status].add(d.address)
    hung = by_status["sending"]
    assert by_status["sent"] == answered and len(answered) + len(hung) == 3500
    assert set(by_status) == {"sent", "sending"}
    # Restarted after the lease ran out: the two batches in flight go again, marked.
    job_scheduler.tick(app, NOW + delivery.LEASE + timedelta(minutes=1))
    # The hung requests are accepted late, as SendGrid may have done.
    wait_until(lambda: len(sendgrid.requests) >= 6, timeout=40, step=0.1)
    got = collections.Counter(m.email for m in sendgrid.messages())
    assert len(got) == 3500  # nothing lost
    assert {e for e, n in got.items() if n == 2} == hung and max(got.values()) == 2
    assert_all_sent_marking(db, hung)


@pytest.mark.slow
def test_two_tick_processes_at_once_send_each_notice_once(app, db, css, sendgrid, db_url):
    add_subscribers(db, 3000)
    open_incident(db, css)
    sendgrid.delay_next(0.3, times=10)
    procs = [flask_tick(app, sendgrid, NOW) for _ in range(2)]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    got = collections.Counter(m.email for m in sendgrid.messages())
    assert len(got) == 3000 and set(got.values()) == {1}
    assert db.scalar(select(func.count()).select_from(Notice)) == 1


@pytest.mark.slow
def test_embedded_scheduler_and_manual_tick_together_send_once(app, db, css, sendgrid, tmp_path):
    add_subscribers(db, 1500)
    real_now = datetime.now(UTC)
    open_incident(db, css, now=real_now)
    port = _free_port()
    serve = flask(app, sendgrid, "serve", "--port", str(port))
    try:
        _wait_until_serving(port)  # the page answers: the scheduler beside it is running
        manual = flask_tick(app, sendgrid, datetime.now(UTC))
        assert manual.wait(timeout=120) == 0
        wait_until(lambda: len(sendgrid.recipients()) >= 1500, timeout=60, step=0.2)
        time.sleep(1)
        assert serve.poll() is None, "the serving process stopped"
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=20)
    got = collections.Counter(sendgrid.recipients())
    assert len(got) == 1500 and set(got.values()) == {1}


def _wait_until_serving(port: int) -> None:
    import urllib.request

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/maintenance", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the embedded server never answered")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- downtime -----------------------------------------------------------------------


def test_scheduler_down_across_week_before_and_start(app, db, sendgrid):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    add_subscribers(db, 5, topics=("maintenance",))
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))

    def about_window() -> list[str]:
        ids = {str(n.id) for n in db.scalars(select(Notice).where(Notice.window_id == window.id))}
        return [m.subject for m in sendgrid.messages() if m.custom_args["notice_id"] in ids]

    tick(app, NOW)  # running, three weeks before the window
    assert about_window() == []
    # ... down from here until 20 minutes after the window started ...
    tick(app, window.starts_at + timedelta(minutes=20))
    subjects = about_window()
    assert len(subjects) == 5 and all(s.startswith("Maintenance has started") for s in subjects)
    found = {n.kind: n for n in db.scalars(select(Notice).where(Notice.window_id == window.id))}
    assert found["maintenance_week_before"].status == "skipped"
    assert found["maintenance_start"].late


def test_p1g_overdue_alerts_css_at_the_deadline_and_reminds_every_quarter_hour(
    app, db, css, sendgrid
):
    incident = open_incident(db, css, priority="P1G")

    def alerts() -> list[str]:
        on_duty = app.config["CSS_ON_DUTY_EMAIL"]
        return [m.subject for m in sendgrid.messages() if m.email == on_duty]

    tick(app, NOW + timedelta(minutes=59))
    assert alerts() == []
    tick(app, NOW + timedelta(minutes=61))
    tick(app, NOW + timedelta(minutes=62))  # the same moment: nothing new
    assert len(alerts()) == 1 and "P1G" in alerts()[0]
    tick(app, NOW + timedelta(minutes=75))  # 15 minutes overdue: the first reminder
    assert len(alerts()) == 2 and "15 min" in alerts()[1]
    incidents.post_update(db, css, incident, body="Still on it", now=NOW + timedelta(minutes=80))
    db.commit()
    tick(app, NOW + timedelta(minutes=90))  # updated: no reminder
    tick(app, NOW + timedelta(minutes=150))  # the next deadline (+140) passed
    assert len(alerts()) == 3


def test_a_late_notice_skips_people_who_subscribed_after_it(app, db, css, sendgrid):
    add_subscribers(db, 2, prefix="early")
    open_incident(db, css)  # created at NOW; the service is down until later
    later = NOW + timedelta(hours=1)
    db.execute(
        insert(Subscriber),
        [
            {
                "address": "late@example.com",
                "name": "",
                "organisation": "",
                "language": "en",
                "timezone": "UTC",
                "source": "web",
                "confirmed_at": later,
                "token_version": 0,
                "created_at": later,
                "updated_at": later,
            }
        ],
    )
    late_id = db.scalar(select(Subscriber.id).where(Subscriber.address == "late@example.com"))
    cisco = db.scalar(select(Platform.id).where(Platform.slug == "cisco"))
    db.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": late_id,
                "platform_id": cisco,
                "incidents": True,
                "maintenance": True,
                "confirmed_at": later,
                "created_at": later,
            }
        ],
    )
    db.commit()
    tick(app, later + timedelta(minutes=5))
    assert sorted(sendgrid.recipients()) == ["early1@example.com", "early2@example.com"]
