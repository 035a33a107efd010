"""Reads about URL subscribers (webhooks, Microsoft Teams and Slack channels) for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from statuspage.models import Delivery, Subscriber, Subscription

URL_MODES = ("webhook", "teams", "slack")
STATES = ("quarantined", "active", "unconfirmed", "unsubscribed")


def masked(url: str) -> str:
    """An endpoint as staff see it: scheme, host and the path's last four characters. A
    channel's incoming-webhook URL is a credential (whoever has it may post to the channel),
    so the page never shows it whole."""
    parts = urlsplit(url)
    tail = (parts.path or "")[-4:]
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}"


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


def _state(confirmed: datetime | None, quarantined: datetime | None, subscriptions: int) -> str:
    if not subscriptions:
        return "unsubscribed"
    if quarantined is not None:
        return "quarantined"
    return "active" if confirmed is not None else "unconfirmed"


def url_subscribers(
    session: Session, *, state: str | None, page: int, per_page: int
) -> tuple[list[ChannelRow], int]:
    """Webhook, Teams and Slack subscribers (quarantined first, then newest), each with its
    last delivery error; and how many there are in all (in `state`, when given)."""
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
            Subscriber.email,
            Subscriber.created_at,
            Subscriber.confirmed_at,
            Subscriber.quarantined_at,
            Subscriber.quarantine_reason,
            Delivery.last_error,
            Delivery.created_at,
            count.label("subscriptions"),
        )
        .outerjoin(Delivery, Delivery.id == last_failed)
        .where(Subscriber.mode.in_(URL_MODES))
    )
    if state == "quarantined":
        query = query.where(Subscriber.quarantined_at.is_not(None), count > 0)
    elif state == "active":
        query = query.where(
            Subscriber.quarantined_at.is_(None), Subscriber.confirmed_at.is_not(None), count > 0
        )
    elif state == "unconfirmed":
        query = query.where(
            Subscriber.quarantined_at.is_(None), Subscriber.confirmed_at.is_(None), count > 0
        )
    elif state == "unsubscribed":
        query = query.where(count == 0)
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
            endpoint=masked(r[2]),
            state=_state(r[4], r[5], r[9]),
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
