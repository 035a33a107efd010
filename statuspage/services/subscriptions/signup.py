"""Subscribing an address its owner proves (a mailbox, a phone) and confirming it.

Nothing but the opt-in is sent to an address until it confirms: a link mailed (confirmed by
a POST from its page, never by fetching it: mail scanners fetch links), or a code sent and
typed on a page. A request behaves the same whether or not the address is known, and the
opt-ins one mailbox receives are held to an allowance kept in the database. The opt-in of
an endpoint (a verification request or welcome card) is queued here too.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from statuspage import channels
from statuspage.channels.base import Channel
from statuspage.contract import payloads
from statuspage.i18n import N_
from statuspage.models import ConfirmationAllowance, Incident, Notice, Subscriber, Subscription
from statuspage.models.vocab import OPEN_INCIDENT_STATUSES
from statuspage.services import notices
from statuspage.services.errors import Errors, Message
from statuspage.services.subscriptions.links import make_token, read_token
from statuspage.services.subscriptions.validation import (
    TOPICS,
    channel_of,
    check_language,
    check_timezone,
    check_topics,
    checked_address,
    chosen_platforms,
)

CONFIRM_MAX_AGE = timedelta(days=7)

# A code sent to confirm an address (a channel confirmed by a code typed on a page) is good
# for CODE_MAX_AGE and CODE_TRIES wrong guesses; then a new one is asked for.
CODE_MAX_AGE = timedelta(minutes=30)
CODE_TRIES = 5
CODE_DIGITS = 6

# At most one confirmation mail per mailbox every CONFIRMATION_INTERVAL, and at most
# CONFIRMATIONS_PER_RUN of them before the mailbox rests a whole CONFIRMATION_REST.
CONFIRMATION_INTERVAL = timedelta(minutes=10)
CONFIRMATIONS_PER_RUN = 5
CONFIRMATION_REST = timedelta(days=1)


@dataclass(frozen=True)
class SubscribeResult:
    """Deliberately the same shape whatever the address: the caller says "check your mail"
    (or "type the code we sent").

    `notice_key` is None when the throttle held the confirmation back; callers must not
    tell the requester (that would reveal the address was known). `subscriber` is the
    address's subscriber, new or not: a page that asks for a code names it in its form's
    signed token, never on the page.
    """

    notice_key: str | None
    subscriber: Subscriber | None = None


def subscribe(
    session: Session,
    *,
    secret: str,
    email: str,
    platforms: Sequence[str] = (),
    topics: Sequence[str] = TOPICS,
    incident_id: int | None = None,
    language: str = "en",
    timezone: str = "America/Denver",
    now: datetime,
) -> SubscribeResult:
    """Record a pending subscription of an email address and queue the confirmation email
    (`subscribe_owned` with the email channel)."""
    return subscribe_owned(
        session,
        channels.get("email"),
        secret=secret,
        address=email,
        platforms=platforms,
        topics=topics,
        incident_id=incident_id,
        language=language,
        timezone=timezone,
        now=now,
    )


def subscribe_owned(
    session: Session,
    channel: Channel,
    *,
    secret: str,
    address: str,
    platforms: Sequence[str] = (),
    topics: Sequence[str] = TOPICS,
    incident_id: int | None = None,
    language: str = "en",
    timezone: str = "America/Denver",
    settings: Mapping[str, Any] | None = None,
    now: datetime,
    errors: Errors | None = None,
) -> SubscribeResult:
    """Record a pending subscription of an address its owner proves (a mailbox, a phone:
    `Channel.owned_address`) and queue its confirmation: a link, or a code to type.

    The same happens for a new and a known address: pending subscriptions are added and a
    confirmation is sent (at most as often as the address's allowance lets). A known
    subscriber's language and zone are not changed by a stranger's request; they change
    through the manage link.
    """
    errors = errors or Errors()
    address = checked_address(errors, channel, address, settings)
    check_language(errors, language)
    check_timezone(errors, timezone)
    chosen = chosen_platforms(session, errors, platforms)
    topics = check_topics(errors, topics)
    incident = None
    if incident_id is not None:
        incident = session.get(Incident, incident_id) if 0 < incident_id < 2**63 else None
        if incident is None:
            errors.add("incident", N_("unknown incident"))
        elif incident.status not in OPEN_INCIDENT_STATUSES:
            errors.add("incident", N_("this incident is resolved; subscribe to its platforms"))
    elif not chosen:
        errors.add("platforms", N_("choose at least one platform"))
    if chosen and not topics:
        errors.add("topics", N_("choose incidents, maintenance or both"))
    errors.raise_if_any()

    subscriber = session.scalar(select(Subscriber).where(Subscriber.address == address))
    if subscriber is None:
        subscriber = Subscriber(
            address=address,
            mode=channel.name,
            language=language,
            timezone=timezone,
            source="web",
            token_version=0,
            created_at=now,
            updated_at=now,
        )
        session.add(subscriber)
        session.flush()
    existing = {(s.platform_id, s.incident_id): s for s in subscriber.subscriptions}
    pending: list[Subscription] = []
    for platform in chosen:
        sub = existing.get((platform.id, None))
        if sub is None:
            sub = Subscription(
                platform_id=platform.id,
                created_at=now,
                incidents="incidents" in topics,
                maintenance="maintenance" in topics,
            )
            subscriber.subscriptions.append(sub)
        pending.append(sub)
    if incident is not None:
        sub = existing.get((None, incident.id))
        if sub is None:
            sub = Subscription(
                incident_id=incident.id, created_at=now, incidents=True, maintenance=False
            )
            subscriber.subscriptions.append(sub)
        pending.append(sub)
    session.flush()
    key = queue_confirmation(session, secret, subscriber, pending, now, topics=topics)
    return SubscribeResult(notice_key=key, subscriber=subscriber)


def queue_confirmation(
    session: Session,
    secret: str,
    subscriber: Subscriber,
    pending: Sequence[Subscription],
    now: datetime,
    *,
    topics: Iterable[str] | None = None,
) -> str | None:
    """Queue the opt-in for `pending`, whose `topics` (by default the channel's) are applied
    on confirmation (not before): a mail with a link, or a code to type on the page (as the
    subscriber's channel confirms); None when the address's confirmation allowance is spent."""
    if not _claim_confirmation(session, subscriber, now):
        return None
    topics = channel_of(subscriber).default_topics if topics is None else topics
    key = f"confirm:{subscriber.id}:{secrets.token_hex(8)}"
    if channel_of(subscriber).confirmation == "code":
        subscriber.verification_failures = 0
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        notices.enqueue(
            session,
            key=key,
            kind=payloads.VERIFICATION_KIND,
            audience="direct",
            payload={
                "kind": payloads.VERIFICATION_KIND,
                "token": secrets.token_urlsafe(24),
                "code": code,
                "verify_url": verify_path(secret, subscriber),
                "subscriptions": [s.id for s in pending],
                "topics": list(topics),
            },
            due_at=now,
            now=now,
            direct_address=subscriber.address,
            direct_subscriber_id=subscriber.id,
        )
        return key
    token = make_token(
        secret, "confirm", subscriber, sub=[s.id for s in pending], topics=list(topics)
    )
    notices.enqueue(
        session,
        key=key,
        kind=payloads.CONFIRMATION_KIND,
        audience="direct",
        payload={
            "kind": payloads.CONFIRMATION_KIND,
            "confirm_url": f"/subscriptions/confirm/{token}",
            "platforms": [s.platform.name for s in pending if s.platform is not None],
            "incident_title": next(
                (s.incident.title for s in pending if s.incident is not None), None
            ),
        },
        due_at=now,
        now=now,
        direct_address=subscriber.address,
        direct_subscriber_id=subscriber.id,
    )
    return key


def queue_verification(
    session: Session, subscriber: Subscriber, now: datetime, *, again: bool = False
) -> None:
    """Queue an endpoint's verification request (a webhook) or welcome card (a Teams or
    Slack channel), with a fresh token; `again` keys it by the moment, so a new one is
    queued after the first (at most one per moment)."""
    key = f"webhook-verification:{subscriber.id}"
    if again:
        key += ":" + now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    notices.enqueue(
        session,
        key=key,
        kind=payloads.VERIFICATION_KIND,
        audience="direct",
        payload={"kind": payloads.VERIFICATION_KIND, "token": secrets.token_urlsafe(24)},
        due_at=now,
        now=now,
        direct_address=subscriber.address,
        direct_subscriber_id=subscriber.id,
    )


def _allowance_of(session: Session, mailbox: str) -> Any:
    """The mailbox's throttle as stored now (`last_sent_at`, `sent`), or None."""
    return session.execute(
        select(ConfirmationAllowance.last_sent_at, ConfirmationAllowance.sent).where(
            ConfirmationAllowance.mailbox == mailbox
        )
    ).first()


def _insert_allowance(session: Session, mailbox: str, now: datetime) -> bool:
    """The mailbox's first allowance row; False when another worker's insert came first."""
    dialect: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(
        dialect.insert(ConfirmationAllowance)
        .values(mailbox=mailbox, last_sent_at=now, sent=1)
        .on_conflict_do_nothing(index_elements=["mailbox"])
        .returning(ConfirmationAllowance.mailbox)
    )
    return inserted.first() is not None


def _take_confirmation(session: Session, mailbox: str, seen: Any, now: datetime) -> bool:
    """Take one confirmation mail from the mailbox's allowance as `seen` (read before, or
    None for a mailbox never mailed); False when it is spent.

    At most one every CONFIRMATION_INTERVAL and CONFIRMATIONS_PER_RUN in a run; a run ends
    when the mailbox has had none for CONFIRMATION_REST, so no day holds more than
    CONFIRMATIONS_PER_RUN. The allowance is taken by a conditional write on the values seen
    (an insert that does nothing if the row exists, an UPDATE on the values read): of two
    workers mailing the same mailbox at once only one matches.
    """
    if seen is None:
        if _insert_allowance(session, mailbox, now):
            return True
        seen = _allowance_of(session, mailbox)  # another worker's, just made
        if seen is None:
            return False
    last, sent = seen.last_sent_at, seen.sent
    if now - last > CONFIRMATION_REST:
        count = 1
    elif now - last < CONFIRMATION_INTERVAL or sent >= CONFIRMATIONS_PER_RUN:
        return False
    else:
        count = sent + 1
    claimed = session.execute(
        update(ConfirmationAllowance)
        .where(
            ConfirmationAllowance.mailbox == mailbox,
            ConfirmationAllowance.last_sent_at == last,
            ConfirmationAllowance.sent == sent,
        )
        .values(last_sent_at=now, sent=count)
        .execution_options(synchronize_session=False)
    )
    # Session.execute is typed as a Result; an UPDATE's is a CursorResult, with rowcount.
    return cast(CursorResult[Any], claimed).rowcount == 1


def _claim_confirmation(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    """Take one confirmation for the subscriber's address from its mailbox's allowance (the
    channel's `mailbox`: for mail `addresses.mailbox_key`, so a +tag, case or the domain's
    spelling make no other mailbox); False when it is spent."""
    mailbox = channel_of(subscriber).mailbox(subscriber.address)
    return _take_confirmation(session, mailbox, _allowance_of(session, mailbox), now)


def read_confirmation(session: Session, *, secret: str, token: str) -> Subscriber:
    """The subscriber a confirmation link names (NotFound for a forged, expired or stale
    one), without confirming: what the link's page shows before its button is pressed."""
    subscriber, _ = read_token(session, secret, "confirm", token, max_age=CONFIRM_MAX_AGE)
    return subscriber


def confirm(session: Session, *, secret: str, token: str, now: datetime) -> Subscriber:
    """Confirm the address and the subscriptions the token was issued for.

    Called for the POST of the confirmation page's button only: fetching a link (as mail
    scanners do) must never confirm.
    """
    subscriber, data = read_token(session, secret, "confirm", token, max_age=CONFIRM_MAX_AGE)
    ids = {i for i in data.get("sub", []) if isinstance(i, int)}
    topics = set(data.get("topics") or TOPICS)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
    for sub in subscriber.subscriptions:
        if sub.id in ids:
            if sub.platform_id is not None:
                sub.incidents = sub.incidents or "incidents" in topics
                sub.maintenance = sub.maintenance or "maintenance" in topics
            if sub.confirmed_at is None:
                sub.confirmed_at = now
    subscriber.updated_at = now
    session.flush()
    return subscriber


def verify_path(secret: str, subscriber: Subscriber) -> str:
    """The page where a code sent to the subscriber's address is typed (a signed link that
    expires with the confirmation links, and dies when the subscriber unsubscribes)."""
    return f"/subscriptions/verify/{make_token(secret, 'verify', subscriber)}"


def read_verification(session: Session, *, secret: str, token: str) -> Subscriber:
    """The subscriber a code page's link names (NotFound for a forged, expired or stale
    one)."""
    subscriber, _ = read_token(session, secret, "verify", token, max_age=CONFIRM_MAX_AGE)
    return subscriber


def _latest_code(session: Session, subscriber: Subscriber) -> Notice | None:
    return session.scalar(
        select(Notice)
        .where(
            Notice.direct_subscriber_id == subscriber.id,
            Notice.kind == payloads.VERIFICATION_KIND,
        )
        .order_by(Notice.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class CodeCheck:
    """What a typed code did: `confirmed`, or `error` (the field's message). A wrong code
    is counted either way, so the caller commits both."""

    subscriber: Subscriber
    confirmed: bool
    error: Message | None = None


def confirm_code(
    session: Session, *, secret: str, token: str, code: str, now: datetime
) -> CodeCheck:
    """Confirm the subscriptions a code was sent for, when `code` is the latest code sent to
    the address, typed within CODE_MAX_AGE and CODE_TRIES wrong guesses of it.

    Wrong codes are counted on the subscriber (a guess must cost something: six digits are
    a million); past the tries, or past its age, the code is dead and a new one is asked
    for (`resend_code`, held to the address's allowance)."""
    subscriber = read_verification(session, secret=secret, token=token)
    notice = _latest_code(session, subscriber)
    stored = payloads.payload_of(notice.payload) if notice is not None else None
    if notice is None or stored is None or stored["kind"] != payloads.VERIFICATION_KIND:
        return CodeCheck(subscriber, False, Message(N_("no code was sent; ask for a new one")))
    sent = stored.get("code", "")
    typed = "".join(ch for ch in code if not ch.isspace())
    if now - notice.created_at > CODE_MAX_AGE or subscriber.verification_failures >= CODE_TRIES:
        return CodeCheck(subscriber, False, Message(N_("this code has expired; ask for a new one")))
    if not sent or not hmac.compare_digest(typed.encode(), sent.encode()):
        subscriber.verification_failures += 1
        session.flush()
        return CodeCheck(subscriber, False, Message(N_("that is not the code we sent")))
    ids = set(stored.get("subscriptions", []))
    topics = set(stored.get("topics") or TOPICS)
    subscriber.verification_failures = 0
    subscriber.confirmed_at = subscriber.confirmed_at or now
    for sub in subscriber.subscriptions:
        if sub.id in ids:
            if sub.platform_id is not None:
                sub.incidents = sub.incidents or "incidents" in topics
                sub.maintenance = sub.maintenance or "maintenance" in topics
            if sub.confirmed_at is None:
                sub.confirmed_at = now
    subscriber.updated_at = now
    session.flush()
    return CodeCheck(subscriber, True)


def resend_code(session: Session, *, secret: str, token: str, now: datetime) -> str | None:
    """Send a new code for what is still waiting for one (None when the address's allowance
    is spent: the caller says the same either way)."""
    subscriber = read_verification(session, secret=secret, token=token)
    pending = [s for s in subscriber.subscriptions if s.confirmed_at is None]
    notice = _latest_code(session, subscriber)
    topics = TOPICS
    if notice is not None:
        stored: Mapping[str, Any] = notice.payload
        topics = tuple(stored.get("topics") or TOPICS)
    return queue_confirmation(
        session, secret, subscriber, pending or subscriber.subscriptions, now, topics=topics
    )
