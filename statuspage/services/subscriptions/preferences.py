"""What a subscriber's own links change: the manage page's platforms, topics, language and
zone, and the one-click unsubscribe (which retires every link mailed before)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import Subscriber, Subscription
from statuspage.services import text
from statuspage.services.errors import Errors
from statuspage.services.subscriptions.validation import (
    TOPICS,
    channel_of,
    check_language,
    check_timezone,
    platforms_by_slug,
)


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
    check_language(errors, language)
    check_timezone(errors, timezone)
    known = platforms_by_slug(session)
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
