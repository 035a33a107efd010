"""Reads about platforms: the list, the page indicator, the 90-day availability bars."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import (
    Incident,
    IncidentPlatform,
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
    """The page's indicator and its wording, and what set it (for the page to say why).

    `incident_title`/`incident_impact`: the open incident whose impact is the worst (None
    when no open incident counts); `platform_status`/`platform_names`: the worst platform
    status that is not operational and the platforms in it."""

    indicator: str
    description: str
    incident_id: int | None = None
    incident_title: str | None = None
    incident_impact: str | None = None
    platform_status: str | None = None
    platform_names: tuple[str, ...] = ()


# Mildest first: how platform statuses compare when the page says which one is the worst.
_STATUS_ORDER = [
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
]


def platforms(session: Session) -> list[Platform]:
    return list(session.scalars(select(Platform).order_by(Platform.position, Platform.id)))


def page_status(session: Session, now: datetime) -> PageStatus:
    """The page's overall indicator: the worst of component statuses and open incidents.

    Follows Statuspage: each unresolved incident's impact (none/minor/major/critical) and
    each component's status (degraded_performance -> minor, partial_outage -> major,
    major_outage -> critical) are compared and the worst wins; with nothing worse than
    maintenance going on, it is `maintenance`. So a critical master case makes the page
    `critical` even while its platforms are only degraded: the incident's impact is the
    staff's judgement of the whole outage (one shared rule for the page's banner,
    /api/v2/status.json, summary.json and the webhooks). The result also names what set
    it, so the page can say so in words.
    """
    order = ["none", "minor", "major", "critical"]
    worst, description = "none", INDICATOR_DESCRIPTIONS["none"]
    maintenance = False
    cause: Incident | None = None
    # Incidents first: at the same level their wording says more than a component's.
    for incident in session.scalars(
        select(Incident)
        .where(Incident.status.in_(OPEN_INCIDENT_STATUSES))
        .order_by(Incident.started_at, Incident.id)
    ):
        if incident.impact in order and order.index(incident.impact) > order.index(
            cause.impact if cause else "none"
        ):
            cause = incident
        if order.index(incident.impact) > order.index(worst):
            worst, description = incident.impact, INDICATOR_DESCRIPTIONS[incident.impact]
    worst_status, names = "operational", list[str]()
    for platform in platforms(session):
        indicator = _COMPONENT_INDICATOR.get(platform.status, "none")
        rank = _STATUS_ORDER.index(platform.status) if platform.status in _STATUS_ORDER else 0
        if rank > _STATUS_ORDER.index(worst_status):
            worst_status, names = platform.status, [platform.name]
        elif rank and platform.status == worst_status:
            names.append(platform.name)
        if indicator == "maintenance":
            maintenance = True
        elif order.index(indicator) > order.index(worst):
            worst, description = indicator, _COMPONENT_DESCRIPTION[platform.status]
    if worst == "none" and maintenance:
        worst, description = "maintenance", INDICATOR_DESCRIPTIONS["maintenance"]
    return PageStatus(
        worst,
        description,
        incident_id=cause.id if cause else None,
        incident_title=cause.title if cause else None,
        incident_impact=cause.impact if cause else None,
        platform_status=None if worst_status == "operational" else worst_status,
        platform_names=tuple(names),
    )


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
class DayIncident:
    id: int
    title: str
    title_translations: dict[str, str] | None = None


@dataclass(frozen=True)
class DayAvailability:
    """One day of a platform's 90-day bar (a UTC day, as the API's timestamps are).

    `worst`: the worst status the timeline recorded that day as none | minor (degraded
    performance) | major (partial outage) | critical (major outage); `outage_minutes`:
    partial and major outage, rounded up so a short outage never reads as 0 minutes;
    `incidents`: every incident on this platform that was open at some moment of the day.
    """

    day: datetime
    outage_minutes: int
    worst: str
    degraded_minutes: int = 0
    incidents: tuple[DayIncident, ...] = ()

    @property
    def state(self) -> str:
        """What the bar shows: `ok` (no incident), `quiet` (incidents or degraded
        performance but no downtime: a neutral colour, never an outage colour), `partial`
        or `major` (downtime; major when any of it was a major outage)."""
        if self.outage_minutes > 0:
            return "major" if self.worst == "critical" else "partial"
        if self.incidents or self.worst != "none":
            return "quiet"
        return "ok"

    @property
    def label(self) -> str:
        return f"{self.day:%Y-%m-%d}: " + (
            "no incidents"
            if self.state == "ok"
            else f"{self.outage_minutes} min of downtime, {len(self.incidents)} incident(s)"
        )


def _segments(
    changes: list[tuple[datetime, str]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    segments: list[tuple[datetime, datetime, str]] = []
    current, since = "operational", start
    for at, new_status in changes:
        if at > since:
            segments.append((since, at, current))
            since = at
        current = new_status
    segments.append((since, end, current))
    return [(lo, hi, status) for lo, hi, status in segments if hi > lo]


def status_segments(
    session: Session, platform: Platform, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, str]]:
    """The platform's status over [start, end) as disjoint spans, from the timeline's record
    of every change incidents made to it (old and new status)."""
    return _segments(_changes(session, [platform.id], end).get(platform.id, []), start, end)


def _changes(
    session: Session, platform_ids: list[int], end: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    """Every recorded status change of these platforms before `end`, oldest first: one
    statement for all of them."""
    found: dict[int, list[tuple[datetime, str]]] = {pid: [] for pid in platform_ids}
    rows = session.execute(
        select(
            IncidentUpdatePlatform.platform_id,
            IncidentUpdate.display_at,
            IncidentUpdatePlatform.new_status,
        )
        .join(IncidentUpdatePlatform, IncidentUpdatePlatform.update_id == IncidentUpdate.id)
        .where(
            IncidentUpdatePlatform.platform_id.in_(platform_ids),
            IncidentUpdate.display_at < end,
        )
        .order_by(IncidentUpdate.display_at, IncidentUpdate.id)
    ).all()
    for platform_id, at, new_status in rows:
        found[platform_id].append((at, new_status))
    return found


def _incident_spans(
    session: Session, platform_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, datetime, DayIncident]]]:
    """The incidents of these platforms open at some moment of [start, end), with the span
    each was open: one statement for all platforms and days."""
    found: dict[int, list[tuple[datetime, datetime, DayIncident]]] = {
        pid: [] for pid in platform_ids
    }
    rows = session.execute(
        select(
            IncidentPlatform.platform_id,
            Incident.id,
            Incident.title,
            Incident.title_translations,
            Incident.started_at,
            Incident.resolved_at,
        )
        .join(Incident, Incident.id == IncidentPlatform.incident_id)
        .where(
            IncidentPlatform.platform_id.in_(platform_ids),
            Incident.started_at < end,
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= start),
        )
        .order_by(Incident.started_at, Incident.id)
    ).all()
    for platform_id, incident_id, title, titles, started, resolved in rows:
        found[platform_id].append(
            (started, resolved or end, DayIncident(incident_id, title, titles))
        )
    return found


def availability_bars(
    session: Session, platforms: list[Platform], now: datetime, days: int = 90
) -> dict[int, tuple[list[DayAvailability], float]]:
    """Every platform's 90-day bar and uptime percent (see `availability`), read in two
    statements whatever the number of platforms, incidents and updates."""
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    ids = [p.id for p in platforms]
    changes = _changes(session, ids, now)
    spans = _incident_spans(session, ids, start, now)
    return {
        pid: _bar(_segments(changes[pid], start, now), spans[pid], start, now, days) for pid in ids
    }


def _bar(
    segments: list[tuple[datetime, datetime, str]],
    spans: list[tuple[datetime, datetime, DayIncident]],
    start: datetime,
    now: datetime,
    days: int,
) -> tuple[list[DayAvailability], float]:
    rank = {"degraded_performance": "minor", "partial_outage": "major", "major_outage": "critical"}
    order = ["none", "minor", "major", "critical"]
    result: list[DayAvailability] = []
    down_total = 0.0
    for i in range(days):
        day_start = start + timedelta(days=i)
        day_end = min(day_start + timedelta(days=1), now)
        worst, minutes, degraded = "none", 0.0, 0.0
        for lo, hi, status in segments:
            lo, hi = max(lo, day_start), min(hi, day_end)
            if hi <= lo or status not in rank:
                continue
            if order.index(rank[status]) > order.index(worst):
                worst = rank[status]
            if status in ("partial_outage", "major_outage"):
                minutes += (hi - lo).total_seconds() / 60
            else:
                degraded += (hi - lo).total_seconds() / 60
        down_total += minutes
        seen = tuple(
            incident
            for opened, closed, incident in spans
            if opened < day_end and closed >= day_start
        )
        result.append(
            DayAvailability(day_start, math.ceil(minutes), worst, math.ceil(degraded), seen)
        )
    period = max((now - start).total_seconds() / 60, 1)
    uptime = max(0.0, 100.0 * (1 - down_total / period))
    return result, round(uptime, 2)


def availability(
    session: Session, platform: Platform, now: datetime, days: int = 90
) -> tuple[list[DayAvailability], float]:
    """Per-day outage minutes of `platform` over the last `days` days and the uptime percent.

    Partial and major outage count as downtime; degraded performance shows on the bar but
    is not downtime (Statuspage's rule of thumb). Computed from the recorded status changes,
    so an incident that was a major outage for an hour and degraded afterwards counts one
    hour, and overlapping incidents count once.
    """
    return availability_bars(session, [platform], now, days)[platform.id]


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
