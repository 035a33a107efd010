"""SMS subscribers (docs/channels.md, "SMS"): opt-in by a code, notices in the subscriber's
language within 2 segments, STOP/START/HELP and status callbacks through Twilio's signed
webhooks, retries, a killed sender, quarantine, ceilings, the Manage API and the pages.

Every message goes to a local server that speaks Twilio's Messages API (tests/twilio_server.py)
on 127.0.0.1; the `guard` fixture fails a test that tries to connect anywhere else."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import flask_babel
import pytest
from sqlalchemy import func, insert, select
from twilio.request_validator import RequestValidator

from jobs import delivery
from statuspage.channels import sms
from statuspage.models import Delivery, Notice, Platform, Subscriber, Subscription
from tests.api.support import BASE, token_for
from tests.helpers import NOW, csrf_of, login, open_incident, wait_until
from tests.maintenance_fixtures import one_off
from tests.outbox import flask_tick, kill_in_flight, tick
from tests.twilio_server import ACCOUNT, SENDER, TOKEN, twilio_server

SITE = "http://localhost"
NUMBER = "+12015550123"


@pytest.fixture
def twilio(app):
    with twilio_server() as server:
        app.config.update(
            TWILIO_ACCOUNT_SID=ACCOUNT,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_FROM=SENDER,
            TWILIO_API_BASE=server.url,
            TWILIO_TIMEOUT=2,
        )
        yield server


# --- counting as the network does, written from GSM 03.38 and 3GPP 23.040 alone -------------

GSM_SEPTETS = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_ESCAPED = set("\f^{}\\[~]|€")


def segments(text: str) -> tuple[str, int]:
    if all(c in GSM_SEPTETS | GSM_ESCAPED for c in text):
        units, single, part = [1 + (c in GSM_ESCAPED) for c in text], 160, 153
        encoding = "GSM-7"
    else:
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part, encoding = 70, 67, "UCS-2"
    if sum(units) <= single:
        return encoding, 1
    count, used = 1, 0
    for unit in units:  # a character (an escape pair, a surrogate pair) is never split
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return encoding, count


@pytest.mark.one_backend
def test_segments_are_counted_with_the_gsm7_and_ucs2_rules():
    assert sms.segments("a" * 160) == segments("a" * 160) == ("GSM-7", 1)
    assert sms.segments("a" * 161) == ("GSM-7", 2)
    assert sms.segments("€" * 80) == ("GSM-7", 1) and sms.segments("€" * 81) == ("GSM-7", 2)
    assert sms.segments("a" * 152 + "€" + "a" * 153) == ("GSM-7", 3)  # the pair is not split
    assert sms.segments("ж" * 70) == ("UCS-2", 1) and sms.segments("ж" * 71) == ("UCS-2", 2)
    assert sms.segments("🔥" * 35) == ("UCS-2", 1) and sms.segments("🔥" * 36) == ("UCS-2", 2)
    assert sms.segments("a" * 66 + "🔥" + "a" * 67) == ("UCS-2", 3)
    # GSM-7 where possible: accents GSM-7 lacks dropped, typography made plain.
    assert sms.sendable("Actualización – “sí”…") == 'Actualizacion - "si"...'
    assert sms.sendable("Störung: Größe ändert") == "Störung: Größe ändert"  # GSM-7 has these
    assert sms.sendable("Звонки 🔥") == "Звонки 🔥"  # no GSM-7 form: sent as UCS-2


def test_a_number_is_e164_and_a_landline_is_refused(db):
    channel = sms.CHANNEL
    assert channel.check_address("(201) 555-0123", {"SMS_DEFAULT_COUNTRY": "US"}) == NUMBER
    assert channel.check_address("+34 612 345 678", {}) == "+34612345678"
    for bad, said in (
        ("555", "not a valid phone number"),
        ("+34 912 345 678", "landline"),
        ("call me", "not a phone number"),
    ):
        with pytest.raises(sms.AddressRefused, match=said):
            channel.check_address(bad, {})


def subscribe(client, number: str = NUMBER, **fields: Any):
    data = {
        "csrf_token": csrf_of(client.get("/subscribe").get_data(as_text=True)),
        "channel": "sms",
        "phone_number": number,
        "platforms": ["cisco"],
        "incidents": "y",
        "language": "en",
        "timezone": "America/New_York",
        **fields,
    }
    return client.post("/subscribe", data=data)


def test_a_number_opts_in_with_the_code_sent_by_sms(app, client, db, twilio, guard):
    page = subscribe(client, language="es", timezone="Europe/Madrid")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert NUMBER not in html and 'name="code"' in html  # the number is not repeated
    tick(app, NOW)
    (sent,) = twilio.to(NUMBER)
    code = re.search(r"\b(\d{6})\b", sent.body).group(1)
    assert "codigo" in sent.body and segments(sent.body)[1] <= 2  # Spanish, in GSM-7
    link = re.search(rf"{SITE}(/subscriptions/verify/\S+?),", sent.body).group(1)
    verify, _, query = link.partition("?")
    assert verify in html  # the page's own address, in the text for whoever closed it
    assert query == "lang=es"  # and it opens in the subscriber's language
    flask_babel.refresh()  # the test's app context keeps the locale of the last request
    assert '<html lang="es">' in client.get(link).get_data(as_text=True)
    client.delete_cookie("lang")  # the rest of the test reads the English words
    flask_babel.refresh()
    subscriber = db.scalar(select(Subscriber))
    assert (subscriber.mode, subscriber.address, subscriber.state) == ("sms", NUMBER, "unconfirmed")

    token = csrf_of(client.get(verify).get_data(as_text=True))
    wrong = client.post(
        verify, data={"csrf_token": token, "code": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 422 and "not the code we sent" in wrong.get_data(as_text=True)
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).verification_failures == 1
    right = client.post(verify, data={"csrf_token": token, "code": code})
    assert right.status_code == 200 and "/subscriptions/manage/" in right.get_data(as_text=True)
    db.expire_all()
    subscriber = db.get(Subscriber, subscriber.id)
    assert subscriber.state == "active"
    (sub,) = subscriber.subscriptions
    assert (sub.incidents, sub.maintenance) == (True, False)  # maintenance only if asked

    # Asking again for a known number says nothing of it and confirms nothing.
    again = subscribe(client, platforms=["contact-centre"])
    assert again.status_code == 200 and 'name="code"' in again.get_data(as_text=True)


def add_numbers(db, numbers: dict[str, str], slugs=("cisco",), maintenance=False) -> None:
    """Confirmed SMS subscribers: number -> language, inserted in bulk."""
    zones = {"en": "America/New_York", "es": "Europe/Madrid", "de": "Europe/Berlin"}
    db.execute(
        insert(Subscriber),
        [
            {
                "address": number,
                "mode": "sms",
                "name": "",
                "organisation": "",
                "language": language,
                "timezone": zones[language],
                "source": "web",
                "confirmed_at": NOW - timedelta(days=1),
                "token_version": 0,
                "created_at": NOW - timedelta(days=1),
                "updated_at": NOW - timedelta(days=1),
            }
            for number, language in numbers.items()
        ],
    )
    ids = db.scalars(select(Subscriber.id).where(Subscriber.address.in_(numbers))).all()
    platforms = db.scalars(select(Platform.id).where(Platform.slug.in_(slugs))).all()
    db.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": sid,
                "platform_id": pid,
                "incident_id": None,
                "incidents": True,
                "maintenance": maintenance,
                "confirmed_at": NOW - timedelta(days=1),
                "created_at": NOW - timedelta(days=1),
            }
            for sid in ids
            for pid in platforms
        ],
    )
    db.commit()


def master_case(db, css, now=NOW, title="Teams calling down – every customer on Cisco"):
    return open_incident(db, css, now, "P1G", title=title, body="Looking into it", impact="none")


def send_all(app, db, now, passes: int = 60) -> None:
    for n in range(passes):
        tick(app, now + timedelta(seconds=n))
        waiting = db.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.status.in_(("queued", "sending")))
        )
        if not waiting:
            return


@pytest.mark.slow
def test_a_master_case_reaches_2000_numbers_in_three_languages_each_once_within_two_segments(
    app, db, css, twilio, guard
):
    numbers = {f"+1201555{i:04d}": "en" for i in range(667)}
    numbers |= {f"+34612{i:06d}": "es" for i in range(667)}
    numbers |= {f"+49151{i:08d}": "de" for i in range(666)}
    add_numbers(db, numbers)
    master_case(db, css)
    send_all(app, db, NOW)
    got = Counter(m.to for m in twilio.messages)
    assert set(got) == set(numbers) and set(got.values()) == {1}  # each once
    words = {"en": "Master case P1G", "es": "Caso maestro P1G", "de": "Hauptfall P1G"}
    for message in twilio.messages:
        assert segments(message.body)[1] <= 2, message.body
        assert words[numbers[message.to]] in message.body
        assert f"{SITE}/incidents/" in message.body
        assert "/subscriptions/unsubscribe/" in message.body  # the one-click stop link
        assert message.status_callback == f"{SITE}/channels/sms/status"
    assert {segments(m.body)[0] for m in twilio.messages} == {"GSM-7"}  # "–" made plain
    assert (
        db.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent"))
        == 2000
    )


def test_a_title_gsm7_cannot_write_goes_in_ucs2_within_two_segments(app, db, css, twilio, guard):
    add_numbers(db, {NUMBER: "en"})
    master_case(db, css, title="Звонки Teams не работают у всех клиентов")
    send_all(app, db, NOW)
    (message,) = twilio.messages
    assert segments(message.body) == ("UCS-2", 2) and "Звонки" in message.body


def test_429_and_5xx_are_retried_and_each_number_gets_it_once(app, db, css, twilio, guard):
    add_numbers(db, {NUMBER: "en", "+12015550124": "en"})
    twilio.fail_next(429, headers={"Retry-After": "1"})
    twilio.fail_next(503)
    open_incident(db, css)
    tick(app, NOW)
    assert len(twilio.messages) == 0 or len(twilio.messages) == 1  # a 429 claims nothing more
    send_all(app, db, NOW + timedelta(hours=1))
    assert sorted(m.to for m in twilio.messages) == [NUMBER, "+12015550124"]
    rows = db.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [d.status for d in rows] == ["sent", "sent"] and max(d.attempts for d in rows) >= 2
    assert all(d.provider_id and d.provider_id.startswith("SM") for d in rows)
    assert not any(d.possibly_duplicated for d in rows)  # each error was an answer


@pytest.mark.slow
def test_a_killed_sender_resends_only_the_request_in_flight_marked_possibly_duplicated(
    app, db, css, twilio, guard
):
    add_numbers(db, {NUMBER: "en", "+12015550124": "en"})
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    twilio.delay_next(0)
    twilio.delay_next(4)  # the second request hangs: the process is killed meanwhile
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM": SENDER,
        "TWILIO_API_BASE": twilio.url,
        "TWILIO_TIMEOUT": "30",
        "DELIVERY_CONCURRENCY": "1",
    }
    proc = flask_tick(app, SimpleNamespace(url="http://127.0.0.1:9"), NOW, **env)
    kill_in_flight(proc, lambda: twilio.arrived)
    db.expire_all()
    hung = db.scalars(select(Delivery).where(Delivery.status == "sending")).one()
    tick(app, NOW + delivery.LEASE + timedelta(minutes=1))
    # The hung request is answered late, as Twilio may have done.
    wait_until(lambda: len(twilio.messages) >= 3, timeout=10, step=0.1)
    got = Counter(m.to for m in twilio.messages)
    assert got == {hung.address: 2, ({NUMBER, "+12015550124"} - {hung.address}).pop(): 1}
    resent = [m for m in twilio.messages if m.to == hung.address]
    marks = [m.headers.get("X-Statuspage-Possibly-Duplicated") for m in resent]
    assert marks.count("true") == 1
    assert {m.headers["X-Statuspage-Delivery"] for m in resent} == {str(hung.id)}
    db.expire_all()
    assert (db.get(Delivery, hung.id).status, db.get(Delivery, hung.id).possibly_duplicated) == (
        "sent",
        True,
    )


def signed(path: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    return {
        "X-Twilio-Signature": RequestValidator(token).compute_signature(f"{SITE}{path}", params)
    }


def test_stop_by_the_inbound_webhook_stops_the_next_notice_and_start_resumes(
    app, client, db, css, twilio, guard
):
    add_numbers(db, {NUMBER: "de", "+12015550124": "en"})
    stop = {"From": NUMBER, "To": SENDER, "Body": "Stop", "MessageSid": "SM1"}
    forged = client.post(
        "/channels/sms/inbound",
        data=stop,
        headers=signed("/channels/sms/inbound", stop, "not the token"),
    )
    assert forged.status_code == 403
    unsigned = client.post("/channels/sms/inbound", data=stop)
    assert unsigned.status_code == 403
    db.expire_all()
    assert db.scalar(select(Subscriber).where(Subscriber.address == NUMBER)).stopped_at is None
    answer = client.post(
        "/channels/sms/inbound", data=stop, headers=signed("/channels/sms/inbound", stop)
    )
    assert answer.status_code == 200 and answer.content_type.startswith("text/xml")
    open_incident(db, css)
    send_all(app, db, NOW)
    assert [m.to for m in twilio.messages] == ["+12015550124"]  # the stopped number: nothing

    help_ = {"From": NUMBER, "To": SENDER, "Body": "HELP"}
    answered = client.post(
        "/channels/sms/inbound", data=help_, headers=signed("/channels/sms/inbound", help_)
    )
    assert "<Message>" in answered.get_data(as_text=True) and "STOP" in answered.get_data(
        as_text=True
    )
    assert "Benachrichtigungen zum Netzstatus" in answered.get_data(as_text=True)  # theirs
    start = {"From": NUMBER, "To": SENDER, "Body": "START"}
    client.post("/channels/sms/inbound", data=start, headers=signed("/channels/sms/inbound", start))
    open_incident(db, css, now=NOW + timedelta(minutes=5))
    send_all(app, db, NOW + timedelta(minutes=5))
    assert Counter(m.to for m in twilio.messages)[NUMBER] == 1


def test_an_invalid_number_is_quarantined_and_listed_for_staff(
    app, client, db, css, engineer, twilio, guard
):
    add_numbers(db, {NUMBER: "en", "+12015550124": "en"})
    twilio.invalid.add(NUMBER)
    open_incident(db, css)
    send_all(app, db, NOW)
    subscriber = db.scalar(select(Subscriber).where(Subscriber.address == NUMBER))
    assert subscriber.state == "quarantined" and "21211" in subscriber.quarantine_reason
    assert [m.to for m in twilio.messages] == ["+12015550124"]
    login(client, engineer)
    page = client.get("/admin/subscribers/?state=quarantined").get_data(as_text=True)
    assert "+1…0123" in page and NUMBER not in page  # listed, the number masked
    open_incident(db, css, now=NOW + timedelta(minutes=5))
    send_all(app, db, NOW + timedelta(minutes=5))
    assert len(twilio.to(NUMBER)) == 0  # quarantined: not tried again


def test_a_status_callback_records_delivered_and_a_landline_quarantines(
    app, client, db, css, twilio, guard
):
    add_numbers(db, {NUMBER: "en", "+12015550124": "en"})
    open_incident(db, css)
    send_all(app, db, NOW)
    by_number = {m.to: m.sid for m in twilio.messages}
    delivered = {"MessageSid": by_number[NUMBER], "MessageStatus": "delivered", "To": NUMBER}
    assert client.post("/channels/sms/status", data=delivered).status_code == 403  # unsigned
    client.post(
        "/channels/sms/status", data=delivered, headers=signed("/channels/sms/status", delivered)
    )
    landline = {
        "MessageSid": by_number["+12015550124"],
        "MessageStatus": "undelivered",
        "ErrorCode": "30006",
        "To": "+12015550124",
    }
    client.post(
        "/channels/sms/status", data=landline, headers=signed("/channels/sms/status", landline)
    )
    db.expire_all()
    rows = {d.address: d for d in db.scalars(select(Delivery))}
    assert (rows[NUMBER].status, rows[NUMBER].provider_status) == ("sent", "delivered")
    assert rows["+12015550124"].status == "failed" and "30006" in rows["+12015550124"].last_error
    quarantined = db.scalar(select(Subscriber).where(Subscriber.address == "+12015550124"))
    assert quarantined.state == "quarantined"


def test_maintenance_by_sms_only_if_asked_and_only_its_start_and_completion(
    app, db, css, twilio, guard
):
    add_numbers(db, {NUMBER: "en"}, maintenance=True)
    add_numbers(db, {"+12015550124": "en"}, maintenance=False)
    window = one_off(db, css, title="Firmware upgrade")
    window.notices = ["scheduled", "start", "completion"]
    db.commit()
    send_all(app, db, NOW)
    kinds = set(db.scalars(select(Notice.kind)))
    assert "maintenance_scheduled" in kinds and twilio.messages == []  # announced: not by SMS
    send_all(app, db, window.starts_at + timedelta(minutes=1))
    send_all(app, db, window.ends_at + timedelta(minutes=1))
    assert [m.to for m in twilio.messages] == [NUMBER, NUMBER]
    assert "Maintenance has started" in twilio.messages[0].body
    assert "Maintenance completed" in twilio.messages[1].body


def test_sms_beyond_the_ceiling_are_held_for_staff(app, db, css, twilio, guard):
    app.config.update(SMS_MAX_PER_NOTICE=2)
    add_numbers(db, {f"+1201555{i:04d}": "en" for i in range(3)})
    open_incident(db, css)
    send_all(app, db, NOW)
    assert len(twilio.messages) == 2
    assert (
        db.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "held")) == 1
    )


def test_the_manage_api_takes_statuspages_phone_fields(app, client, db, css, twilio, guard):
    headers = token_for(db, "css")

    def post(**subscriber: object):
        return client.post(f"{BASE}/subscribers", headers=headers, json={"subscriber": subscriber})

    made = post(phone_number="201 555 0123", phone_country="US", component_ids=["cisco"])
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert (body["mode"], body["phone_number"], body["phone_country"]) == ("sms", NUMBER, "US")
    assert body["display_phone_number"] == "+1 201-555-0123" and body["email"] is None
    assert body["state"] == "unconfirmed" and "secret" not in body
    kinds = db.scalars(select(Notice.kind).where(Notice.direct_subscriber_id == int(body["id"])))
    assert list(kinds) == ["webhook_verification"]  # its code, by SMS
    vouched = post(type="sms", phone_number="+34 612 345 678", skip_confirmation_notification=True)
    assert vouched.status_code == 201 and vouched.get_json()["state"] == "active"
    listed = client.get(f"{BASE}/subscribers?type=sms", headers=headers).get_json()
    assert [s["phone_number"] for s in listed] == ["+34612345678"]  # the active one
    refused = post(phone_number="+34 912 345 678")
    assert refused.status_code == 422 and "landline" in refused.get_json()["errors"]["phone_number"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("es", "Mensaje de texto SMS"), ("de", "SMS-Textnachricht"), ("en", "SMS text message")],
)
def test_the_subscribe_page_offers_sms_in_the_readers_language(client, lang, words):
    html = client.get(f"/subscribe?lang={lang}").get_data(as_text=True)
    assert 'type="radio" value="sms"' in html and 'data-channel="sms"' in html
    assert words in html and 'data-topics="incidents"' in html
