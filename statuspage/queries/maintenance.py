"""Read side of the maintenance calendar: what pages and APIs show about windows."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from calendars.recurrence import to_local
from statuspage.models import MaintenanceSeries, MaintenanceWindow, Platform
from statuspage.models.vocab import ACTIVE_WINDOW_STATUSES
from statuspage.services.errors import get_or_404


@dataclass(frozen=True)
class WindowFilter:
    """What a reader narrowed the calendar to: windows touching any of `platforms` (slugs;
    none given: all), and of one `impact` ("maintenance": customer impact, "none": none;
    None: both)."""

    platforms: tuple[str, ...] = ()
    impact: str | None = None

    def apply(self, query: Select[tuple[MaintenanceWindow]]) -> Select[tuple[MaintenanceWindow]]:
        if self.platforms:
            query = query.where(MaintenanceWindow.platforms.any(Platform.slug.in_(self.platforms)))
        if self.impact is not None:
            query = query.where(MaintenanceWindow.impact == self.impact)
        return query


def _base(only: WindowFilter | None = None) -> Select[tuple[MaintenanceWindow]]:
    query = select(MaintenanceWindow).options(selectinload(MaintenanceWindow.platforms))
    return only.apply(query) if only is not None else query


def active(session: Session, *, only: WindowFilter | None = None) -> list[MaintenanceWindow]:
    """Windows in progress (or being verified), soonest-ending first."""
    return list(
        session.scalars(
            _base(only)
            .where(MaintenanceWindow.status.in_(ACTIVE_WINDOW_STATUSES))
            .order_by(MaintenanceWindow.ends_at, MaintenanceWindow.id)
        )
    )


def upcoming(
    session: Session, now: datetime, days: int | None = 14, *, only: WindowFilter | None = None
) -> list[MaintenanceWindow]:
    """Scheduled windows starting within `days` (all of them for None), soonest first."""
    query = _base(only).where(
        MaintenanceWindow.status == "scheduled", MaintenanceWindow.starts_at > now
    )
    if days is not None:
        query = query.where(MaintenanceWindow.starts_at <= now + timedelta(days=days))
    return list(session.scalars(query.order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)))


def between(
    session: Session, start: datetime, end: datetime, *, only: WindowFilter | None = None
) -> list[MaintenanceWindow]:
    """Every window overlapping [start, end), cancelled ones included, in start order."""
    return list(
        session.scalars(
            _base(only)
            .where(MaintenanceWindow.starts_at < end, MaintenanceWindow.ends_at > start)
            .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
        )
    )


def recent(
    session: Session, now: datetime, days: int = 30, *, only: WindowFilter | None = None
) -> list[MaintenanceWindow]:
    """Windows that ended (completed or cancelled) in the last `days`, newest first."""
    return list(
        session.scalars(
            _base(only)
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
    today: bool = False


def month_grid(
    session: Session,
    year: int,
    month: int,
    tz_name: str,
    *,
    today: date | None = None,
    only: WindowFilter | None = None,
) -> list[list[Day]]:
    """Weeks (Monday first) of a month in the provider's zone, each day with the windows that
    start on it (local date); the day equal to `today` (the provider's date) is marked."""
    tz = ZoneInfo(tz_name)
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    first, last = weeks[0][0], weeks[-1][-1] + timedelta(days=1)
    start = to_local(datetime.combine(first, time(0)), tz)
    end = to_local(datetime.combine(last, time(0)), tz)
    by_day: dict[date, list[MaintenanceWindow]] = {}
    for window in between(session, start, end, only=only):
        local_day = window.starts_at.astimezone(tz).date()
        by_day.setdefault(local_day, []).append(window)
    return [
        [Day(d, d.month == month, by_day.get(d, []), d == today) for d in week] for week in weeks
    ]


@dataclass(frozen=True)
class Agenda:
    """A month as a list: its windows in start order, and where today falls among them
    (`today_at`: the index of the first window starting on or after today, None when today
    is not in the month)."""

    windows: list[MaintenanceWindow]
    today_at: int | None


def month_list(
    session: Session,
    year: int,
    month: int,
    tz_name: str,
    *,
    today: date | None = None,
    only: WindowFilter | None = None,
) -> Agenda:
    """The windows starting in a month (local dates in the provider's zone), cancelled ones
    included, in start order."""
    tz = ZoneInfo(tz_name)
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    windows = between(
        session,
        to_local(datetime.combine(first, time(0)), tz),
        to_local(datetime.combine(after, time(0)), tz),
        only=only,
    )
    # `between` also returns a window begun the month before and still running.
    windows = [w for w in windows if w.starts_at.astimezone(tz).date() >= first]
    today_at = None
    if today is not None and first <= today < after:
        today_at = next(
            (i for i, w in enumerate(windows) if w.starts_at.astimezone(tz).date() >= today),
            len(windows),
        )
    return Agenda(windows, today_at)


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


def series_by_id(session: Session) -> dict[int, MaintenanceSeries]:
    """Every series by id, in one statement (a page describing its windows' recurrence)."""
    return {s.id: s for s in all_series(session)}


def get_series(session: Session, series_id: object) -> MaintenanceSeries:
    """The series with the id in `series_id`, or NotFound."""
    return get_or_404(session, MaintenanceSeries, series_id)
