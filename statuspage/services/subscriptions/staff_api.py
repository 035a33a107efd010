"""Staff through the Manage API: Statuspage's subscriber endpoints. Listing is open to
every staff token; adding, unsubscribing and mailing an address are CSS work (css or admin),
like the MPOC import. Every change is audited."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import Platform, Subscriber, Subscription, User
from statuspage.models.vocab import P1G_ROLES
from statuspage.services import audit
from statuspage.services.errors import Conflict, Errors, Message, PermissionDenied
from statuspage.services.subscriptions.preferences import unsubscribe_all
from statuspage.services.subscriptions.signup import queue_confirmation, queue_verification
from statuspage.services.subscriptions.validation import (
    channel_of,
    checked_address,
    checked_channel,
)


def require_css(actor: User, what: str) -> None:
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
    require_css(actor, "add subscribers")
    errors = Errors()
    way = checked_channel(errors, channel)
    address = (
        checked_address(errors, way, email if address is None else address, settings) if way else ""
    )
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
        queue_confirmation(session, secret, subscriber, subscriber.subscriptions, now)
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
    require_css(actor, "unsubscribe addresses")
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
    require_css(actor, "mail subscribers")
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
        queue_verification(session, subscriber, now, again=True)
    elif (
        queue_confirmation(session, secret, subscriber, pending or subscriber.subscriptions, now)
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
