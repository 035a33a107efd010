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

Webhooks go through the same outbox and the same rules: a webhook subscriber's delivery
(`channel` "webhook") is a batch of one, claimed and committed before its request, sent by
`DeliveryContext.webhooks` (`statuspage.webhooks`: SSRF checks, pinned address, no redirects,
a timeout) with the signed envelope of `jobs.webhooks`. A 2xx is delivered; other answers,
timeouts and connection errors are retried with backoff, a refusal (an address not allowed,
a redirect) is not. A webhook delivery that fails for good (after `MAX_ATTEMPTS`, or refused)
quarantines its subscriber: paused, with the reason, until staff lift it. The verification
request's 2xx echo confirms the subscriber.

Microsoft Teams and Slack channels (subscribers of mode "teams" / "slack", whose address is
the channel's incoming-webhook URL) go the same way: their deliveries (`channel` "teams" /
"slack") are batches of one, posted by the same sender with the same SSRF defences, retries,
leases and quarantine; the body is the card of `jobs.cards`. Their confirmation is the
welcome card: an incoming webhook cannot echo a token, so the channel is confirmed when the
welcome card is answered 2xx, and nothing else is sent before.

A platform's status change (`component_update`, audience "components") goes to the webhook
subscribers of that platform only: Statuspage mails no component changes, and a channel
already gets the incident or maintenance card that caused the change.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, and_, any_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from jobs import cards, durable, webhooks
from statuspage.mail import (
    MailBatch,
    Mailer,
    MailRecipient,
    PermanentMailError,
    RejectedRecipients,
    TransientMailError,
)
from statuspage.mail.render import render_notice
from statuspage.models import Delivery, Incident, Notice, Platform, Subscriber, Subscription
from statuspage.services import notices, subscriptions
from statuspage.types import UTCDateTime
from statuspage.webhooks import WebhookRequest, WebhookSender

# Deliveries that are a request of their own to a URL (never batched), by subscriber mode.
URL_CHANNELS = ("webhook", "teams", "slack")
CARD_CHANNELS = ("teams", "slack")

BATCH_SIZE = 1000  # SendGrid's limit of personalisations per request
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
FAN_OUT_NOTICES = 100
CONCURRENCY = 4  # requests in flight at once, by default
# On an email that may have reached its recipient before (webhooks and cards carry the same).
POSSIBLY_DUPLICATED = "X-Statuspage-Possibly-Duplicated"


@dataclass
class DeliveryContext:
    """What delivery needs from the app: the mailer, the links, who it is from."""

    mailer: Mailer
    base_url: str
    secret: str
    from_email: str
    from_name: str
    provider_tz: str
    owner: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    lease: timedelta = LEASE
    batch_size: int = BATCH_SIZE
    concurrency: int = CONCURRENCY
    webhooks: WebhookSender = field(default_factory=WebhookSender)
    page_id: str = "calltower"
    site_name: str = ""
    # Called after a batch is committed as `sending` and before its request is handed to a
    # sending thread, in the pass's own thread: tests use it to kill the process exactly there.
    before_send: Callable[[list[int]], None] | None = None


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    batches: int = 0
    recovered: int = 0


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --- fan-out -------------------------------------------------------------------------


def _direct_audience(session: Session, notice: Notice) -> list[tuple[int | None, str, str, str]]:
    """(subscriber id, email, language, zone) of the one recipient of a direct notice."""
    if notice.direct_subscriber_id is not None:
        s = session.get(Subscriber, notice.direct_subscriber_id)
        if s is None:
            return []
        return [(s.id, s.email, s.language, s.timezone)]
    assert notice.direct_email
    return [(None, notice.direct_email, "en", notice.payload.get("timezone", "UTC"))]


def _audience(notice: Notice) -> Select[tuple[Any, ...]]:
    """(subscriber id, email, language, zone) of everyone a subscription notice goes to
    (a platform's status change: its webhook subscribers)."""
    return notices.audience(notice)


def _queue_deliveries(session: Session, notice: Notice, now: datetime) -> int:
    """One queued delivery per recipient. A subscription notice is copied inside the
    database (INSERT ... SELECT): a notice to 100,000 subscribers never holds their rows in
    this process."""
    if notice.audience == "direct":
        rows = [
            {
                "notice_id": notice.id,
                "subscriber_id": sid,
                "email": email,
                "language": language,
                "timezone": tz,
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "possibly_duplicated": False,
                "created_at": now,
            }
            for sid, email, language, tz in _direct_audience(session, notice)
        ]
        if rows:
            session.execute(insert(Delivery), rows)
            _mark_webhooks(session, notice)
        return len(rows)
    audience = _audience(notice).subquery()
    when = literal(now, UTCDateTime())
    copied = session.execute(
        insert(Delivery).from_select(
            [
                "notice_id",
                "subscriber_id",
                "email",
                "language",
                "timezone",
                "status",
                "attempts",
                "next_attempt_at",
                "possibly_duplicated",
                "created_at",
            ],
            select(
                literal(notice.id),
                *audience.c,
                literal("queued"),
                literal(0),
                when,
                literal(False),
                when,
            ).order_by(audience.c[0]),
        )
    )
    _mark_webhooks(session, notice)
    return int(copied.rowcount or 0)  # type: ignore[attr-defined]


def _mark_webhooks(session: Session, notice: Notice) -> None:
    """Deliveries to webhook, Teams and Slack subscribers go by their own channel (the
    subscriber's mode)."""
    hooks = select(Subscriber.id).where(Subscriber.mode.in_(URL_CHANNELS))
    mode = select(Subscriber.mode).where(Subscriber.id == Delivery.subscriber_id).scalar_subquery()
    session.execute(
        update(Delivery)
        .where(Delivery.notice_id == notice.id, Delivery.subscriber_id.in_(hooks))
        .values(channel=mode)
        .execution_options(synchronize_session=False)
    )


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
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
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
    return result.rowcount  # type: ignore[attr-defined,no-any-return]


@dataclass(frozen=True)
class Claimed:
    """A delivery this sender holds, with what its message needs (plain values, no ORM)."""

    id: int
    notice_id: int
    email: str
    language: str
    timezone: str
    attempts: int
    lease_owner: str
    subscriber_id: int | None
    name: str | None
    token_version: int | None
    channel: str = "email"
    possibly_duplicated: bool = False
    webhook_secret: str | None = None


@dataclass(frozen=True)
class _Holder:
    id: int
    token_version: int


def claim_batch(session: Session, now: datetime, ctx: DeliveryContext) -> list[Claimed]:
    """Claim up to one request's worth of deliveries of one notice, language and zone."""
    head = (
        select(Delivery.notice_id, Delivery.language, Delivery.timezone, Delivery.channel)
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
    group = (
        select(Delivery.id)
        .where(
            Delivery.status == "queued",
            Delivery.next_attempt_at <= now,
            Delivery.notice_id == first.notice_id,
            Delivery.language == first.language,
            Delivery.timezone == first.timezone,
            Delivery.channel == first.channel,
        )
        .order_by(Delivery.id)
        .limit(1 if first.channel in URL_CHANNELS else ctx.batch_size)
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
            Delivery.email,
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
        )
        .outerjoin(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(
            Delivery.id.in_(ids), Delivery.lease_owner == lease_owner, Delivery.status == "sending"
        )
        .order_by(Delivery.id)
    )
    return [Claimed(*row) for row in rows]


def _absolute(payload: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """Payloads keep site-relative paths; mail needs absolute links."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, Mapping):
            out[key] = _absolute(value, base_url)
        elif isinstance(value, str) and key.endswith("url") and value.startswith("/"):
            out[key] = base_url + value
        else:
            out[key] = value
    return out


def _recipient(delivery: Claimed, ctx: DeliveryContext) -> MailRecipient:
    substitutions: dict[str, str] = {}
    headers: dict[str, str] = {}
    # Staff alerts have no subscription behind them: no links to manage one, no
    # List-Unsubscribe (their templates carry no footer either).
    if delivery.subscriber_id is not None:
        holder = _Holder(delivery.subscriber_id, delivery.token_version or 0)
        manage = ctx.base_url + subscriptions.manage_path(ctx.secret, holder)
        unsubscribe = ctx.base_url + subscriptions.unsubscribe_path(ctx.secret, holder)
        substitutions = {"-manage_url-": manage, "-unsubscribe_url-": unsubscribe}
        headers = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    if delivery.possibly_duplicated:
        # Sent again after a sender stopped with the request in flight: the recipient's
        # tools can tell, as webhook receivers can (docs/channels.md).
        headers[POSSIBLY_DUPLICATED] = "true"
    return MailRecipient(
        email=delivery.email,
        name=delivery.name or "",
        substitutions=substitutions,
        headers=headers,
        custom_args={"delivery_id": str(delivery.id), "notice_id": str(delivery.notice_id)},
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
    """A claimed batch, rendered: what one sending thread needs, and what recording needs."""

    ids: list[int]  # in the order of mail.recipients
    owner: str
    attempts: int
    mail: MailBatch
    # A webhook delivery's request (then `mail` is unused and `ids` holds its one delivery).
    webhook: WebhookRequest | None = None

    def part(self, indexes: Iterable[int]) -> _Request:
        """The same request to some of its recipients (by index), under the same lease."""
        keep = sorted(indexes)
        ids = [self.ids[i] for i in keep]
        mail = dataclasses.replace(
            self.mail,
            recipients=[self.mail.recipients[i] for i in keep],
            batch_key=f"{self.mail.batch_key.split('-d')[0]}-d{ids[0]}",
        )
        return _Request(ids, self.owner, self.attempts, mail)


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


def _prepare(
    session: Session,
    batch: list[Claimed],
    ctx: DeliveryContext,
    report: DeliveryReport,
    now: datetime | None = None,
) -> _Request | None:
    """Render a claimed batch; one that cannot be rendered is recorded failed (None), and a
    recipient whose own part cannot be made is failed alone."""
    notice = session.get(Notice, batch[0].notice_id)
    assert notice is not None
    owner = batch[0].lease_owner
    ids = [d.id for d in batch]
    if batch[0].channel == "webhook":
        assert now is not None
        return _prepare_webhook(session, notice, batch[0], ctx, report, now)
    if batch[0].channel in CARD_CHANNELS:
        return _prepare_card(session, notice, batch[0], ctx, report)
    recipients: list[MailRecipient] = []
    kept: list[int] = []
    refused: dict[int, str] = {}
    try:
        payload = _absolute(notice.payload, ctx.base_url)
        rendered = render_notice(
            payload,
            batch[0].language,
            batch[0].timezone,
            provider_tz=ctx.provider_tz,
            site_url=ctx.base_url,
            organizer_email=ctx.from_email,
            organizer_name=ctx.from_name,
        )
        for d in batch:
            try:
                recipients.append(_recipient(d, ctx))
                kept.append(d.id)
            except Exception as exc:  # this recipient's links or headers, not the notice
                refused[d.id] = f"render: {type(exc).__name__}: {exc}"
        if refused:
            _fail(session, refused, owner, report)
        if not kept:
            return None
        mail = MailBatch(
            from_email=ctx.from_email,
            from_name=ctx.from_name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            recipients=recipients,
            categories=[notice.kind],
            batch_key=f"n{notice.id}-d{kept[0]}",
            attachments=rendered.attachments,
        )
    except Exception as exc:  # a notice that cannot be rendered will not render on retry
        ids = [i for i in ids if i not in refused]
        _settle(
            session,
            ids,
            owner,
            status="failed",
            last_error=f"render: {exc}"[:2000],
            lease_owner=None,
            lease_until=None,
        )
        report.failed += len(ids)
        return None
    return _Request(kept, owner, max(d.attempts for d in batch), mail)


def _prepare_webhook(
    session: Session,
    notice: Notice,
    d: Claimed,
    ctx: DeliveryContext,
    report: DeliveryReport,
    now: datetime,
) -> _Request | None:
    """The signed request of one webhook delivery; one that cannot be made is failed."""
    try:
        assert d.subscriber_id is not None and d.webhook_secret
        holder = _Holder(d.subscriber_id, d.token_version or 0)
        hook = webhooks.request_for(
            session,
            notice,
            delivery_id=d.id,
            url=d.email,
            secret=d.webhook_secret,
            unsubscribe_url=ctx.base_url + subscriptions.unsubscribe_path(ctx.secret, holder),
            base_url=ctx.base_url,
            page_id=ctx.page_id,
            possibly_duplicated=d.possibly_duplicated,
            now=now,
        )
    except Exception as exc:
        _fail(session, {d.id: f"render: {type(exc).__name__}: {exc}"}, d.lease_owner, report)
        return None
    empty = MailBatch(from_email="", from_name="", subject="", text="", html="", recipients=[])
    return _Request([d.id], d.lease_owner, d.attempts, empty, webhook=hook)


def channel_topics(session: Session, subscriber_id: int) -> list[str]:
    """What a channel is subscribed to, by name: its platforms, or its one incident."""
    names = session.scalars(
        select(Platform.name)
        .join(Subscription, Subscription.platform_id == Platform.id)
        .where(Subscription.subscriber_id == subscriber_id)
        .order_by(Platform.position, Platform.name)
    ).all()
    titles = session.scalars(
        select(Incident.title)
        .join(Subscription, Subscription.incident_id == Incident.id)
        .where(Subscription.subscriber_id == subscriber_id)
        .order_by(Incident.id)
    ).all()
    return [*names, *titles]


def _prepare_card(
    session: Session,
    notice: Notice,
    d: Claimed,
    ctx: DeliveryContext,
    report: DeliveryReport,
) -> _Request | None:
    """The card of one Teams or Slack delivery, as a request to the channel's incoming
    webhook (no signature: an incoming webhook checks none); one that cannot be made is
    failed."""
    try:
        assert d.subscriber_id is not None
        holder = _Holder(d.subscriber_id, d.token_version or 0)
        payload = _absolute(notice.payload, ctx.base_url)
        item = payload.get("incident") or payload.get("window") or {}
        links = cards.Links(
            details=str(item.get("url") or ctx.base_url + "/"),
            manage=ctx.base_url + subscriptions.manage_path(ctx.secret, holder),
        )
        welcome = notice.kind == subscriptions.WEBHOOK_CONFIRM_KIND
        message = cards.build(
            d.channel,
            payload,
            language=d.language,
            provider_tz=ctx.provider_tz,
            links=links,
            topics=channel_topics(session, d.subscriber_id) if welcome else (),
            site_name=ctx.site_name,
        )
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"User-Agent": "statuspage-webhooks", "X-Statuspage-Delivery": str(d.id)}
        if d.possibly_duplicated:
            headers["X-Statuspage-Possibly-Duplicated"] = "true"
        hook = WebhookRequest(url=d.email, body=body, headers=headers, mode=d.channel)
    except Exception as exc:
        _fail(session, {d.id: f"render: {type(exc).__name__}: {exc}"}, d.lease_owner, report)
        return None
    empty = MailBatch(from_email="", from_name="", subject="", text="", html="", recipients=[])
    return _Request([d.id], d.lease_owner, d.attempts, empty, webhook=hook)


def _after_webhook(session: Session, request: _Request, now: datetime) -> None:
    """A verification echoed confirms its subscriber; a delivery failed for good quarantines
    it. Read back from the rows, which say what `_record` made of the answer."""
    row = session.execute(
        select(Delivery.status, Delivery.last_error, Delivery.subscriber_id, Notice.kind)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(Delivery.id == request.ids[0])
    ).first()
    if row is None or row.subscriber_id is None:
        return
    if row.status == "sent" and row.kind == subscriptions.WEBHOOK_CONFIRM_KIND:
        subscriptions.webhook_verified(session, row.subscriber_id, now)
    elif row.status == "failed":
        subscriptions.quarantine_webhook(session, row.subscriber_id, row.last_error or "", now)
    session.commit()


def _record(
    session: Session,
    request: _Request,
    error: BaseException | None,
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
    if isinstance(error, TransientMailError):
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
    if isinstance(error, PermanentMailError):
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
    """A queued notice with nothing left to send is done."""
    open_deliveries = (
        select(Delivery.id)
        .where(Delivery.notice_id == Notice.id, Delivery.status.in_(("queued", "sending")))
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
    width = max(1, ctx.concurrency)
    in_flight: dict[Future[None], _Request] = {}
    # Requests for the rest of a batch refused because of some of its recipients: sent
    # before anything new is claimed, even once claiming stopped.
    follow_up: list[_Request] = []
    claimed = 0
    claiming = True
    unexpected: BaseException | None = None

    def record(done: Iterable[Future[None]]) -> None:
        nonlocal claiming, unexpected
        for future in done:
            request = in_flight.pop(future)
            error = future.exception()
            if error is None or isinstance(error, TransientMailError | PermanentMailError):
                slow_down = not _record(session, request, error, now, report, follow_up)
                if request.webhook is not None:
                    _after_webhook(session, request, now)
                elif slow_down:  # the mail provider's 429; one endpoint's says nothing of it
                    claiming = False
            else:
                # Not an answer from the provider: leave the batch to its lease, as if this
                # sender had died (the request may have gone), and end the pass. The error is
                # kept on the rows: the reason shown if they reach MAX_ATTEMPTS this way.
                claiming = False
                unexpected = unexpected or error
                _note(session, request, f"{type(error).__name__}: {error}")

    def submit(request: _Request) -> None:
        if ctx.before_send is not None:
            ctx.before_send(request.ids)
        if request.webhook is not None:
            in_flight[pool.submit(ctx.webhooks.send, request.webhook)] = request
        else:
            in_flight[pool.submit(ctx.mailer.send, request.mail)] = request

    with ThreadPoolExecutor(max_workers=width, thread_name_prefix="delivery-send") as pool:
        try:
            while True:
                while follow_up and len(in_flight) < width and unexpected is None:
                    submit(follow_up.pop(0))
                while claiming and len(in_flight) < width and claimed < max_batches:
                    batch = claim_batch(session, now, ctx)
                    if not batch:
                        claiming = False
                        break
                    claimed += 1
                    request = _prepare(session, batch, ctx, report, now)
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
