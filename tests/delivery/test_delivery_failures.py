"""One recipient never holds up the others.

A recipient whose message cannot be made, or whom the provider refuses, is failed alone with
the reason and the rest of the batch goes out once; every way a pass can fail counts an
attempt and ends at MAX_ATTEMPTS; staff see who failed and why, per notice. Both backends:
the local SendGrid-speaking server and the .eml files of the embedded default.
"""

from __future__ import annotations

import collections
import email
import email.policy
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from jobs import delivery
from jobs import scheduler as job_scheduler
from statuspage.mail import MailBatch, MailRecipient, RejectedRecipients
from statuspage.mail.files import FileMailer
from statuspage.mail.memory import MemoryMailer
from statuspage.mail.sendgrid import SendGridMailer
from statuspage.models import Delivery, Notice, Subscriber
from statuspage.services.subscriptions import links, mpoc
from tests.delivery.bad_input import BAD_ADDRESSES, HOSTILE_NAMES, eml_files
from tests.helpers import NOW, login, open_incident
from tests.outbox import add_subscribers, tick
from tests.sendgrid_server import API_KEY, sendgrid_server


@pytest.fixture
def outbox(app) -> Path:
    """The embedded default: no API key, mail written as .eml files in the instance folder."""
    app.config.update(SENDGRID_API_KEY=None)
    return Path(app.instance_path) / "mail"


def spoil(db, changes: dict[int, dict[str, str]]) -> None:
    """Write names and addresses straight into subscriber rows (nth subscriber -> values),
    as rows written before the input rules were."""
    ids = db.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()
    for nth, values in changes.items():
        db.execute(update(Subscriber).where(Subscriber.id == ids[nth]).values(**values))
    db.commit()


def statuses(db) -> collections.Counter[str]:
    db.expire_all()
    return collections.Counter(db.scalars(select(Delivery.status)))


def failed_reasons(db) -> dict[str, str]:
    db.expire_all()
    rows = db.scalars(select(Delivery).where(Delivery.status == "failed"))
    return {d.address: d.last_error or "" for d in rows}


# --- the mailers ------------------------------------------------------------------------


def one(email_address: str, name: str = "", index: int = 0) -> MailRecipient:
    unsubscribe = f"https://status.example.com/subscriptions/unsubscribe/{'t' * 120}{index}"
    return MailRecipient(
        email=email_address,
        name=name,
        substitutions={"-unsubscribe_url-": unsubscribe},
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>, <mailto:u@example.com?subject={index}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def mail(recipients: list[MailRecipient], subject: str = "Maintenance in one week") -> MailBatch:
    return MailBatch(
        from_email="status@example.com",
        from_name="Status",
        subject=subject,
        text="Unsubscribe: -unsubscribe_url-",
        html="<p>-unsubscribe_url-</p>",
        recipients=recipients,
        batch_key="n1-d1",
    )


def test_eml_headers_are_the_ones_sendgrid_sends_list_unsubscribe_not_encoded(tmp_path):
    long_subject = "Maintenance in one week:" + " patching" * 12
    FileMailer(str(tmp_path)).send(mail([one("a@example.com")], subject=long_subject))
    [name] = os.listdir(tmp_path)
    raw = (tmp_path / name).read_bytes().decode("ascii")
    headers = raw.split("\r\n\r\n")[0] if "\r\n\r\n" in raw else raw.split("\n\n")[0]
    unsubscribe = "https://status.example.com/subscriptions/unsubscribe/" + "t" * 120 + "0"
    assert (
        f"List-Unsubscribe: <{unsubscribe}>, <mailto:u@example.com?subject=0>"
        in headers.splitlines()
    )
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in headers.splitlines()
    assert f"Subject: {long_subject}" in headers.splitlines()  # ASCII: not encoded, not folded
    assert "=?" not in headers


def test_eml_subject_is_encoded_only_when_it_is_not_ascii(tmp_path):
    FileMailer(str(tmp_path)).send(
        mail([one("a@example.com", "Zoë")], subject="Mantenimiento dentro de una semana: sáb")
    )
    [name] = os.listdir(tmp_path)
    raw = (tmp_path / name).read_bytes()
    assert b"Subject: Mantenimiento dentro de una semana: =?utf-8?" in raw
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == "Mantenimiento dentro de una semana: sáb"
    assert msg["To"].addresses[0].display_name == "Zoë"
    assert msg["List-Unsubscribe"].startswith("<https://status.example.com/")


def test_file_backend_refuses_bad_addresses_by_index_and_writes_nothing_of_that_batch(tmp_path):
    recipients = [one("ok0@example.com"), one("line\nbreak@example.com"), one("ok2@example.com")]
    recipients.append(one("two words@example.com"))
    with pytest.raises(RejectedRecipients) as refused:
        FileMailer(str(tmp_path)).send(mail(recipients))
    assert sorted(refused.value.reasons) == [1, 3]
    assert "valid address" in refused.value.reasons[1]
    assert not (tmp_path.exists() and [f for f in os.listdir(tmp_path) if f.endswith(".eml")])


def test_sendgrid_refusal_pointing_at_personalizations_names_those_recipients():
    with sendgrid_server() as server:
        server.reject.add("blocked@example.com")
        recipients = [one("ok@example.com"), one("blocked@example.com"), one("no-at-sign")]
        with pytest.raises(RejectedRecipients) as refused:
            SendGridMailer(API_KEY, server.url, timeout=5).send(mail(recipients))
        assert refused.value.status == 400
        assert sorted(refused.value.reasons) == [1, 2]
        assert "personalizations.2.to.0.email" in refused.value.reasons[2]
        assert server.requests == []  # refused as a whole: nothing sent


# --- delivery: one recipient's failure stays theirs --------------------------------------


def test_newline_in_an_address_fails_that_recipient_and_the_batch_goes_file_backend(
    app, db, css, outbox
):
    add_subscribers(db, 30)
    spoil(
        db,
        {
            3: {"address": "line\nbreak@example.com", "name": "Evil\nBcc: everyone@example.com"},
            7: {"name": HOSTILE_NAMES[1]},
        },
    )
    open_incident(db, css)
    report = tick(app, NOW)
    assert (report.delivery.sent, report.delivery.failed) == (29, 1)
    written = eml_files(outbox)
    assert len(written) == 29
    assert "line\nbreak@example.com" not in {m["To"].addresses[0].addr_spec for m in written}
    assert statuses(db) == {"sent": 29, "failed": 1}
    assert "valid address" in failed_reasons(db)["line\nbreak@example.com"]
    assert all("Bcc" not in m for m in written)


def test_refused_recipients_fail_with_the_reason_and_the_others_go_once_sendgrid(
    app, db, css, sendgrid
):
    add_subscribers(db, 30)
    spoil(db, {3: {"address": "two words@example.com"}, 20: {"name": HOSTILE_NAMES[0]}})
    sendgrid.reject.add(db.scalars(select(Subscriber.address).order_by(Subscriber.id)).all()[11])
    open_incident(db, css)
    report = tick(app, NOW)
    assert (report.delivery.sent, report.delivery.failed) == (28, 2)
    assert sendgrid.attempts == 2  # the refused request, then the rest once
    got = collections.Counter(sendgrid.recipients())
    assert len(got) == 28 and set(got.values()) == {1}
    reasons = failed_reasons(db)
    assert set(reasons) == {"two words@example.com", "user12@example.com"}
    assert all("Does not contain a valid address" in r for r in reasons.values())
    assert "personalizations.3.to.0.email" in reasons["two words@example.com"]
    assert statuses(db) == {"sent": 28, "failed": 2}
    db.expire_all()
    assert db.scalar(select(Notice.status)) == "done"


def test_a_refusal_that_names_nobody_is_halved_until_the_bad_recipients_are_alone(app, db, css):
    class Picky(MemoryMailer):
        """Refuses a batch holding a bad address without saying which it is."""

        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def send(self, batch):
            self.calls += 1
            if any(r.email.startswith("bad") for r in batch.recipients):
                raise RejectedRecipients("400: Does not contain a valid address.", {}, status=400)
            super().send(batch)

    add_subscribers(db, 14)
    add_subscribers(db, 2, prefix="bad")
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    ctx = job_scheduler.delivery_context(app)
    ctx.transports["email"] = Picky()
    report = delivery.deliver(db, NOW, ctx)
    assert (report.sent, report.failed) == (14, 2)
    sent = collections.Counter(
        r.email for b in ctx.transports["email"].batches for r in b.recipients
    )
    assert len(sent) == 14 and set(sent.values()) == {1}
    assert (
        ctx.transports["email"].calls <= 2 * 2 * 4 + 1
    )  # two bad ones in sixteen: a few halvings each
    assert set(failed_reasons(db)) == {"bad15@example.com", "bad16@example.com"}


def test_a_recipient_whose_links_cannot_be_made_fails_alone(app, db, css, sendgrid, monkeypatch):
    add_subscribers(db, 5)
    broken = db.scalars(select(Subscriber.id).order_by(Subscriber.id)).all()[2]
    real = links.manage_path

    def manage_path(secret, holder):
        if holder.id == broken:
            raise ValueError("no link for this one")
        return real(secret, holder)

    monkeypatch.setattr(links, "manage_path", manage_path)
    open_incident(db, css)
    tick(app, NOW)
    assert len(sendgrid.recipients()) == 4
    assert statuses(db) == {"sent": 4, "failed": 1}
    [reason] = failed_reasons(db).values()
    assert reason.startswith("render:") and "no link for this one" in reason


# --- every failure path ends at the cap ----------------------------------------------------


class Bug(MemoryMailer):
    def send(self, batch):
        raise RuntimeError("a bug, not an answer from the provider")


def crash_before_send(ids: list[int]) -> None:
    raise RuntimeError("the pass crashed after its claim")


@pytest.mark.parametrize("how", ["mailer bug", "pass crash"])
def test_a_batch_that_crashes_its_pass_every_time_fails_at_max_attempts(app, db, css, how):
    add_subscribers(db, 3)
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    ctx = job_scheduler.delivery_context(app)
    if how == "mailer bug":
        ctx.transports["email"] = Bug()
    else:
        ctx.transports["email"], ctx.before_send = MemoryMailer(), crash_before_send
    at = NOW
    for attempt in range(1, delivery.MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            delivery.deliver(db, at, ctx)
        db.expire_all()
        rows = db.scalars(select(Delivery)).all()
        assert {(d.status, d.attempts) for d in rows} == {("sending", attempt)}
        at += delivery.LEASE + timedelta(minutes=1)  # the lease runs out: re-leased
    report = delivery.deliver(db, at, ctx)  # the cap: nothing is claimed again
    assert report.failed == 0 and statuses(db) == {"failed": 3}
    reasons = failed_reasons(db)
    assert all(f"given up after {delivery.MAX_ATTEMPTS} attempts" in r for r in reasons.values())
    if how == "mailer bug":
        assert all("a bug, not an answer" in r for r in reasons.values())
    db.expire_all()
    assert db.scalar(select(Notice.status)) == "done"
    assert all(d.possibly_duplicated for d in db.scalars(select(Delivery)))


def test_transient_errors_end_at_max_attempts(app, db, css, sendgrid):
    add_subscribers(db, 2)
    open_incident(db, css)
    sendgrid.fail_next(503, times=delivery.MAX_ATTEMPTS)
    at = NOW
    for _ in range(delivery.MAX_ATTEMPTS):
        tick(app, at)
        db.expire_all()
        at = max(d.next_attempt_at for d in db.scalars(select(Delivery)))
    assert sendgrid.attempts == delivery.MAX_ATTEMPTS and sendgrid.requests == []
    assert statuses(db) == {"failed": 2}
    tick(app, at + timedelta(hours=2))
    assert sendgrid.attempts == delivery.MAX_ATTEMPTS


# --- staff see who failed and why ----------------------------------------------------------


def test_staff_see_failed_recipients_and_reasons_fifty_a_page(
    app, client, db, css, engineer, outbox
):
    add_subscribers(db, 60)
    spoil(db, {n: {"address": f"bad {n}@example.com"} for n in range(60) if n % 10 != 9})
    open_incident(db, css)
    tick(app, NOW)
    assert statuses(db) == {"failed": 54, "sent": 6}
    notice_id = db.scalar(select(Notice.id))
    login(client, engineer)
    listing = client.get("/admin/notices").get_data(as_text=True)
    assert f'href="/admin/notices/{notice_id}"' in listing
    first = client.get(f"/admin/notices/{notice_id}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert "Failed recipients (54)" in html and "1 / 2" in html
    assert html.count("<code>bad ") == 50 and "Does not contain a valid address" in html
    second = client.get(f"/admin/notices/{notice_id}?page=2").get_data(as_text=True)
    assert second.count("<code>bad ") == 4
    assert client.get(f"/admin/notices/{notice_id}?page=x").status_code == 400
    assert client.get("/admin/notices/999999").status_code == 404


# --- acceptance: 2,500 imported contacts, ten of them bad ---------------------------------


def import_2500(db, css) -> None:
    """2,500 MPOC contacts through the CSV import, then ten of them spoiled in the database
    (bad addresses the import now refuses) and five given hostile names, spread over the
    batches."""
    lines = ["email,name,platforms,topics,language"]
    lines += [f"mpoc{i:04d}@example.com,Contact {i},cisco,incidents,en" for i in range(2500)]
    rows = mpoc.read_csv(io.StringIO("\n".join(lines) + "\n"))
    result = mpoc.import_contacts(db, rows, actor=css, now=NOW - timedelta(days=1))
    db.commit()
    assert not result.errors
    changes: dict[int, dict[str, str]] = {
        n: {"address": bad, "name": HOSTILE_NAMES[n % len(HOSTILE_NAMES)]}
        for n, bad in zip(range(7, 2500, 249), BAD_ADDRESSES, strict=False)
    }
    changes.update(
        {n: {"name": name} for n, name in zip(range(100, 2500, 480), HOSTILE_NAMES, strict=True)}
    )
    spoil(db, changes)


def send_to_2500(app, db, css) -> None:
    """`import_2500`, an incident, and one pass: ten refused, every other contact sent to."""
    import_2500(db, css)
    open_incident(db, css)
    report = tick(app, NOW)
    assert (report.delivery.sent, report.delivery.failed) == (2490, 10)


def check_ten_failed(client, db, css) -> None:
    """The ten bad addresses failed with the provider's reason, and the notice's page
    lists them for staff; every other delivery was sent."""
    assert statuses(db) == {"sent": 2490, "failed": 10}
    assert set(failed_reasons(db)) == set(BAD_ADDRESSES)
    login(client, css)
    notice_id = db.scalar(select(Notice.id))
    html = client.get(f"/admin/notices/{notice_id}").get_data(as_text=True)
    assert "Failed recipients (10)" in html
    for bad in BAD_ADDRESSES:
        assert f"<code>{escape(bad)}</code>" in html, bad
    assert html.count("Does not contain a valid address") == 10


@pytest.mark.slow
def test_2500_contacts_ten_refused_each_other_gets_the_notice_once_sendgrid(
    app, client, db, css, sendgrid
):
    send_to_2500(app, db, css)
    got = collections.Counter(sendgrid.recipients())
    assert len(got) == 2490 and set(got.values()) == {1}
    assert not set(got) & set(BAD_ADDRESSES)
    assert len(sendgrid.requests) == 3  # after one refusal per batch, the rest of each went
    names = {
        to.get("name", "")
        for r in sendgrid.requests
        for p in r["personalizations"]
        for to in p["to"]
    }
    assert not any(c in name for name in names for c in "\r\n\t\x0b")
    check_ten_failed(client, db, css)


@pytest.mark.one_backend
@pytest.mark.slow
def test_2500_contacts_ten_refused_each_other_gets_the_notice_once_file_backend(
    app, client, db, css, outbox
):
    send_to_2500(app, db, css)
    written = eml_files(outbox)
    got = collections.Counter(m["To"].addresses[0].addr_spec for m in written)
    assert len(written) == 2490 and len(got) == 2490
    assert all(m["List-Unsubscribe"].startswith("<http://localhost/") for m in written)
    check_ten_failed(client, db, css)
