"""A sender that loses the database keeps what it knows: the provider's acceptance is
recorded once the database is back (not left to the lease, which would send it again), a
sender another scheduler took over from writes nothing more, and a resend that does happen
says so in the email, as webhooks do.

The database "goes away" here by failing statements as a dropped connection fails them;
tests/operations/test_outage_restart.py restarts a real PostgreSQL under a fan-out.
"""

from __future__ import annotations

import collections
import email
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from jobs import delivery, durable
from jobs import scheduler as job_scheduler
from statuspage.mail import MailBatch
from statuspage.mail.files import FileMailer
from statuspage.mail.memory import MemoryMailer
from statuspage.models import Delivery
from tests.helpers import NOW, open_incident
from tests.outage import outage
from tests.outbox import add_subscribers

MARK = "X-Statuspage-Possibly-Duplicated"


class AnswerThenOutage(MemoryMailer):
    """Accepts every batch; after the first, the database is away for `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.down_until = 0.0
        self.lock = threading.Lock()

    def send(self, batch: MailBatch) -> None:
        super().send(batch)
        with self.lock:
            if not self.down_until:
                self.down_until = time.monotonic() + self.seconds

    def down(self, statement: str) -> bool:
        return time.monotonic() < self.down_until


def fanned_out(app, db, css, subscribers: int) -> delivery.DeliveryContext:
    """An incident to `subscribers` subscribers, fanned out into deliveries; the delivery
    pass's context, for a test to give its own transports."""
    add_subscribers(db, subscribers)
    open_incident(db, css)
    delivery.fan_out(db, NOW)
    return job_scheduler.delivery_context(app)


def test_an_acceptance_is_recorded_once_the_database_is_back_not_left_to_the_lease(app, db, css):
    ctx = fanned_out(app, db, css, 2500)
    mailer = AnswerThenOutage(0.8)
    ctx.transports["email"], ctx.concurrency = mailer, 1
    with outage(mailer.down) as refused:
        report = delivery.deliver(db, NOW, ctx)
    assert refused, "the outage did not fall on the pass"
    assert report.sent == 2500 and len(mailer.batches) == 3
    db.expire_all()
    rows = db.scalars(select(Delivery)).all()
    assert {(d.status, d.attempts, d.possibly_duplicated) for d in rows} == {("sent", 1, False)}
    # Nothing left for a later pass to send again.
    after = delivery.deliver(db, NOW + delivery.LEASE + timedelta(minutes=1), ctx)
    assert (after.recovered, after.sent) == (0, 0) and len(mailer.batches) == 3


def test_a_sender_that_is_no_longer_the_scheduler_leaves_its_batch_to_the_lease(app, db, css):
    ctx = fanned_out(app, db, css, 3)
    mailer = AnswerThenOutage(60)
    ctx.transports["email"] = mailer
    # Another process took the scheduler lock while the database was away.
    with outage(mailer.down), durable.fenced(lambda: False), pytest.raises(durable.Fenced):
        delivery.deliver(db, NOW, ctx)
    db.expire_all()
    assert {d.status for d in db.scalars(select(Delivery))} == {"sending"}
    # The new scheduler, once the lease ran out: sent again, and the email says so.
    resend = MemoryMailer()
    ctx.transports["email"] = resend
    report = delivery.deliver(db, NOW + delivery.LEASE + timedelta(minutes=1), ctx)
    assert (report.recovered, report.sent) == (3, 3)
    assert [r.headers.get(MARK) for r in resend.batches[0].recipients] == ["true"] * 3


def test_a_resend_after_a_lost_answer_carries_the_mark_the_first_send_does_not(
    app, db, css, tmp_path: Path
):
    ctx = fanned_out(app, db, css, 2)
    first = MemoryMailer()
    ctx.transports["email"] = first
    ctx.before_send = lambda ids: (_ for _ in ()).throw(SystemExit())  # killed mid-request
    with pytest.raises(SystemExit):
        delivery.deliver(db, NOW, ctx)
    ctx.before_send = None
    files = FileMailer(str(tmp_path / "mail"))
    ctx.transports["email"] = files
    report = delivery.deliver(db, NOW + delivery.LEASE + timedelta(minutes=1), ctx)
    assert (report.recovered, report.sent) == (2, 2)
    written = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(written) == 2
    for path in written:
        message = email.message_from_bytes(path.read_bytes())
        assert message[MARK] == "true", path
    # A delivery never in doubt carries no mark.
    add_subscribers(db, 1, prefix="fresh")
    open_incident(db, css, now=NOW + timedelta(hours=1))
    fresh = MemoryMailer()
    ctx.transports["email"] = fresh
    delivery.fan_out(db, NOW + timedelta(hours=1))
    delivery.deliver(db, NOW + timedelta(hours=1), ctx)
    marks = collections.Counter(
        r.headers.get(MARK) for batch in fresh.batches for r in batch.recipients
    )
    assert marks == {None: 3}


def test_the_sendgrid_request_carries_the_mark_per_recipient():
    from statuspage.mail import MailRecipient
    from statuspage.mail.sendgrid import request_body

    batch = MailBatch(
        from_email="status@example.com",
        from_name="Status",
        subject="Calls failing",
        text="t",
        html="<p>t</p>",
        recipients=[
            MailRecipient(email="a@example.com", headers={MARK: "true"}),
            MailRecipient(email="b@example.com"),
        ],
    )
    body = request_body(batch)
    assert [p.get("headers", {}).get(MARK) for p in body["personalizations"]] == ["true", None]


# --- the retried write itself -------------------------------------------------------------


class Session:
    """Enough of a session for `durable.write`: counts commits and rollbacks."""

    def __init__(self) -> None:
        self.commits = self.rollbacks = 0

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        self.rollbacks += 1


def lost(*_: object) -> None:
    raise OperationalError("UPDATE delivery", {}, Exception("connection refused"))


def give_up(session: Session, slept: list[float], within: timedelta) -> None:
    """A write the database never takes, retried with the waits recorded in `slept` (the
    clock is their sum) until `within` has passed: it raises the last error."""
    with pytest.raises(OperationalError):
        durable.write(
            session,
            lost,
            within=within,
            sleep=slept.append,
            monotonic=lambda: sum(slept),
        )


@pytest.mark.one_backend
def test_a_retried_write_gives_up_after_its_bound():
    session = Session()
    slept: list[float] = []
    give_up(session, slept, within=timedelta(seconds=1))
    assert session.commits == 0 and session.rollbacks == len(slept) + 1
    assert slept == [0.1, 0.2, 0.4]  # 0.7 s; a fourth wait would pass the bound


@pytest.mark.one_backend
def test_a_write_the_database_refuses_is_not_retried():
    session = Session()

    def refused() -> None:
        raise IntegrityError("UPDATE delivery", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        durable.write(session, refused, within=timedelta(minutes=5), sleep=lambda s: None)
    assert session.rollbacks == 0


@pytest.mark.one_backend
def test_once_another_process_is_the_scheduler_no_write_is_tried():
    session = Session()
    tried: list[int] = []

    def statement() -> None:
        tried.append(1)
        lost()

    with durable.fenced(lambda: False):
        with pytest.raises(durable.Fenced):
            durable.write(session, statement, within=timedelta(minutes=5), sleep=lambda s: None)
        with pytest.raises(durable.Fenced):
            durable.write(session, statement, within=timedelta(minutes=5), sleep=lambda s: None)
    assert len(tried) == 1


@pytest.mark.one_backend
def test_after_one_write_gave_up_the_runs_other_writes_are_tried_once():
    session = Session()
    slept: list[float] = []
    with durable.fenced(lambda: True):
        give_up(session, slept, within=timedelta(seconds=0.5))
        waited = len(slept)
        with pytest.raises(OperationalError):
            durable.write(session, lost, within=timedelta(minutes=5), sleep=slept.append)
    assert waited > 0 and len(slept) == waited
