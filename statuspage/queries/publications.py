"""Reads behind the calendars and feeds: which series, windows and updates they publish.

`statuspage.renderers.publish` turns these rows into the pure builders' inputs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from statuspage.models import (
    Incident,
    IncidentPlatform,
    IncidentUpdate,
    MaintenanceSeries,
    MaintenanceWindow,
    Platform,
    Subscriber,
    Subscription,
)
from statuspage.models.maintenance import window_platform

FEED_INCIDENT_UPDATES = 100
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=60)


def calendar_series(session: Session) -> list[MaintenanceSeries]:
    """Active series, with their platforms and their windows' platforms, in key order."""
    return list(
        session.scalars(
            select(MaintenanceSeries)
            .where(MaintenanceSeries.active.is_(True))
            .options(
                selectinload(MaintenanceSeries.platforms),
                selectinload(MaintenanceSeries.windows).selectinload(MaintenanceWindow.platforms),
            )
            .order_by(MaintenanceSeries.key)
        )
    )


def calendar_singles(
    session: Session, platform_ids: Collection[int] | None
) -> list[MaintenanceWindow]:
    """One-off windows (no series), of every platform or of any of `platform_ids`, in id
    order."""
    query = (
        select(MaintenanceWindow)
        .where(MaintenanceWindow.series_id.is_(None))
        .options(selectinload(MaintenanceWindow.platforms))
        .order_by(MaintenanceWindow.id)
    )
    if platform_ids is not None:
        query = query.where(
            MaintenanceWindow.id.in_(
                select(window_platform.c.window_id).where(
                    window_platform.c.platform_id.in_(sorted(platform_ids))
                )
            )
        )
    return list(session.scalars(query))


def maintenance_platforms_of(session: Session, subscriber_id: int) -> list[Platform]:
    """The platforms whose maintenance notices a subscriber takes (confirmed), in page
    order: what their personal calendar holds."""
    return list(
        session.scalars(
            select(Platform)
            .join(Subscription, Subscription.platform_id == Platform.id)
            .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
            .where(
                Subscriber.id == subscriber_id,
                Subscriber.confirmed_at.is_not(None),
                Subscription.maintenance.is_(True),
                Subscription.confirmed_at.is_not(None),
            )
            .order_by(Platform.position, Platform.id)
        )
    )


def windows_for_feed(
    session: Session, now: datetime, platform: Platform | None, *, with_impact_only: bool
) -> list[MaintenanceWindow]:
    """Windows starting from FEED_PAST before `now` to FEED_AHEAD after it."""
    query = (
        select(MaintenanceWindow)
        .where(
            MaintenanceWindow.starts_at >= now - FEED_PAST,
            MaintenanceWindow.starts_at <= now + FEED_AHEAD,
        )
        .options(selectinload(MaintenanceWindow.platforms))
    )
    if with_impact_only:
        query = query.where(
            or_(MaintenanceWindow.impact == "maintenance", MaintenanceWindow.unscheduled)
        )
    if platform is not None:
        query = query.where(
            MaintenanceWindow.id.in_(
                select(window_platform.c.window_id).where(
                    window_platform.c.platform_id == platform.id
                )
            )
        )
    return list(session.scalars(query))


def feed_updates(session: Session, platform: Platform | None = None) -> list[IncidentUpdate]:
    """The newest FEED_INCIDENT_UPDATES incident updates, of every platform or of one."""
    query = (
        select(IncidentUpdate)
        .join(Incident)
        .options(
            selectinload(IncidentUpdate.incident)
            .selectinload(Incident.platforms)
            .selectinload(IncidentPlatform.platform)
        )
        .order_by(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())
        .limit(FEED_INCIDENT_UPDATES)
    )
    if platform is not None:
        query = query.where(
            Incident.id.in_(
                select(IncidentPlatform.incident_id).where(
                    IncidentPlatform.platform_id == platform.id
                )
            )
        )
    return list(session.scalars(query))
