"""Subscribing an address of another channel than email.

A subscriber of another channel is confirmed the way an address is, by an opt-in sent
through the outbox like any notice: an endpoint (a webhook, a chat channel) by a
verification request whose 2xx answer confirms it (`Channel.confirms_on_delivery`), an
address its owner proves (a phone) by a code sent to it and typed on a page (`signup`).
Until then nothing else is sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.contract import payloads
from statuspage.i18n import N_
from statuspage.models import Incident, Platform, Subscriber, Subscription, User
from statuspage.models.vocab import OPEN_INCIDENT_STATUSES
from statuspage.services import audit
from statuspage.services.errors import Conflict, Errors, Message
from statuspage.services.subscriptions.signup import queue_verification, subscribe_owned
from statuspage.services.subscriptions.staff_api import (
    create_by_staff,
    require_css,
    subscriber_snapshot,
)
from statuspage.services.subscriptions.validation import (
    channel_of,
    check_language,
    check_timezone,
    check_topics,
    checked_address,
    checked_channel,
    chosen_platforms,
)

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
        require_css(actor, "add subscribers")
    errors = errors or Errors()
    way = checked_channel(errors, channel)
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
        platforms = chosen_platforms(session, errors, platform_slugs)
    topics = way.default_topics if way is not None and topics is None else (topics or ())
    check_language(errors, language)
    check_timezone(errors, timezone)
    topics = check_topics(errors, topics)
    if way is not None:
        if not address.strip():
            errors.add(way.address_field, N_("enter the URL"))
        address = checked_address(errors, way, address, settings)
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
    queue_verification(session, subscriber, now)
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
