"""Reads about incidents: the open ones, the newest ones, the history pages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from statuspage.models import Incident, IncidentPlatform, IncidentUpdate, Platform
from statuspage.models.vocab import (
    CLOSED_INCIDENT_STATUSES,
    IMPACT_SEVERITY,
    OPEN_INCIDENT_STATUSES,
)


def _incident_options() -> tuple[LoaderOption, ...]:
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


def recently_resolved(session: Session, now: datetime, days: int = 7) -> list[Incident]:
    """Incidents resolved in the last `days` days, newest resolution first (the status
    page's "past incidents"), with their platforms."""
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.status.in_(CLOSED_INCIDENT_STATUSES),
                Incident.resolved_at >= now - timedelta(days=days),
                Incident.resolved_at <= now,
            )
            .order_by(Incident.resolved_at.desc(), Incident.id.desc())
            .options(selectinload(Incident.platforms).selectinload(IncidentPlatform.platform))
        )
    )


def by_month(items: list[Incident], tz: ZoneInfo) -> list[tuple[date, list[Incident]]]:
    """Incidents (already newest first) grouped by the month they started in, in `tz`:
    (first day of the month, its incidents), newest month first."""
    months: list[tuple[date, list[Incident]]] = []
    for incident in items:
        local = incident.started_at.astimezone(tz)
        first = date(local.year, local.month, 1)
        if not months or months[-1][0] != first:
            months.append((first, []))
        months[-1][1].append(incident)
    return months


def find(session: Session, incident_id: int) -> Incident | None:
    """The incident with this id, or None (a page that only mentions it shows nothing)."""
    return session.get(Incident, incident_id)


def search(session: Session, q: str, page: int, limit: int) -> list[Incident]:
    """Incidents whose title contains `q` (any case) or whose case number is `q`, newest
    first, one page of them; every incident for an empty `q`."""
    query = select(Incident).order_by(Incident.started_at.desc(), Incident.id.desc())
    if "\x00" in q:  # no title holds one, and PostgreSQL refuses it in a parameter
        return []
    if q:
        query = query.where(
            or_(func.lower(Incident.title).contains(q.lower()), Incident.case_number == q)
        )
    return list(session.scalars(query.offset((page - 1) * limit).limit(limit)))


def open_master_cases(session: Session) -> list[Incident]:
    """Unresolved P1G incidents, the ones whose hourly update is watched."""
    return list(
        session.scalars(
            select(Incident).where(
                Incident.priority == "P1G", Incident.status.in_(OPEN_INCIDENT_STATUSES)
            )
        )
    )


def master_case_banner(session: Session) -> list[Incident]:
    """The open master cases every public page links to, newest first, with their updates
    (for the next-update or ETR time): one statement on the priority/status index."""
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.priority == "P1G", Incident.status.in_(OPEN_INCIDENT_STATUSES))
            .order_by(Incident.started_at.desc(), Incident.id.desc())
            .options(joinedload(Incident.updates))
        ).unique()
    )
