"""Fan notices out to their recipients and deliver them, exactly once.

How "exactly once" holds without an idempotency key at the provider:
- fan-out claims a notice with a conditional update (`pending` -> `queued`), and
  (notice, email) is unique, so nobody is queued twice, whoever runs the job;
- a sender claims a batch (`queued` -> `sending`, with its own lease) and COMMITS before
  calling the provider; only then does it send, and it records `sent` after the answer;
- a claimed row is only ever touched again by its lease owner, or after its lease expired:
  the sender died with the request in flight, so the row is queued again and marked
  `possibly_duplicated` (the only case where a recipient may get a notice twice);
- transient failures (429, 5xx, network) requeue with backoff; permanent ones are recorded.

One recipient never holds up the others (the failure rules):
- a recipient whose part of the message cannot be made is failed with the reason, and the
  batch goes without it;
- a request refused because of some recipients (`RejectedRecipients`: nothing was sent) has
  those recipients failed with the provider's reason and the others sent in a new request
  (still under the same lease, so as exactly once as the first); when the provider does not
  say which, the batch is split in halves until the bad ones are alone;
- a request refused as a whole is failed as a whole (the sender's address, say);
- every attempt counts, whatever ends it: transient errors requeue until `MAX_ATTEMPTS`, and
  a batch whose sender died or hit a bug is re-leased (counting an attempt) until
  `MAX_ATTEMPTS`, then failed; no row stays `sending` past its lease.

Requests in parallel: a pass keeps up to `DeliveryContext.concurrency` requests in flight
(`DELIVERY_CONCURRENCY`). The pass's own thread does all the database work, one batch at a
time, exactly as above: claim and commit, render, then hand the request to a small thread
pool whose threads only make the HTTP call; as each answer comes back this thread records it
and claims the next batch. So a batch is only ever `sending` while its request is about to
be made or in flight, a sender killed with several requests in flight leaves each of those
batches to its lease, and a 429 stops new claims while the answers in flight are recorded.
The pass is woken by commits that queue mail, besides its poll (see `jobs.scheduler`).

Every channel goes through this one outbox (`statuspage.channels`): a subscriber's delivery
carries its channel (the subscriber's mode), whose `Channel` says how many recipients a
request takes, makes the request from the notice's typed payload and sends it, and says what
a failure means. Here stay fan-out, leases, exactly-once and recording, the same for all:
- a channel that confirms by its first message answered (a webhook's echo, a chat channel's
  welcome card) is confirmed when its verification is recorded sent;
- a delivery failed for good whose channel says so (`Channel.quarantines`: an endpoint
  that kept failing, a number that cannot receive SMS) quarantines its subscriber: paused,
  with the reason, until staff lift it;
- a channel with ceilings (at most so many messages a notice and an hour) has what is beyond
  them held (`held`), shown to staff and sent only when they release it;
- a provider's message id (`Receipt`) is kept on the delivery for its status callbacks.

Which subscribers a notice reaches is asked of each channel too (`Channel.takes`): a
platform's status change (`component_update`) goes to webhooks only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    and_,
    any_,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from jobs import durable, snapshots
from statuspage import channels, metrics
from statuspage.channels.base import (
    Channel,
    Outgoing,
    PermanentFailure,
    Receipt,
    Recipient,
    RejectedRecipients,
    Sending,
    TransientFailure,
)
from statuspage.contract import payloads
from statuspage.links import with_language
from statuspage.models import Delivery, Notice, Subscriber
from statuspage.queries import subscribers as subscriber_queries
from statuspage.services import notices
from statuspage.services.subscriptions import channel_signup, links, pauses
from statuspage.types import UTCDateTime

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
FAN_OUT_NOTICES = 100
CONCURRENCY = 4  # requests in flight at once, by default


@dataclass
class DeliveryContext:
    """What delivery needs from the app: the links, the settings the channels read, and
    each channel's transport (`transports`, by channel name; one not given is made from the
    settings by its channel when first needed)."""

    base_url: str
    secret: str
    provider_tz: str
    transports: dict[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    instance_path: str = ""
    owner: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    lease: timedelta = LEASE
    concurrency: int = CONCURRENCY
    page_id: str = "calltower"
    site_name: str = ""
    # Called after a batch is committed as `sending` and before its request is handed to a
    # sending thread, in the pass's own thread: tests use it to kill the process exactly there.
    before_send: Callable[[list[int]], None] | None = None

    def transport(self, channel: Channel) -> Any:
        if channel.name not in self.transports:
            self.transports[channel.name] = channel.transport(self.settings, self.instance_path)
        return self.transports[channel.name]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    batches: int = 0
    recovered: int = 0
    held: int = 0


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --- fan-out -------------------------------------------------------------------------

# The columns a delivery is queued with, in the order of an audience's rows.
_QUEUED = (
    Delivery.notice_id,
    Delivery.subscriber_id,
    Delivery.address,
    Delivery.language,
    Delivery.timezone,
    Delivery.channel,
    Delivery.status,
    Delivery.attempts,
    Delivery.next_attempt_at,
    Delivery.possibly_duplicated,
    Delivery.created_at,
    Delivery.request_id,
)


def _direct_audience(
    session: Session, notice: Notice
) -> list[tuple[int | None, str, str, str, str]]:
    """(subscriber id, address, language, zone, channel) of the one recipient of a direct
    notice: its subscriber, or an address alone (mail to staff)."""
    if notice.direct_subscriber_id is not None:
        s = session.get(Subscriber, notice.direct_subscriber_id)
        if s is None:
            return []
        return [(s.id, s.address, s.language, s.timezone, s.mode)]
    assert notice.direct_address
    return [(None, notice.direct_address, "en", "UTC", "email")]


def _queue_deliveries(session: Session, notice: Notice, now: datetime) -> int:
    """One queued delivery per recipient, by the recipient's channel. A subscription notice
    is copied inside the database (INSERT ... SELECT): a notice to 100,000 subscribers never
    holds their rows in this process."""
    if notice.audience == "direct":
        rows = [
            {
                "notice_id": notice.id,
                "subscriber_id": sid,
                "address": address,
                "language": language,
                "timezone": tz,
                "channel": channel,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "possibly_duplicated": False,
                "created_at": now,
                "request_id": notice.request_id,
            }
            for sid, address, language, tz, channel in _direct_audience(session, notice)
        ]
        if rows:
            session.execute(insert(Delivery), rows)
        return len(rows)
    audience = _audience(notice).subquery()
    when = literal(now, UTCDateTime())
    copied = session.execute(
        insert(Delivery).from_select(
            list(_QUEUED),
            select(
                literal(notice.id),
                *audience.c,
                literal("queued"),
                literal(0),
                when,
                literal(False),
                when,
                literal(notice.request_id, String()),
            ).order_by(audience.c[0]),
        )
    )
    rowcount = int(cast(CursorResult[Any], copied).rowcount)
    if rowcount >= 0:
        return rowcount
    # psycopg reports no count for an INSERT ... SELECT: count what was copied.
    return int(
        session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.notice_id == notice.id)
        )
        or 0
    )


def _audience(notice: Notice) -> Select[tuple[Any, ...]]:
    """(subscriber id, address, language, zone, channel) of everyone a subscription notice
    goes to: the subscribers of channels that take its kind."""
    return notices.audience(notice)


def fan_out(session: Session, now: datetime) -> int:
    """Turn due `pending` notices into one queued delivery per recipient. Commits."""
    made = 0
    query = (
        select(Notice.id)
        .where(Notice.status == "pending", Notice.due_at <= now)
        .order_by(Notice.due_at, Notice.id)
        .limit(FAN_OUT_NOTICES)
    )
    if _is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    for notice_id in list(session.scalars(query)):
        claimed = session.execute(
            update(Notice)
            .where(Notice.id == notice_id, Notice.status == "pending")
            .values(status="queued", fanned_out_at=now)
        )
        if cast(CursorResult[Any], claimed).rowcount != 1:
            session.rollback()
            continue
        notice = session.get(Notice, notice_id)
        assert notice is not None
        if notices.overtaken(session, notice, now):
            # A start notice of a window that has ended, an announcement of one that has
            # started: made earlier, no longer true. Whatever ran first, it is not sent.
            notice.status = "skipped"
            session.commit()
            continue
        queued = _queue_deliveries(session, notice, now)
        metrics.fanned_out(notice, queued)
        if not queued:
            notice.status = "done"
        session.commit()
        made += queued
    session.commit()
    return made


# --- delivery ------------------------------------------------------------------------


def recover_expired(session: Session, now: datetime) -> int:
    """Requeue batches whose sender died mid-request; they may have reached the provider.
    One that has had its `MAX_ATTEMPTS` fails instead: a batch that kills its sender (or
    meets a bug) every time would otherwise be re-leased forever."""
    expired = and_(Delivery.status == "sending", Delivery.lease_until < now)
    session.execute(
        update(Delivery)
        .where(expired, Delivery.attempts >= MAX_ATTEMPTS)
        .values(
            status="failed",
            possibly_duplicated=True,
            lease_owner=None,
            lease_until=None,
            last_error=literal(
                f"given up after {MAX_ATTEMPTS} attempts; the last one ended with no answer "
                "recorded (the sender stopped with the request in flight): "
            )
            + func.coalesce(Delivery.last_error, ""),
        )
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(Delivery)
        .where(expired)
        .values(
            status="queued",
            possibly_duplicated=True,
            lease_owner=None,
            lease_until=None,
            next_attempt_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return cast(CursorResult[Any], result).rowcount


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender holds, with what its message needs (plain values, no ORM)."""

    id: int
    notice_id: int
    address: str
    language: str
    timezone: str
    attempts: int
    lease_owner: str
    subscriber_id: int | None
    name: str | None
    token_version: int | None
    channel: str = "email"
    possibly_duplicated: bool = False
    secret: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class _Holder:
    id: int
    token_version: int


def _room(
    session: Session, channel: Channel, notice_id: int, ctx: DeliveryContext, now: datetime
) -> tuple[int | None, str]:
    """How many more messages of `notice_id` the channel's ceilings let go now (None: no
    ceiling), and, at none, why. Released deliveries (staff let them past) do not count
    against a notice's ceiling; every message counts against the hour's."""
    ceilings = channel.ceilings(ctx.settings)
    if ceilings is None:
        return None, ""
    room: int | None = None
    why = ""
    if ceilings.per_notice is not None:
        made = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.notice_id == notice_id,
                Delivery.channel == channel.name,
                Delivery.attempts > 0,
                Delivery.released_at.is_(None),
            )
        )
        room = ceilings.per_notice - int(made or 0)
        why = f"its ceiling of {ceilings.per_notice} {channel.name} messages a notice"
    if ceilings.per_hour is not None:
        recent = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.channel == channel.name,
                or_(
                    Delivery.status == "sending",
                    and_(
                        Delivery.sent_at.is_not(None), Delivery.sent_at > now - timedelta(hours=1)
                    ),
                ),
            )
        )
        hourly = ceilings.per_hour - int(recent or 0)
        if room is None or hourly < room:
            room = hourly
            why = f"the ceiling of {ceilings.per_hour} {channel.name} messages an hour"
    return room, why


def _hold(session: Session, notice_id: int, channel: str, why: str, report: DeliveryReport) -> None:
    """Hold the notice's queued deliveries of the channel that its ceiling keeps back: kept,
    shown to staff, sent when they release them."""
    held = session.execute(
        update(Delivery)
        .where(
            Delivery.notice_id == notice_id,
            Delivery.channel == channel,
            Delivery.status == "queued",
            Delivery.released_at.is_(None),
        )
        .values(status="held", last_error=f"held: {why} was reached; staff may release it")
        .execution_options(synchronize_session=False)
    )
    session.commit()
    report.held += int(held.rowcount or 0)  # type: ignore[attr-defined]


def claim_batch(
    session: Session, now: datetime, ctx: DeliveryContext, report: DeliveryReport | None = None
) -> list[Claimed]:
    """Claim up to one request's worth of deliveries of one notice, channel, language and
    zone (the channel's batch size, within its ceilings: what is beyond them is held)."""
    report = report if report is not None else DeliveryReport()
    while True:
        head = (
            select(
                Delivery.notice_id,
                Delivery.language,
                Delivery.timezone,
                Delivery.channel,
                Delivery.released_at.is_not(None).label("released"),
            )
            .where(Delivery.status == "queued", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(1)
        )
        if _is_postgres(session):
            head = head.with_for_update(skip_locked=True)
        first = session.execute(head).first()
        if first is None:
            session.rollback()
            return []
        channel = channels.find(first.channel)
        size = channel.batch_size if channel is not None else 1
        if channel is not None and not first.released:
            room, why = _room(session, channel, first.notice_id, ctx, now)
            if room is not None and room <= 0:
                _hold(session, first.notice_id, channel.name, why, report)
                continue
            size = min(size, room) if room is not None else size
        break
    group = (
        select(Delivery.id)
        .where(
            Delivery.status == "queued",
            Delivery.next_attempt_at <= now,
            Delivery.notice_id == first.notice_id,
            Delivery.language == first.language,
            Delivery.timezone == first.timezone,
            Delivery.channel == first.channel,
            Delivery.released_at.is_not(None) if first.released else Delivery.released_at.is_(None),
        )
        .order_by(Delivery.id)
        .limit(size)
        # Without statistics SQLite picks the claim index for the time range and sorts every
        # queued row of the notice for each batch: quadratic in a large notice.
        .with_hint(Delivery, "INDEXED BY ix_delivery_batch", "sqlite")
    )
    if _is_postgres(session):
        group = group.with_for_update(skip_locked=True)
    ids = list(session.scalars(group))
    lease_owner = f"{ctx.owner}:{uuid.uuid4().hex[:8]}"
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == "queued")
        .values(
            status="sending",
            lease_owner=lease_owner,
            lease_until=now + ctx.lease,
            attempts=Delivery.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()  # the batch is now ours, durably, before any request is made
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.notice_id,
            Delivery.address,
            Delivery.language,
            Delivery.timezone,
            Delivery.attempts,
            Delivery.lease_owner,
            Subscriber.id.label("subscriber_id"),
            Subscriber.name,
            Subscriber.token_version,
            Delivery.channel,
            Delivery.possibly_duplicated,
            Subscriber.webhook_secret,
            Delivery.request_id,
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            Delivery.id.in_(ids), Delivery.lease_owner == lease_owner, Delivery.status == "sending"
        )
        .order_by(Delivery.id)
    )
    return [Claimed(*row) for row in rows]


def _recipient(d: Claimed, ctx: DeliveryContext, topics: tuple[str, ...]) -> Recipient:
    """One delivery as its channel sees it, with the subscriber's own links (none for mail
    with no subscription behind it: staff alerts), which open in the subscriber's language."""
    manage = unsubscribe = None
    if d.subscriber_id is not None:
        holder = _Holder(d.subscriber_id, d.token_version or 0)
        manage = with_language(ctx.base_url + links.manage_path(ctx.secret, holder), d.language)
        unsubscribe = with_language(
            ctx.base_url + links.unsubscribe_path(ctx.secret, holder), d.language
        )
    return Recipient(
        delivery_id=d.id,
        address=d.address,
        name=d.name or "",
        subscriber_id=d.subscriber_id,
        manage_url=manage,
        unsubscribe_url=unsubscribe,
        secret=d.secret,
        possibly_duplicated=d.possibly_duplicated,
        topics=topics,
    )


def _settle(session: Session, ids: list[int], owner: str, **values: Any) -> None:
    """Write a batch's outcome, only on rows this sender still owns. A database that went
    away meanwhile (a restart) is waited for, up to the lease, and the same write made
    again (`jobs.durable`): a provider's acceptance is not left to the lease to resend."""
    # PostgreSQL takes the ids as one array: a thousand bound parameters cost ~20 ms a batch
    # to render and parse.
    chosen = (
        Delivery.id == any_(literal(ids, ARRAY(Integer)))
        if _is_postgres(session)
        else Delivery.id.in_(ids)
    )
    statement = (
        update(Delivery)
        .where(chosen, Delivery.lease_owner == owner, Delivery.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    durable.write(session, lambda: session.execute(statement), within=LEASE)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


@dataclass(frozen=True)
class _Request:
    """A claimed batch, made into its channel's request: what one sending thread needs, and
    what recording needs."""

    ids: list[int]  # in the order of the request's recipients
    owner: str
    attempts: int
    channel: Channel
    outgoing: Outgoing

    def part(self, indexes: Iterable[int]) -> _Request:
        """The same request to some of its recipients (by index), under the same lease."""
        keep = sorted(indexes)
        return _Request(
            [self.ids[i] for i in keep],
            self.owner,
            self.attempts,
            self.channel,
            self.outgoing.part(keep),
        )


def _fail(session: Session, reasons: Mapping[int, str], owner: str, report: DeliveryReport) -> None:
    """Record deliveries (id -> reason) as failed for good; only rows this sender owns."""

    def statements() -> None:
        for delivery_id, reason in reasons.items():
            session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.lease_owner == owner,
                    Delivery.status == "sending",
                )
                .values(
                    status="failed", last_error=reason[:2000], lease_owner=None, lease_until=None
                )
                .execution_options(synchronize_session=False)
            )

    durable.write(session, statements, within=LEASE)
    report.failed += len(reasons)


def _why(exc: BaseException) -> str:
    return f"render: {type(exc).__name__}: {exc}"


def _prepare(
    session: Session,
    batch: list[Claimed],
    ctx: DeliveryContext,
    report: DeliveryReport,
    now: datetime,
) -> _Request | None:
    """Make a claimed batch's request through its channel; one that cannot be made is
    recorded failed (None), and a recipient whose own part cannot be made is failed alone."""
    notice = session.get(Notice, batch[0].notice_id)
    assert notice is not None
    owner = batch[0].lease_owner
    refused: dict[int, str] = {}
    recipients: list[Recipient] = []
    claimed: list[Claimed] = []
    try:
        channel = channels.get(batch[0].channel)
        confirming = notice.kind == payloads.VERIFICATION_KIND
        for d in batch:
            try:
                topics = (
                    tuple(subscriber_queries.topics_of(session, d.subscriber_id))
                    if confirming and d.subscriber_id is not None
                    else ()
                )
                recipients.append(_recipient(d, ctx, topics))
                claimed.append(d)
            except Exception as exc:  # this recipient's links, not the notice
                refused[d.id] = _why(exc)
        if not recipients:
            _fail(session, refused, owner, report)
            return None
        sending = Sending(
            notice_id=notice.id,
            kind=notice.kind,
            # The notice's links made absolute, opening in the batch's language.
            payload=payloads.absolute(notice.payload, ctx.base_url, batch[0].language),
            language=batch[0].language,
            timezone=batch[0].timezone,
            base_url=ctx.base_url,
            provider_tz=ctx.provider_tz,
            settings=ctx.settings,
            now=now,
            page_id=ctx.page_id,
            site_name=ctx.site_name,
            snapshot=snapshots.snapshot(
                session, notice, base_url=ctx.base_url, page_id=ctx.page_id, now=now
            )
            if channel.needs_snapshot
            else None,
        )
        prepared = channel.prepare(recipients, sending)
    except Exception as exc:  # a notice that cannot be made will not be made on retry
        refused.update({d.id: _why(exc) for d in batch if d.id not in refused})
        _fail(session, refused, owner, report)
        return None
    refused.update({claimed[i].id: reason for i, reason in prepared.refused.items()})
    if refused:
        _fail(session, refused, owner, report)
    if not prepared.kept:
        return None
    ids = [claimed[i].id for i in prepared.kept]
    return _Request(ids, owner, max(d.attempts for d in batch), channel, prepared.outgoing)


def _after(session: Session, request: _Request, error: BaseException | None, now: datetime) -> None:
    """A verification answered confirms a channel that confirms that way; a delivery failed
    for good quarantines its subscriber where the channel says so. Read back from the rows,
    which say what `_record` made of the answer."""
    channel = request.channel
    rows = session.execute(
        select(Delivery.status, Delivery.last_error, Delivery.subscriber_id, Notice.kind)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(Delivery.id.in_(request.ids), Delivery.subscriber_id.is_not(None))
    ).all()
    for row in rows:
        if (
            row.status == "sent"
            and row.kind == payloads.VERIFICATION_KIND
            and channel.confirms_on_delivery
        ):
            channel_signup.channel_verified(session, row.subscriber_id, now)
        elif row.status == "failed" and channel.quarantines(error):
            pauses.quarantine(session, row.subscriber_id, row.last_error or "", now)
    session.commit()


def _record(
    session: Session,
    request: _Request,
    error: BaseException | None,
    receipt: Receipt | None,
    now: datetime,
    report: DeliveryReport,
    follow_up: list[_Request],
) -> bool:
    """Record the provider's answer to one request; False when it asked us to slow down
    (claim nothing more this pass). A request refused because of some recipients adds the
    requests for the others to `follow_up`."""
    ids, owner, attempts = request.ids, request.owner, request.attempts
    if isinstance(error, RejectedRecipients):
        named = {i: r for i, r in error.reasons.items() if 0 <= i < len(ids)}
        if len(ids) == 1:
            named = {0: named.get(0) or str(error)}
        if named:
            _fail(session, {ids[i]: reason for i, reason in named.items()}, owner, report)
            rest = [i for i in range(len(ids)) if i not in named]
            if rest:
                follow_up.append(request.part(rest))
        else:  # the provider blamed some recipients without naming them: halve the batch
            half = len(ids) // 2
            follow_up += [request.part(range(half)), request.part(range(half, len(ids)))]
        return True
    if isinstance(error, TransientFailure):
        delay = timedelta(seconds=error.retry_after) if error.retry_after else backoff(attempts)
        give_up = attempts >= MAX_ATTEMPTS
        outcome: dict[str, Any] = {
            "status": "failed" if give_up else "queued",
            "next_attempt_at": now + delay,
            "lease_owner": None,
            "lease_until": None,
            "last_error": str(error)[:2000],
        }
        if error.status is None:
            # No answer at all: the provider may have accepted it before the connection broke.
            outcome["possibly_duplicated"] = True
        _settle(session, ids, owner, **outcome)
        if give_up:
            report.failed += len(ids)
        else:
            report.retried += len(ids)
        return error.status != 429
    if isinstance(error, PermanentFailure):
        _settle(
            session,
            ids,
            owner,
            status="failed",
            last_error=str(error)[:2000],
            lease_owner=None,
            lease_until=None,
        )
        report.failed += len(ids)
        return True
    assert error is None
    provider_ids = list(receipt.provider_ids) if receipt is not None else []
    if any(provider_ids):
        for delivery_id, provider_id in zip(ids, provider_ids, strict=False):
            _settle(
                session,
                [delivery_id],
                owner,
                status="sent",
                sent_at=now,
                lease_owner=None,
                lease_until=None,
                provider_id=provider_id,
            )
    else:
        _settle(session, ids, owner, status="sent", sent_at=now, lease_owner=None, lease_until=None)
    report.sent += len(ids)
    report.batches += 1
    return True


def _note(session: Session, request: _Request, error: str) -> None:
    """Keep an unexpected error on a batch left to its lease (its status unchanged)."""
    statement = (
        update(Delivery)
        .where(
            Delivery.id.in_(request.ids),
            Delivery.lease_owner == request.owner,
            Delivery.status == "sending",
        )
        .values(last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    durable.write(session, lambda: session.execute(statement), within=LEASE)


def finish_notices(session: Session) -> None:
    """A queued notice with nothing left to send (or held for staff) is done."""
    open_deliveries = (
        select(Delivery.id)
        .where(Delivery.notice_id == Notice.id, Delivery.status.in_(("queued", "sending", "held")))
        .exists()
    )
    session.execute(
        update(Notice)
        .where(Notice.status == "queued", ~open_deliveries)
        .values(status="done")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def deliver(
    session: Session, now: datetime, ctx: DeliveryContext, max_batches: int = 100
) -> DeliveryReport:
    """One delivery pass: recover dead senders' batches, then send due batches, up to
    `ctx.concurrency` requests at once and `max_batches` in all."""
    report = DeliveryReport(recovered=recover_expired(session, now))
    watch = metrics.DeliveryWatch(report)  # counts and logs each batch's outcome
    width = max(1, ctx.concurrency)
    in_flight: dict[Future[Receipt | None], _Request] = {}
    # Requests for the rest of a batch refused because of some of its recipients: sent
    # before anything new is claimed, even once claiming stopped.
    follow_up: list[_Request] = []
    claimed = 0
    claiming = True
    unexpected: BaseException | None = None

    def record(done: Iterable[Future[Receipt | None]]) -> None:
        nonlocal claiming, unexpected
        for future in done:
            request = in_flight.pop(future)
            error = future.exception()
            if error is None or isinstance(error, TransientFailure | PermanentFailure):
                receipt = future.result() if error is None else None
                slow_down = not _record(session, request, error, receipt, now, report, follow_up)
                if request.channel.confirms_on_delivery or request.channel.quarantines(error):
                    _after(session, request, error, now)
                if slow_down and request.channel.shared_provider:
                    # The provider's 429 (one endpoint's says nothing of the others).
                    claiming = False
            else:
                # Not an answer from the provider: leave the batch to its lease, as if this
                # sender had died (the request may have gone), and end the pass. The error is
                # kept on the rows: the reason shown if they reach MAX_ATTEMPTS this way.
                claiming = False
                unexpected = unexpected or error
                _note(session, request, f"{type(error).__name__}: {error}")
            watch.recorded(request, error)

    def submit(request: _Request) -> None:
        if ctx.before_send is not None:
            ctx.before_send(request.ids)
        transport = ctx.transport(request.channel)
        in_flight[pool.submit(request.channel.send, transport, request.outgoing)] = request

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="delivery-send") as pool:
        try:
            while True:
                while follow_up and len(in_flight) < width and unexpected is None:
                    submit(follow_up.pop(0))
                while claiming and len(in_flight) < width and claimed < max_batches:
                    batch = claim_batch(session, now, ctx, report)
                    if not batch:
                        claiming = False
                        break
                    claimed += 1
                    request = _prepare(session, batch, ctx, report, now)
                    watch.prepared(batch[0])
                    if request is None:
                        continue
                    submit(request)
                if not in_flight:
                    break
                record(wait(in_flight, return_when=FIRST_COMPLETED).done)
        except BaseException:
            # Whatever ends the pass early, the answers to requests already made are recorded
            # (a failed statement first leaves the transaction unusable).
            session.rollback()
            record(wait(in_flight).done)
            raise
    finish_notices(session)
    if unexpected is not None:
        raise unexpected
    return report
