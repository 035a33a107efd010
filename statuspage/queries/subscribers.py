"""Reads about subscribers: the counts staff see next to each platform, and the Manage
API's subscriber list."""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from statuspage import channels
from statuspage.models import Incident, Platform, Subscriber, Subscription
from statuspage.services.errors import row_id


def subscriber_counts(session: Session) -> dict[int, tuple[int, int]]:
    """{platform id: (confirmed subscribers to incidents, to maintenance)} for staff."""
    counts: dict[int, tuple[int, int]] = {}
    rows = session.execute(
        select(
            Subscription.platform_id,
            func.count().filter(Subscription.incidents.is_(True)),
            func.count().filter(Subscription.maintenance.is_(True)),
        )
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.platform_id.is_not(None),
            Subscription.confirmed_at.is_not(None),
            Subscriber.confirmed_at.is_not(None),
        )
        .group_by(Subscription.platform_id)
    )
    for platform_id, incidents_n, maintenance_n in rows:
        counts[platform_id] = (incidents_n, maintenance_n)
    return counts


# Statuspage's subscriber states; nobody is quarantined here (a failed delivery is recorded
# per delivery and shown to staff, never held against the address), so that state is empty.
STATES = ("active", "unconfirmed", "quarantined", "unsubscribed", "all")
SORT_FIELDS = ("primary", "created_at", "quarantined_at", "relevance")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def listed(
    session: Session,
    *,
    state: str = "active",
    mode: str = "email",
    q: str = "",
    sort_field: str = "created_at",
    descending: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[Subscriber]:
    """Subscribers of the channel `mode` in Statuspage's `state`, optionally those whose
    address contains `q`, ordered by address (`primary`) or creation, `limit` of them from
    `offset`.

    A channel's secret address (a URL the API masks) is neither searched nor sorted on: for
    such a channel `q` matches nothing, and `primary` orders by creation. Otherwise a token
    could read the URL back a character at a time from what matches or how the list sorts."""
    channel = channels.find(mode)
    secret = channel is None or channel.secret_address
    subscribed = exists().where(Subscription.subscriber_id == Subscriber.id)
    query = (
        select(Subscriber)
        .options(selectinload(Subscriber.subscriptions))
        .where(Subscriber.mode == mode)
    )
    working = Subscriber.quarantined_at.is_(None)
    going = Subscriber.stopped_at.is_(None)
    if state == "active":
        query = query.where(subscribed, going, working, Subscriber.confirmed_at.is_not(None))
    elif state == "unconfirmed":
        query = query.where(subscribed, going, working, Subscriber.confirmed_at.is_(None))
    elif state == "unsubscribed":
        query = query.where(or_(~subscribed, ~going))
    elif state == "quarantined":
        query = query.where(subscribed, going, ~working)
    if q and secret:
        return []
    if q:
        query = query.where(Subscriber.address.like(f"%{_escape_like(q.lower())}%", escape="\\"))
    column = Subscriber.address if sort_field == "primary" and not secret else Subscriber.created_at
    order = (column.desc(), Subscriber.id.desc()) if descending else (column, Subscriber.id)
    return list(session.scalars(query.order_by(*order).limit(limit).offset(offset)))


def by_id(session: Session, key: str) -> Subscriber | None:
    """The subscriber with this id (as the API spells it), or None."""
    found = row_id(key)
    return session.get(Subscriber, found) if found is not None else None


def topics_of(session: Session, subscriber_id: int) -> list[str]:
    """What a subscriber is subscribed to, by name: its platforms, or its one incident (what
    a channel's welcome says it will receive)."""
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


def language_at(session: Session, channel: str, address: str) -> str | None:
    """The language of the subscriber of `channel` at `address`, if there is one."""
    return session.scalar(
        select(Subscriber.language).where(Subscriber.mode == channel, Subscriber.address == address)
    )
