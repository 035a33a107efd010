"""Reads about the subscribers of channels other than email (webhooks, Teams and Slack
channels, ...) for staff: every channel the registry lists on the staff page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from statuspage import channels
from statuspage.models import Delivery, Subscriber, Subscription

STATES = ("quarantined", "active", "unconfirmed", "unsubscribed")


def staff_modes() -> tuple[str, ...]:
    """The channels whose subscribers the staff page lists."""
    return tuple(c.name for c in channels.all_channels() if c.staff_page)


@dataclass(frozen=True)
class ChannelRow:
    id: int
    mode: str
    endpoint: str
    state: str
    created_at: datetime
    confirmed_at: datetime | None
    quarantined_at: datetime | None
    quarantine_reason: str | None
    last_error: str | None
    last_error_at: datetime | None
    subscriptions: int


def _state(
    confirmed: datetime | None,
    quarantined: datetime | None,
    subscriptions: int,
    stopped: datetime | None = None,
) -> str:
    if not subscriptions or stopped is not None:
        return "unsubscribed"
    if quarantined is not None:
        return "quarantined"
    return "active" if confirmed is not None else "unconfirmed"


def url_subscribers(
    session: Session, *, state: str | None, page: int, per_page: int
) -> tuple[list[ChannelRow], int]:
    """Subscribers of the channels the staff page lists (quarantined first, then newest),
    each with its address as its channel masks it and its last delivery error; and how many
    there are in all (in `state`, when given)."""
    count = (
        select(func.count(Subscription.id))
        .where(Subscription.subscriber_id == Subscriber.id)
        .scalar_subquery()
    )
    failed = aliased(Delivery)
    last_failed = (
        select(func.max(failed.id))
        .where(failed.subscriber_id == Subscriber.id, failed.last_error.is_not(None))
        .correlate(Subscriber)
        .scalar_subquery()
    )
    query = (
        select(
            Subscriber.id,
            Subscriber.mode,
            Subscriber.address,
            Subscriber.created_at,
            Subscriber.confirmed_at,
            Subscriber.quarantined_at,
            Subscriber.quarantine_reason,
            Delivery.last_error,
            Delivery.created_at,
            count.label("subscriptions"),
            Subscriber.stopped_at,
        )
        .outerjoin(Delivery, Delivery.id == last_failed)
        .where(Subscriber.mode.in_(staff_modes()))
    )
    going = Subscriber.stopped_at.is_(None)
    if state == "quarantined":
        query = query.where(Subscriber.quarantined_at.is_not(None), going, count > 0)
    elif state == "active":
        query = query.where(
            Subscriber.quarantined_at.is_(None),
            Subscriber.confirmed_at.is_not(None),
            going,
            count > 0,
        )
    elif state == "unconfirmed":
        query = query.where(
            Subscriber.quarantined_at.is_(None), Subscriber.confirmed_at.is_(None), going, count > 0
        )
    elif state == "unsubscribed":
        query = query.where(or_(count == 0, ~going))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Subscriber.quarantined_at.is_(None), Subscriber.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return [
        ChannelRow(
            id=r[0],
            mode=r[1],
            endpoint=channels.get(r[1]).masked(r[2]),
            state=_state(r[4], r[5], r[9], r[10]),
            created_at=r[3],
            confirmed_at=r[4],
            quarantined_at=r[5],
            quarantine_reason=r[6],
            last_error=r[7],
            last_error_at=r[8],
            subscriptions=r[9],
        )
        for r in rows
    ], int(total)
