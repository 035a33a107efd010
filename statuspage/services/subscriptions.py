"""Subscribers and their subscriptions: double opt-in, preferences, unsubscribe, MPOC import.

Rules enforced here:
- nothing but the confirmation is sent to an address until it confirms; a subscribe
  request behaves the same whether or not the address is known (no enumeration);
- links carry signed tokens (itsdangerous): they cannot be forged or guessed, confirmation
  links expire, and links stop working when the subscriber's token version is raised;
- unsubscribing raises the token version (every manage, unsubscribe and confirmation link
  mailed before dies) and forgets the confirmation: coming back needs a fresh opt-in;
- a confirmation link is confirmed by a POST from its page, never by fetching it (mail
  scanners fetch links); confirmation mails to one address are throttled in the database;
- contacts imported from an organisation's MPOC list are confirmed by the import; a bad row
  is reported and never stops the good ones.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol, TextIO, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from statuspage import channels
from statuspage.channels.base import AddressRefused, Channel
from statuspage.contract import payloads
from statuspage.i18n import N_
from statuspage.models import (
    ConfirmationAllowance,
    Delivery,
    Incident,
    Notice,
    Platform,
    Subscriber,
    Subscription,
    User,
)
from statuspage.models.vocab import OPEN_INCIDENT_STATUSES, P1G_ROLES
from statuspage.services import addresses, audit, notices, text
from statuspage.services.errors import (
    Conflict,
    Errors,
    Message,
    NotFound,
    PermissionDenied,
    ValidationError,
)

LANGUAGES = ("en", "es", "de")
TOPICS = ("incidents", "maintenance")
CONFIRM_MAX_AGE = timedelta(days=7)
# A code sent to confirm an address (a channel confirmed by a code typed on a page) is good
# for CODE_MAX_AGE and CODE_TRIES wrong guesses; then a new one is asked for.
CODE_MAX_AGE = timedelta(minutes=30)
CODE_TRIES = 5
CODE_DIGITS = 6
# A personal calendar's link has its own purpose: it is handed to calendar services, and
# whoever holds it can read the calendar but not manage the subscription.
LINK_PURPOSES = ("manage", "unsubscribe", "calendar")
# At most one confirmation mail per mailbox every CONFIRMATION_INTERVAL, and at most
# CONFIRMATIONS_PER_RUN of them before the mailbox rests a whole CONFIRMATION_REST.
CONFIRMATION_INTERVAL = timedelta(minutes=10)
CONFIRMATIONS_PER_RUN = 5
CONFIRMATION_REST = timedelta(days=1)


class LinkHolder(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def token_version(self) -> int: ...


NAME_MAX = 120
ORGANISATION_MAX = 200


# --- tokens --------------------------------------------------------------------------


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"subscriptions.{purpose}")


def make_token(secret: str, purpose: str, subscriber: Subscriber, **extra: Any) -> str:
    """A signed token naming the subscriber (and `extra`), for links with an expiry check."""
    return _serializer(secret, purpose).dumps(
        {"s": subscriber.id, "v": subscriber.token_version, **extra}
    )


@lru_cache(maxsize=32)
def _link_key(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"subscriptions.{purpose}\0{secret}".encode()).digest()


def _link_signature(secret: str, purpose: str, message: str) -> str:
    # hmac.digest is the one-shot C path: a notice signs two links per recipient.
    digest = hmac.digest(_link_key(secret, purpose), message.encode(), "sha256")
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def link_token(secret: str, purpose: str, subscriber: Subscriber | LinkHolder) -> str:
    """`id.version.signature` for manage and unsubscribe links: an HMAC-SHA256 over the
    subscriber's id and token version with a key derived per purpose.

    No payload to parse and cheap to make for every recipient of a notice.
    """
    message = f"{subscriber.id}.{subscriber.token_version}"
    return f"{message}.{_link_signature(secret, purpose, message)}"


def _check_link(secret: str, purpose: str, token: str) -> tuple[int, int]:
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts[:2]):
        raise NotFound("token")
    expected = _link_signature(secret, purpose, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected, parts[2]):
        raise NotFound("token")
    return int(parts[0]), int(parts[1])


def _subscriber_from(session: Session, subscriber_id: Any, version: Any) -> Subscriber:
    if not isinstance(subscriber_id, int) or not 0 < subscriber_id < 2**63:
        raise NotFound("token")
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.token_version != version:
        raise NotFound("token")
    return subscriber


def read_token(
    session: Session,
    secret: str,
    purpose: str,
    token: str,
    *,
    max_age: timedelta | None = None,
) -> tuple[Subscriber, dict[str, Any]]:
    """The subscriber a token names, or NotFound for a forged, expired or stale token."""
    if purpose in LINK_PURPOSES:
        subscriber_id, version = _check_link(secret, purpose, token)
        return _subscriber_from(session, subscriber_id, version), {}
    try:
        data = _serializer(secret, purpose).loads(
            token, max_age=int(max_age.total_seconds()) if max_age else None
        )
    except (BadSignature, SignatureExpired):
        raise NotFound("token") from None
    if not isinstance(data, dict):
        raise NotFound("token")
    return _subscriber_from(session, data.get("s"), data.get("v")), data


def manage_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    return f"/subscriptions/manage/{link_token(secret, 'manage', subscriber)}"


def unsubscribe_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    return f"/subscriptions/unsubscribe/{link_token(secret, 'unsubscribe', subscriber)}"


def calendar_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    """The subscriber's personal maintenance calendar; dies with the manage link."""
    return f"/subscriptions/calendar/{link_token(secret, 'calendar', subscriber)}.ics"


# --- validation ----------------------------------------------------------------------


def _check_language(errors: Errors, language: str) -> None:
    if language not in LANGUAGES:
        errors.add("language", N_("must be one of %(choices)s"), choices=", ".join(LANGUAGES))


def _check_timezone(errors: Errors, tz: str) -> None:
    try:
        if not tz or len(tz) > 64:
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", N_("is not a known time zone"))


def _email(errors: Errors, value: str) -> str:
    """The address as stored (`addresses.deliverable`: canonical, and one mail can reach);
    a field error otherwise. Every way in (the subscribe page, the Manage API, the MPOC
    import on the web and at the command line) reads addresses through this."""
    try:
        return addresses.deliverable(value or "")
    except addresses.AddressError as exc:
        errors.add("email", exc.message)
        return ""


def _address(
    errors: Errors, channel: Channel, value: str, settings: Mapping[str, Any] | None
) -> str:
    """The address as the channel stores it; a field error (on the channel's address
    field) otherwise."""
    try:
        return channel.check_address(value or "", settings or {})
    except AddressRefused as exc:
        errors.add(channel.address_field, exc.message)
        return ""


def _channel(errors: Errors, name: str) -> Channel | None:
    """The channel `name`; a field error (`mode`) for none."""
    found = channels.find(name)
    if found is None:
        errors.add("mode", N_("must be one of %(choices)s"), choices=", ".join(channels.names()))
    return found


def channel_of(subscriber: Subscriber) -> Channel:
    return channels.get(subscriber.mode)


def _platforms_by_slug(session: Session) -> dict[str, Platform]:
    return {p.slug: p for p in session.scalars(select(Platform))}


def _chosen_platforms(session: Session, errors: Errors, slugs: Sequence[str]) -> list[Platform]:
    """The platforms of a form's slugs, each once; an unknown slug is a field error."""
    known = _platforms_by_slug(session)
    chosen: list[Platform] = []
    for slug in text.bounded("platforms", slugs, what="platforms"):
        if slug not in known:
            errors.add("platforms", N_("unknown platform %(name)r"), name=str(slug)[:64])
        elif known[slug] not in chosen:
            chosen.append(known[slug])
    return chosen


def _check_topics(errors: Errors, topics: Sequence[str]) -> list[str]:
    topics = text.bounded("topics", topics, len(TOPICS), what="topics")
    if any(t not in TOPICS for t in topics):
        errors.add("topics", N_("each must be one of %(choices)s"), choices=", ".join(TOPICS))
    return list(topics)


# --- subscribe / confirm ---------------------------------------------------------------


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
    address = _address(errors, channel, address, settings)
    _check_language(errors, language)
    _check_timezone(errors, timezone)
    chosen = _chosen_platforms(session, errors, platforms)
    topics = _check_topics(errors, topics)
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
    key = _queue_confirmation(session, secret, subscriber, pending, now, topics=topics)
    return SubscribeResult(notice_key=key, subscriber=subscriber)


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
    return _queue_confirmation(
        session, secret, subscriber, pending or subscriber.subscriptions, now, topics=topics
    )


# --- manage / unsubscribe ----------------------------------------------------------------


def awaiting_confirmation(subscriber: Subscriber) -> set[int]:
    """The platforms (ids) of an address's subscriptions still waiting for the confirmation
    link mailed for them. Anyone can ask /subscribe for more platforms for a known address;
    they stay apart from the address's own choices until that link is followed: the manage
    page shows them as waiting and its form neither confirms, changes nor drops them.

    An endpoint (a webhook, a chat channel) has none: it is confirmed as a whole, by its
    endpoint (a URL already subscribed cannot be subscribed again, so nobody adds platforms
    to another's channel). An address confirmed by a code waits as a mailbox does."""
    if not channel_of(subscriber).owned_address:
        return set()
    return {
        s.platform_id
        for s in subscriber.subscriptions
        if s.platform_id is not None and s.confirmed_at is None
    }


def update_preferences(
    session: Session,
    subscriber: Subscriber,
    *,
    platforms: Mapping[str, Iterable[str]],
    language: str,
    timezone: str,
    now: datetime,
) -> Subscriber:
    """Replace the subscriber's platform subscriptions with {slug: topics}; a platform with no
    topics is dropped. The manage link proves the mailbox, so changes are confirmed; but a
    platform still waiting for its own confirmation link (`awaiting_confirmation`: someone
    asked for it from /subscribe) is left as it is, whatever the form says, and confirmed
    only by that link. An endpoint's manage link was shown to whoever subscribed it and
    proves nothing about the URL: it stays unconfirmed until its endpoint answers the
    verification. (A code channel's manage link is shown only once its code was typed.)"""
    errors = Errors()
    _check_language(errors, language)
    _check_timezone(errors, timezone)
    known = _platforms_by_slug(session)
    waiting = awaiting_confirmation(subscriber)
    wanted: dict[int, set[str]] = {}
    for slug, topics in text.bounded("platforms", platforms.items(), what="platforms"):
        topics = set(text.bounded("topics", topics, len(TOPICS), what="topics"))
        if slug not in known:
            errors.add("platforms", N_("unknown platform %(name)r"), name=str(slug)[:64])
        elif not topics <= set(TOPICS):
            errors.add("topics", N_("each must be one of %(choices)s"), choices=", ".join(TOPICS))
        elif topics and known[slug].id not in waiting:
            wanted[known[slug].id] = topics
    errors.raise_if_any()
    subscriber.language = language
    subscriber.timezone = timezone
    proven = channel_of(subscriber).owned_address or subscriber.confirmed_at is not None
    if proven:
        subscriber.confirmed_at = subscriber.confirmed_at or now
    current = {
        s.platform_id: s
        for s in subscriber.subscriptions
        if s.platform_id is not None and s.platform_id not in waiting
    }
    sub: Subscription | None
    for platform_id, sub in current.items():
        if platform_id not in wanted:
            subscriber.subscriptions.remove(sub)
    for platform_id, topics in wanted.items():
        sub = current.get(platform_id)
        if sub is None:
            sub = Subscription(platform_id=platform_id, created_at=now)
            subscriber.subscriptions.append(sub)
        sub.incidents = "incidents" in topics
        sub.maintenance = "maintenance" in topics
        if proven:
            sub.confirmed_at = sub.confirmed_at or now
    subscriber.updated_at = now
    session.flush()
    return subscriber


def unsubscribe_all(session: Session, subscriber: Subscriber, now: datetime) -> None:
    """One-click unsubscribe: drop every subscription and retire the address's links.

    The token version is raised, so every manage, unsubscribe and confirmation link mailed
    before stops working (an old manage link cannot bring the address back), and the
    confirmation is forgotten: subscribing again needs a fresh opt-in.
    """
    subscriber.subscriptions.clear()
    subscriber.token_version += 1
    subscriber.confirmed_at = None
    subscriber.updated_at = now
    session.flush()


def drop_incident(
    session: Session, subscriber: Subscriber, incident_id: int, now: datetime
) -> None:
    for sub in list(subscriber.subscriptions):
        if sub.incident_id == incident_id:
            subscriber.subscriptions.remove(sub)
    subscriber.updated_at = now
    session.flush()


# --- MPOC import ---------------------------------------------------------------------

IMPORT_COLUMNS = ("email", "name", "organisation", "platforms", "topics", "language")


class RowProblem(str):
    """What is wrong with one row of a contact list: `field: message; ...` in English (the
    command line, logs) that keeps each field's `Message`, so a page can word it in the
    reader's language."""

    fields: dict[str, str]

    def __new__(cls, fields: Mapping[str, str]) -> RowProblem:
        self = super().__new__(cls, "; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = dict(fields)
        return self


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, RowProblem)
    # Each good row's line number -> "created" or "updated" (what the staff preview lists).
    outcomes: dict[int, str] = field(default_factory=dict)

    @property
    def imported(self) -> int:
        return self.created + self.updated


def _split(errors: Errors, field: str, value: str | None) -> list[str]:
    """A `;`-separated cell as a list, refusing more than LIST_MAX entries before reading them."""
    raw = (value or "").split(";", text.LIST_MAX)
    if len(raw) > text.LIST_MAX:
        errors.add(field, N_("at most %(count)d entries"), count=text.LIST_MAX)
        return []
    return text.unique(v.strip().lower() for v in raw if v.strip())


def read_csv(stream: TextIO) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an MPOC CSV with their line numbers; raises ValidationError for a bad header."""
    reader = csv.DictReader(stream)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("email", "platforms") if c not in header]
    if missing:
        raise ValidationError(
            {
                "file": Message(
                    N_("missing column(s): %(missing)s; expected %(expected)s"),
                    missing=", ".join(missing),
                    expected=", ".join(IMPORT_COLUMNS),
                )
            }
        )
    reader.fieldnames = header
    try:
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}
    except csv.Error as exc:  # a field over the csv module's size limit, a broken quote
        raise ValidationError(
            {"file": Message(N_("line %(line)d: %(error)s"), line=reader.line_num, error=str(exc))}
        ) from None


def import_contacts(
    session: Session,
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    actor: User | None,
    organisation: str = "",
    timezone: str = "America/Denver",
    now: datetime,
    progress: Callable[[int], None] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Create or update confirmed subscribers from MPOC rows; collect per-row errors (an
    address mail cannot reach, such as one whose part before the @ is not ASCII, is one).

    Only CSS staff (`css`, `admin`) import; `actor` None is the operator at the command line
    (trusted, audited as "cli"). The import is recorded in the audit log with its counts.
    `dry_run` checks every row and counts what would be created or updated, writing nothing
    (the staff page's preview before the import).
    """
    if actor is not None and actor.role not in P1G_ROLES:
        raise PermissionDenied("only CSS staff may import MPOC contacts")
    organisation = text.checked("organisation", organisation)
    platforms = _platforms_by_slug(session)
    existing = {s.address: s for s in session.scalars(select(Subscriber))}
    result = ImportResult()
    planned: set[str] = set()  # a dry run's addresses so far (a repeated row updates)
    for count, (line, row) in enumerate(rows, start=1):
        if progress:
            progress(count)
        errors = Errors()
        address = _email(errors, row.get("email", ""))
        slugs = _split(errors, "platforms", row.get("platforms"))
        # Shown back to staff (page or terminal): a control character is shown escaped.
        unknown = [s if text.is_clean(s) else ascii(s) for s in slugs if s not in platforms]
        if not slugs:
            errors.add("platforms", N_("no platform given"))
        elif unknown:
            errors.add(
                "platforms", N_("unknown platform(s): %(names)s"), names=", ".join(unknown)[:200]
            )
        topics = _split(errors, "topics", row.get("topics")) or list(TOPICS)
        if any(t not in TOPICS for t in topics):
            errors.add("topics", N_("topics must be incidents and/or maintenance"))
        language = (row.get("language") or "en").lower()
        _check_language(errors, language)
        name = row.get("name", "")
        org = row.get("organisation", "") or organisation
        if len(name) > NAME_MAX:
            errors.add("name", N_("must be at most %(max)d characters"), max=NAME_MAX)
        if len(org) > ORGANISATION_MAX:
            errors.add(
                "organisation", N_("must be at most %(max)d characters"), max=ORGANISATION_MAX
            )
        text.check(errors, "name", name)
        text.check(errors, "organisation", org)
        if errors.errors:
            result.errors.append((line, RowProblem(errors.errors)))
            continue
        subscriber = existing.get(address)
        result.outcomes[line] = "updated" if subscriber or address in planned else "created"
        if dry_run:
            planned.add(address)
            result.created += result.outcomes[line] == "created"
            result.updated += result.outcomes[line] == "updated"
            continue
        if subscriber is None:
            subscriber = Subscriber(
                address=address, token_version=0, created_at=now, timezone=timezone
            )
            session.add(subscriber)
            existing[address] = subscriber
            result.created += 1
        else:
            result.updated += 1
        subscriber.name = name or subscriber.name
        subscriber.organisation = org or subscriber.organisation
        subscriber.language = language
        subscriber.source = "import"
        subscriber.confirmed_at = subscriber.confirmed_at or now
        subscriber.updated_at = now
        current = {s.platform_id: s for s in subscriber.subscriptions if s.platform_id}
        for slug in slugs:
            platform = platforms[slug]
            sub = current.get(platform.id)
            if sub is None:
                sub = Subscription(platform_id=platform.id, created_at=now)
                subscriber.subscriptions.append(sub)
                current[platform.id] = sub
            sub.incidents = "incidents" in topics
            sub.maintenance = "maintenance" in topics
            sub.confirmed_at = sub.confirmed_at or now
    if dry_run:
        return result
    session.flush()
    audit.record(
        session,
        actor,
        "subscribers.import",
        result,
        before=None,
        after={
            "created": result.created,
            "updated": result.updated,
            "errors": len(result.errors),
            "organisation": organisation,
        },
        label="cli",
        now=now,
    )
    return result


# --- staff through the Manage API ------------------------------------------------------
# Statuspage's subscriber endpoints. Listing is open to every staff token; adding,
# unsubscribing and mailing an address are CSS work (css or admin), like the MPOC import.


def _require_css(actor: User, what: str) -> None:
    if actor.role not in P1G_ROLES:
        raise PermissionDenied(f"only CSS staff (css or admin) may {what}")


def subscriber_snapshot(subscriber: Subscriber) -> dict[str, Any]:
    """What the audit log keeps of a subscriber before and after a staff change."""
    return {
        "email": subscriber.address,
        "state": subscriber.state,
        "source": subscriber.source,
        "platforms": sorted(s.platform_id for s in subscriber.subscriptions if s.platform_id),
        "incidents": sorted(s.incident_id for s in subscriber.subscriptions if s.incident_id),
    }


def _queue_confirmation(
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


def create_by_staff(
    session: Session,
    actor: User,
    *,
    secret: str,
    email: str = "",
    platforms: Sequence[Platform] | None = None,
    skip_confirmation: bool = False,
    timezone: str = "America/Denver",
    channel: str = "email",
    address: str | None = None,
    settings: Mapping[str, Any] | None = None,
    now: datetime,
) -> Subscriber:
    """Add an address for CSS staff (Statuspage's "create a subscriber"), to `platforms` or,
    when none are named, to every platform, for the channel's default topics (mail:
    incidents and maintenance alike). `email` is a mailbox; another channel that owns its
    address (a phone number) gives `channel` and `address`.

    As on Statuspage, the address still opts in: the confirmation (a mail, a code) is queued
    and nothing else is sent until it confirms, unless `skip_confirmation` is given; then
    staff vouch for the address (as for an MPOC import) and it is confirmed at once, with no
    message. An address already subscribed is refused (its own manage link changes it); one
    that unsubscribed is subscribed again. Only `css` and `admin` may do this; audited.
    """
    _require_css(actor, "add subscribers")
    errors = Errors()
    way = _channel(errors, channel)
    address = _address(errors, way, email if address is None else address, settings) if way else ""
    if platforms is not None and not platforms:
        errors.add("component_ids", N_("name at least one component, or leave it out for all"))
    subscriber = None
    if address:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.address == address))
    errors.raise_if_any()
    assert way is not None
    if subscriber is not None and subscriber.subscriptions:
        field = way.address_field
        raise Conflict({field: Message(N_("is already subscribed"))})
    chosen = (
        list(dict.fromkeys(platforms))
        if platforms is not None
        else list(session.scalars(select(Platform).order_by(Platform.position, Platform.id)))
    )
    before = subscriber_snapshot(subscriber) if subscriber is not None else None
    if subscriber is None:
        subscriber = Subscriber(
            address=address,
            mode=way.name,
            language="en",
            timezone=timezone,
            token_version=0,
            created_at=now,
        )
        session.add(subscriber)
    subscriber.source = "api" if skip_confirmation else "api_optin"
    subscriber.confirmed_at = now if skip_confirmation else None
    subscriber.stopped_at = None
    subscriber.updated_at = now
    for platform in chosen:
        subscriber.subscriptions.append(
            Subscription(
                platform_id=platform.id,
                incidents="incidents" in way.default_topics,
                maintenance="maintenance" in way.default_topics,
                confirmed_at=now if skip_confirmation else None,
                created_at=now,
            )
        )
    session.flush()
    if not skip_confirmation:
        _queue_confirmation(session, secret, subscriber, subscriber.subscriptions, now)
    audit.record(
        session,
        actor,
        "subscribers.create",
        subscriber,
        before=before,
        after=subscriber_snapshot(subscriber),
        now=now,
    )
    return subscriber


def unsubscribe_by_staff(
    session: Session, actor: User, subscriber: Subscriber, now: datetime
) -> Subscriber:
    """Unsubscribe an address for CSS staff (Statuspage's DELETE): as its own one-click
    unsubscribe does, every subscription goes and every link mailed before dies. Refused for
    an address with nothing left to unsubscribe. Audited."""
    _require_css(actor, "unsubscribe addresses")
    if subscriber.state == "unsubscribed":
        raise Conflict({"subscriber": Message(N_("has already unsubscribed"))})
    before = subscriber_snapshot(subscriber)
    unsubscribe_all(session, subscriber, now)
    audit.record(
        session,
        actor,
        "subscribers.unsubscribe",
        subscriber,
        before=before,
        after=subscriber_snapshot(subscriber),
        now=now,
    )
    return subscriber


def resend_confirmation(
    session: Session, actor: User, subscriber: Subscriber, *, secret: str, now: datetime
) -> Subscriber:
    """Mail the opt-in again for CSS staff, for an address still waiting to confirm. The
    address's confirmation allowance holds for staff as for the public form. Audited."""
    _require_css(actor, "mail subscribers")
    if subscriber.state != "unconfirmed":
        raise Conflict(
            {
                "subscriber": "is already confirmed"
                if subscriber.state == "active"
                else "has unsubscribed; create it again"
            }
        )
    pending = [s for s in subscriber.subscriptions if s.confirmed_at is None]
    if channel_of(subscriber).confirms_on_delivery:
        # A URL is confirmed by its verification request (or welcome card), never by mail.
        _queue_verification(session, subscriber, now, again=True)
    elif (
        _queue_confirmation(session, secret, subscriber, pending or subscriber.subscriptions, now)
        is None
    ):
        raise Conflict(
            {
                "subscriber": Message(
                    N_("a confirmation went to this address moments ago; try again later")
                )
            }
        )
    audit.record(
        session,
        actor,
        "subscribers.resend_confirmation",
        subscriber,
        before=None,
        after={"email": subscriber.address},
        now=now,
    )
    return subscriber


# --- channels --------------------------------------------------------------------------
# A subscriber of another channel than email is confirmed the way an address is, by an
# opt-in sent through the outbox like any notice: an endpoint (a webhook, a chat channel)
# by a verification request whose 2xx answer confirms it (`Channel.confirms_on_delivery`),
# an address its owner proves (a phone) by a code sent to it and typed on a page. Until
# then nothing else is sent; an address that keeps failing is quarantined (paused) until
# staff lift it; one whose recipient told the provider to stop is stopped until they start.

# The stored kind of a channel's verification (the name it was first given).
VERIFICATION_KIND = payloads.VERIFICATION_KIND


@dataclass(frozen=True)
class ChannelSubscription:
    """The new channel subscriber and, for a channel that signs what it sends, its signing
    secret: the only time the secret is shown. (Every endpoint gets one, so every URL
    subscriber looks the same; a chat channel's incoming webhook checks no signature.) An
    address confirmed by a code has no secret; `notice_key` is its code's notice, None when
    the address's allowance held it back."""

    subscriber: Subscriber
    secret: str | None
    notice_key: str | None = None


def subscribe_channel(
    session: Session,
    *,
    channel: str = "webhook",
    address: str,
    platforms: Sequence[Platform] = (),
    platform_slugs: Sequence[str] | None = None,
    incident_id: int | None = None,
    language: str = "en",
    timezone: str = "UTC",
    topics: Sequence[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    secret: str = "",
    actor: User | None = None,
    skip_confirmation: bool = False,
    now: datetime,
    errors: Errors | None = None,
) -> ChannelSubscription:
    """Subscribe an address of `channel` to `platforms` (or, from a page, `platform_slugs`)
    or to one open incident, and queue its confirmation.

    The address is checked and stored as the channel says (`Channel.check_address` under
    `settings`, the operator's: a URL on a public host, a Teams or Slack channel's on its
    service's hosts, encoded). An endpoint's URL is one subscriber, so a URL already
    subscribed is refused; an address its owner proves (a phone) goes as a mailbox does
    (`subscribe_owned`: a known one says nothing, a code is sent). Made by staff (`actor`,
    only css and admin), an owned address is added as `create_by_staff` adds one (to every
    platform when none are named; `skip_confirmation` vouches for it), and it is audited.

    `language` is the messages' (a channel's cards; a webhook's envelope is not
    translated), `timezone` the reader's zone, `topics` what its platform subscriptions
    receive (by default the channel's: an SMS takes incidents only unless asked).

    `errors` carries the mistakes a caller found in its own input, so every mistake is
    reported in one round and nothing is written."""
    if actor is not None:
        _require_css(actor, "add subscribers")
    errors = errors or Errors()
    way = _channel(errors, channel)
    if way is not None and way.owned_address:
        if actor is not None:
            errors.raise_if_any()
            subscriber = create_by_staff(
                session,
                actor,
                secret=secret,
                channel=way.name,
                address=address,
                platforms=platforms or None,
                skip_confirmation=skip_confirmation,
                timezone=timezone,
                settings=settings,
                now=now,
            )
            return ChannelSubscription(subscriber, None)
        result = subscribe_owned(
            session,
            way,
            secret=secret,
            address=address,
            platforms=[p.slug for p in platforms] if platform_slugs is None else platform_slugs,
            topics=way.default_topics if topics is None else topics,
            incident_id=incident_id,
            language=language,
            timezone=timezone,
            settings=settings,
            now=now,
            errors=errors,
        )
        assert result.subscriber is not None
        return ChannelSubscription(result.subscriber, None, result.notice_key)
    if platform_slugs is not None:
        platforms = _chosen_platforms(session, errors, platform_slugs)
    topics = way.default_topics if way is not None and topics is None else (topics or ())
    _check_language(errors, language)
    _check_timezone(errors, timezone)
    topics = _check_topics(errors, topics)
    if way is not None:
        if not address.strip():
            errors.add(way.address_field, N_("enter the URL"))
        address = _address(errors, way, address, settings)
    incident = None
    if incident_id is not None:
        incident = session.get(Incident, incident_id) if 0 < incident_id < 2**63 else None
        if incident is None:
            errors.add("incident", N_("unknown incident"))
        elif incident.status not in OPEN_INCIDENT_STATUSES:
            errors.add("incident", N_("this incident is resolved; subscribe to its platforms"))
    elif not platforms:
        errors.add("platforms", N_("choose at least one platform"))
    if platforms and incident_id is None and not topics:
        errors.add("topics", N_("choose incidents, maintenance or both"))
    errors.raise_if_any()
    assert way is not None
    if session.scalar(select(Subscriber).where(Subscriber.address == address)) is not None:
        raise Conflict({way.address_field: Message(N_("is already subscribed"))})
    signing = secrets.token_hex(32) if way.signs else None
    subscriber = Subscriber(
        address=address,
        mode=way.name,
        webhook_secret=signing,
        language=language,
        timezone=timezone,
        source="api_optin" if actor is not None else "web",
        token_version=0,
        created_at=now,
        updated_at=now,
    )
    for platform in dict.fromkeys(platforms):
        subscriber.subscriptions.append(
            Subscription(
                platform_id=platform.id,
                incidents="incidents" in topics,
                maintenance="maintenance" in topics,
                created_at=now,
            )
        )
    if incident is not None:
        subscriber.subscriptions.append(
            Subscription(incident_id=incident.id, incidents=True, maintenance=False, created_at=now)
        )
    session.add(subscriber)
    session.flush()
    _queue_verification(session, subscriber, now)
    if actor is not None:
        audit.record(
            session,
            actor,
            "subscribers.create",
            subscriber,
            before=None,
            after=subscriber_snapshot(subscriber),
            now=now,
        )
    return ChannelSubscription(subscriber, signing)


def _queue_verification(
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


def channel_verified(session: Session, subscriber_id: int, now: datetime) -> None:
    """The endpoint answered its verification (echoed it, or took the welcome card): the
    subscriber and its subscriptions are confirmed (from now: nothing that happened before
    reaches it)."""
    subscriber = session.get(Subscriber, subscriber_id)
    if (
        subscriber is None
        or not channel_of(subscriber).confirms_on_delivery
        or subscriber.confirmed_at is not None
    ):
        return
    subscriber.confirmed_at = now
    for sub in subscriber.subscriptions:
        if sub.confirmed_at is None:
            sub.confirmed_at = now
    subscriber.updated_at = now
    session.flush()


def _fail_waiting(session: Session, subscriber_id: int, why: str) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.subscriber_id == subscriber_id, Delivery.status.in_(("queued", "held")))
        .values(status="failed", last_error=why[:2000])
        .execution_options(synchronize_session=False)
    )


def quarantine(session: Session, subscriber_id: int, reason: str, now: datetime) -> None:
    """Pause an address that kept failing (an endpoint, a number that cannot take SMS): it is
    left out of every notice from now on, and its deliveries still waiting are failed with
    the reason, until staff lift the quarantine. One already quarantined keeps its first
    reason."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.quarantined_at:
        return
    subscriber.quarantined_at = now
    subscriber.quarantine_reason = reason[:2000]
    subscriber.updated_at = now
    _fail_waiting(session, subscriber_id, f"not sent: quarantined ({reason})")
    session.flush()


def unquarantine(
    session: Session, actor: User, subscriber: Subscriber, now: datetime
) -> Subscriber:
    """Lift the quarantine of a subscriber for CSS staff: it receives the notices fanned out
    from now on (what was failed while it was quarantined is not sent again). One quarantined
    before it was confirmed (its verification request or welcome card kept failing) is sent
    a new one, since nothing else reaches it until then. Audited."""
    _require_css(actor, "lift a quarantine")
    if subscriber.quarantined_at is None:
        raise ValidationError({"subscriber": Message(N_("is not quarantined"))})
    before = subscriber_snapshot(subscriber)
    subscriber.quarantined_at = None
    subscriber.quarantine_reason = None
    subscriber.updated_at = now
    session.flush()
    if (
        subscriber.confirmed_at is None
        and subscriber.subscriptions
        and channel_of(subscriber).confirms_on_delivery
    ):
        _queue_verification(session, subscriber, now, again=True)
    audit.record(
        session,
        actor,
        "subscribers.unquarantine",
        subscriber,
        before=before,
        after=subscriber_snapshot(subscriber),
        now=now,
    )
    return subscriber


def lift_quarantine(session: Session, actor: User, subscriber_id: str, now: datetime) -> Subscriber:
    """`unquarantine` for the staff page: the subscriber by its id (as given in a URL); an
    unknown id, or a subscriber of a channel the page does not list (email), is
    `NotFound`."""
    _require_css(actor, "lift a quarantine")
    subscriber = (
        session.get(Subscriber, int(subscriber_id))
        if subscriber_id.isdigit() and 0 < int(subscriber_id) < 2**63
        else None
    )
    if subscriber is None or not channel_of(subscriber).staff_page:
        raise NotFound(subscriber_id)
    return unquarantine(session, actor, subscriber, now)


def _at(session: Session, channel: str, address: str) -> Subscriber | None:
    return session.scalar(
        select(Subscriber).where(Subscriber.mode == channel, Subscriber.address == address)
    )


def stop(session: Session, channel: str, address: str, now: datetime) -> Subscriber | None:
    """The recipient at `address` told the channel's provider to stop (an SMS STOP): nothing
    more is sent until they start again; what was waiting for them is failed with the
    reason. Their subscriptions are kept for a START."""
    subscriber = _at(session, channel, address)
    if subscriber is None or subscriber.stopped_at is not None:
        return subscriber
    subscriber.stopped_at = now
    subscriber.updated_at = now
    _fail_waiting(session, subscriber.id, "not sent: the recipient said stop")
    session.flush()
    return subscriber


def start(session: Session, channel: str, address: str, now: datetime) -> Subscriber | None:
    """The recipient at `address` told the provider to start again (an SMS START): the
    notices made from now on reach them."""
    subscriber = _at(session, channel, address)
    if subscriber is None or subscriber.stopped_at is None:
        return subscriber
    subscriber.stopped_at = None
    subscriber.updated_at = now
    session.flush()
    return subscriber


def record_delivery_status(
    session: Session,
    channel: str,
    provider_id: str,
    status: str,
    *,
    detail: str = "",
    address_failed: bool = False,
    now: datetime,
) -> Delivery | None:
    """A provider's word on one message it accepted (`provider_id`, a status callback):
    kept on its delivery; a message the provider could not deliver fails its delivery with
    the reason (shown to staff like any failure), and one whose address cannot be reached at
    all (`address_failed`: an invalid number, a landline) quarantines its subscriber."""
    delivery = session.scalar(
        select(Delivery).where(Delivery.channel == channel, Delivery.provider_id == provider_id)
    )
    if delivery is None:
        return None
    delivery.provider_status = status[:32]
    delivery.provider_status_at = now
    if status in ("failed", "undelivered") and delivery.status == "sent":
        delivery.status = "failed"
        delivery.last_error = f"{status}: {detail}"[:2000] if detail else status
    if address_failed and delivery.subscriber_id is not None:
        quarantine(session, delivery.subscriber_id, delivery.last_error or status, now)
    session.flush()
    return delivery
