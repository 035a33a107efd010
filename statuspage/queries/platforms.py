"""Reads about platforms: the list, the page indicator, the 90-day availability bars."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import (
    Incident,
    IncidentUpdate,
    IncidentUpdatePlatform,
    MaintenanceWindow,
    Platform,
)
from statuspage.models.vocab import OPEN_INCIDENT_STATUSES
from statuspage.services.errors import get_or_404, row_id

# Statuspage's blended wording for the page indicator (translated where it is shown).
INDICATOR_DESCRIPTIONS = {
    "none": N_("All Systems Operational"),
    "minor": N_("Minor Service Outage"),
    "major": N_("Partial System Outage"),
    "critical": N_("Major Service Outage"),
    "maintenance": N_("Service Under Maintenance"),
}
_COMPONENT_INDICATOR = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
_COMPONENT_DESCRIPTION = {
    "degraded_performance": N_("Partially Degraded Service"),
    "partial_outage": N_("Partial System Outage"),
    "major_outage": N_("Major Service Outage"),
}


@dataclass(frozen=True)
class PageStatus:
    indicator: str
    description: str


def platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.position, Platform.id)))


def page_status(session: Session, now: datetime) -> PageStatus:
    """The page's overall indicator: the worst of component statuses and open incidents.

    Follows Statuspage: an open incident's impact and each component's status map onto
    none/minor/major/critical; with nothing worse than maintenance going on, it is
    `maintenance`.
    """
    order = ["none", "minor", "major", "critical"]
    worst, description = "none", INDICATOR_DESCRIPTIONS["none"]
    maintenance = False
    # Incidents first: at the same level their wording says more than a component's.
    for incident in session.scalars(
        select(Incident).where(Incident.status.in_(OPEN_INCIDENT_STATUSES))
    ):
        if order.index(incident.impact) > order.index(worst):
            worst, description = incident.impact, INDICATOR_DESCRIPTIONS[incident.impact]
    for platform in platforms(session):
        indicator = _COMPONENT_INDICATOR.get(platform.status, "none")
        if indicator == "maintenance":
            maintenance = True
        elif order.index(indicator) > order.index(worst):
            worst, description = indicator, _COMPONENT_DESCRIPTION[platform.status]
    if worst == "none" and maintenance:
        return PageStatus("maintenance", INDICATOR_DESCRIPTIONS["maintenance"])
    return PageStatus(worst, description)


def last_change(session: Session) -> datetime | None:
    """The newest change anything on the page shows (Statuspage's page.updated_at)."""
    candidates = [
        session.scalar(select(func.max(Platform.updated_at))),
        session.scalar(select(func.max(Incident.updated_at))),
        session.scalar(select(func.max(MaintenanceWindow.updated_at))),
    ]
    values = [c for c in candidates if c is not None]
    return max(values) if values else None


@dataclass(frozen=True)
class DayAvailability:
    day: datetime
    outage_minutes: int
    worst: str  # none | minor | major | critical

    @property
    def label(self) -> str:
        return f"{self.day:%Y-%m-%d}: " + (
            "no incidents" if self.worst == "none" else f"{self.outage_minutes} min of outage"
        )


def status_segments(
    session: Session, platform: Platform, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The platform's status over [start, end) as disjoint spans, from the timeline's record
    of every change incidents made to it (old and new status)."""
    changes = session.execute(
        select(IncidentUpdate.display_at, IncidentUpdatePlatform.new_status)
        .join(IncidentUpdatePlatform, IncidentUpdatePlatform.update_id == IncidentUpdate.id)
        .where(IncidentUpdatePlatform.platform_id == platform.id, IncidentUpdate.display_at < end)
        .order_by(IncidentUpdate.display_at, IncidentUpdate.id)
    ).all()
    segments: list[tuple[datetime, datetime, str]] = []
    current, since = "operational", start
    for at, new_status in changes:
        if at > since:
            segments.append((since, at, current))
            since = at
        current = new_status
    segments.append((since, end, current))
    return [(lo, hi, status) for lo, hi, status in segments if hi > lo]


def availability(
    session: Session, platform: Platform, now: datetime, days: int = 90
) -> tuple[list[DayAvailability], float]:
    """Per-day outage minutes of `platform` over the last `days` days and the uptime percent.

    Partial and major outage count as downtime; degraded performance shows on the bar but
    is not downtime (Statuspage's rule of thumb). Computed from the recorded status changes,
    so an incident that was a major outage for an hour and degraded afterwards counts one
    hour, and overlapping incidents count once.
    """
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    rank = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical"}
    order = ["none", "minor", "major", "critical"]
    segments = status_segments(session, platform, start, now)
    result: list[DayAvailability] = []
    down_total = 0.0
    for i in range(days):
        day_start = start + timedelta(days=i)
        day_end = min(day_start + timedelta(days=1), now)
        worst, minutes = "none", 0.0
        for lo, hi, status in segments:
            lo, hi = max(lo, day_start), min(hi, day_end)
            if hi <= lo or status not in rank:
                continue
            if order.index(rank[status]) > order.index(worst):
                worst = rank[status]
            if status in ("partial_outage", "major_outage"):
                minutes += (hi - lo).total_seconds() / 60
        down_total += minutes
        result.append(DayAvailability(day_start, round(minutes), worst))
    period = max((now - start).total_seconds() / 60, 1)
    uptime = max(0.0, 100.0 * (1 - down_total / period))
    return result, round(uptime, 2)


def get(session: Session, platform_id: object) -> Platform:
    """The platform with the id in `platform_id`, or NotFound."""
    return get_or_404(session, Platform, platform_id)


def by_key(session: Session, key: str) -> Platform | None:
    """The platform named by an id ("3") or a slug ("cisco"), or None."""
    if row_id(key) is not None:
        return session.get(Platform, row_id(key))
    if not key.isprintable():  # no slug holds a control character; PostgreSQL refuses NUL
        return None
    return session.scalar(select(Platform).where(Platform.slug == key))
