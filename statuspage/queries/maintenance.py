"""Read side of the maintenance calendar: what pages and APIs show about windows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from calendars.recurrence import to_local
from statuspage.models import MaintenanceSeries, MaintenanceWindow
from statuspage.models.vocab import ACTIVE_WINDOW_STATUSES
from statuspage.services.errors import get_or_404


def _base():  # type: ignore[no-untyped-def]
    return select(MaintenanceWindow).options(selectinload(MaintenanceWindow.platforms))


def active(session: Session) -> list[MaintenanceWindow]:
    """Windows in progress (or being verified), soonest-ending first."""
    return list(
        session.scalars(
            _base()
            .where(MaintenanceWindow.status.in_(ACTIVE_WINDOW_STATUSES))
            .order_by(MaintenanceWindow.ends_at, MaintenanceWindow.id)
        )
    )


def upcoming(session: Session, now: datetime, days: int | None = 14) -> list[MaintenanceWindow]:
    """Scheduled windows starting within `days` (all of them for None), soonest first."""
    query = _base().where(
        MaintenanceWindow.status == "scheduled", MaintenanceWindow.starts_at > now
    )
    if days is not None:
        query = query.where(MaintenanceWindow.starts_at <= now + timedelta(days=days))
    return list(session.scalars(query.order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)))


def between(session: Session, start: datetime, end: datetime) -> list[MaintenanceWindow]:
    """Every window overlapping [start, end), cancelled ones included, in start order."""
    return list(
        session.scalars(
            _base()
            .where(MaintenanceWindow.starts_at < end, MaintenanceWindow.ends_at > start)
            .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
        )
    )


def recent(session: Session, now: datetime, days: int = 30) -> list[MaintenanceWindow]:
    """Windows that ended (completed or cancelled) in the last `days`, newest first."""
    return list(
        session.scalars(
            _base()
            .where(
                MaintenanceWindow.status.in_(("completed", "cancelled")),
                MaintenanceWindow.ends_at >= now - timedelta(days=days),
                MaintenanceWindow.starts_at <= now,
            )
            .order_by(MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id.desc())
        )
    )


@dataclass(frozen=True)
class Day:
    day: date
    in_month: bool
    windows: list[MaintenanceWindow]


def month_grid(session: Session, year: int, month: int, tz_name: str) -> list[list[Day]]:
    """Weeks (Monday first) of a month in the provider's zone, each day with the windows that
    start on it (local date)."""
    tz = ZoneInfo(tz_name)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1] + timedelta(days=1)
    start = to_local(datetime.combine(first, time(0)), tz)
    end = to_local(datetime.combine(last, time(0)), tz)
    by_day: dict[date, list[MaintenanceWindow]] = {}
    for window in between(session, start, end):
        local_day = window.starts_at.astimezone(tz).date()
        by_day.setdefault(local_day, []).append(window)
    return [[Day(d, d.month == month, by_day.get(d, [])) for d in week] for week in weeks]


def listed(session: Session, now: datetime, limit: int = 50) -> list[MaintenanceWindow]:
    """Recent and upcoming windows for the API (cancelled ones left out), newest first."""
    return list(
        session.scalars(
            _base()
            .where(
                MaintenanceWindow.status != "cancelled",
                MaintenanceWindow.starts_at >= now - timedelta(days=30),
                MaintenanceWindow.starts_at <= now + timedelta(days=60),
            )
            .order_by(MaintenanceWindow.starts_at.desc(), MaintenanceWindow.id.desc())
            .limit(limit)
        )
    )


def all_series(session: Session) -> list[MaintenanceSeries]:
    """Every series, active or not, in the order they were made."""
    return list(session.scalars(select(MaintenanceSeries).order_by(MaintenanceSeries.id)))


def get_series(session: Session, series_id: object) -> MaintenanceSeries:
    """The series with the id in `series_id`, or NotFound."""
    return get_or_404(session, MaintenanceSeries, series_id)
