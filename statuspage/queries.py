"""The read side: what the pages, the API, the feeds and the calendars show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from statuspage.models import (
    Incident,
    IncidentPlatform,
    IncidentUpdate,
    IncidentUpdatePlatform,
    MaintenanceWindow,
    Platform,
    Subscriber,
    Subscription,
)
from statuspage.models.vocab import (
    CLOSED_INCIDENT_STATUSES,
    IMPACT_SEVERITY,
    OPEN_INCIDENT_STATUSES,
)

# Statuspage's blended wording for the page indicator.
INDICATOR_DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major Service Outage",
    "maintenance": "Service Under Maintenance",
}
_COMPONENT_INDICATOR = {
    "operational": "none",
    "under_maintenance": "maintenance",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
_COMPONENT_DESCRIPTION = {
    "degraded_performance": "Partially Degraded Service",
    "partial_outage": "Partial System Outage",
    "major_outage": "Major Service Outage",
}


@dataclass(frozen=True)
class PageStatus:
    indicator: str
    description: str


def platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.position, Platform.id)))


def _incident_options():  # type: ignore[no-untyped-def]
    return (
        selectinload(Incident.platforms).selectinload(IncidentPlatform.platform),
        selectinload(Incident.updates).selectinload(IncidentUpdate.platform_changes),
        selectinload(Incident.updates).selectinload(IncidentUpdate.author),
    )


def open_incidents(session: Session) -> list[Incident]:
    """Unresolved incidents: master cases first, then the most severe, then the newest."""
    master_first = case((Incident.priority == "P1G", 0), else_=1)
    severity = case(IMPACT_SEVERITY, value=Incident.impact, else_=0)
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.status.in_(OPEN_INCIDENT_STATUSES))
            .order_by(master_first, severity.desc(), Incident.started_at.desc(), Incident.id.desc())
            .options(*_incident_options())
        )
    )


def recent_incidents(session: Session, limit: int = 50) -> list[Incident]:
    """The newest incidents, open or not (Statuspage's incidents.json keeps the last 50)."""
    return list(
        session.scalars(
            select(Incident)
            .order_by(Incident.started_at.desc(), Incident.id.desc())
            .limit(limit)
            .options(*_incident_options())
        )
    )


def history_page(
    session: Session, page: int, per_page: int, platform: Platform | None = None
) -> tuple[list[Incident], int]:
    """Closed incidents, newest first, one page of them, and the total count."""
    query = select(Incident).where(Incident.status.in_(CLOSED_INCIDENT_STATUSES))
    if platform is not None:
        query = query.where(
            Incident.id.in_(
                select(IncidentPlatform.incident_id).where(
                    IncidentPlatform.platform_id == platform.id
                )
            )
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Incident.started_at.desc(), Incident.id.desc())
        .offset(max(page - 1, 0) * per_page)
        .limit(per_page)
        .options(*_incident_options())
    )
    return list(items), total


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
