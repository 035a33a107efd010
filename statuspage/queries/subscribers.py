"""Reads about subscribers: the counts staff see next to each platform."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage.models import Subscriber, Subscription


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
