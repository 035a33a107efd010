"""An address left out of notices: one that kept failing (an endpoint, a number that cannot
take SMS) is quarantined until staff lift it; one whose recipient told the provider to stop
is stopped until they start. A provider's word on a message it took is kept on its delivery,
and may quarantine its address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import Delivery, Subscriber, User
from statuspage.services import audit
from statuspage.services.errors import Message, NotFound, ValidationError
from statuspage.services.subscriptions.signup import queue_verification
from statuspage.services.subscriptions.staff_api import require_css, subscriber_snapshot
from statuspage.services.subscriptions.validation import channel_of


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
    require_css(actor, "lift a quarantine")
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
        queue_verification(session, subscriber, now, again=True)
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
    require_css(actor, "lift a quarantine")
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
