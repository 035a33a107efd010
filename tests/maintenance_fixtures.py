"""A maintenance calendar with every kind of entry: series, a moved occurrence, a cancelled
one, a narrowed one, an annotated one, and one-off windows (one cancelled)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.models import MaintenanceSeries, MaintenanceWindow, User
from statuspage.seed.defaults import seed_series
from statuspage.services import maintenance as svc

MT = ZoneInfo("America/Denver")
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@dataclass
class Calendar:
    moved: MaintenanceWindow
    cancelled: MaintenanceWindow
    narrowed: MaintenanceWindow
    annotated: MaintenanceWindow
    unscheduled: MaintenanceWindow
    unscheduled_cancelled: MaintenanceWindow


def series(session: Session, key: str) -> MaintenanceSeries:
    found = session.scalar(select(MaintenanceSeries).where(MaintenanceSeries.key == key))
    assert found is not None
    return found


def window_on(session: Session, key: str, local_day: date) -> MaintenanceWindow:
    for w in series(session, key).windows:
        if w.recurrence_id and w.recurrence_id.astimezone(MT).date() == local_day:
            return w
    raise AssertionError(f"no {key} window on {local_day}")


def build(session: Session, actor: User, now: datetime = NOW) -> Calendar:
    seed_series(session, now, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    svc.expand_series(session, now)
    moved = window_on(session, "monthly-maintenance", date(2027, 1, 15))
    new_start = datetime(2027, 1, 16, 22, tzinfo=MT)
    move(session, actor, moved, new_start, now=now)
    cancelled = window_on(session, "monthly-maintenance", date(2027, 2, 19))
    svc.set_window_status(session, actor, cancelled, "cancelled", now)
    narrowed = window_on(session, "monthly-maintenance", date(2027, 3, 19))
    svc.change_window(session, actor, narrowed, platforms=["cisco", "contact-centre"], now=now)
    annotated = window_on(session, "connect-release", date(2026, 12, 8))
    svc.change_window(session, actor, annotated, note="Includes the **new** dashboard", now=now)
    # Two one-off windows at 01:00 (outside working hours: no urgency needed).
    unscheduled = one_off(
        session,
        actor,
        start=datetime(2026, 12, 2, 1, 0, tzinfo=MT),
        hours=2,
        platforms=["microsoft-teams"],
        **texts(
            "Emergency SBC patch", "Patch a <script>alert(1)</script> critical bug", "Security"
        ),
        now=now,
    )
    unscheduled_cancelled = one_off(
        session,
        actor,
        start=datetime(2026, 12, 3, 1, 0, tzinfo=MT),
        **texts("Disk swap", "Swap", "A disk is failing"),
        now=now,
    )
    svc.set_window_status(session, actor, unscheduled_cancelled, "cancelled", now)
    session.commit()
    return Calendar(moved, cancelled, narrowed, annotated, unscheduled, unscheduled_cancelled)


def expected_spans(
    session: Session,
    start: datetime,
    end: datetime,
    platform_slug: str | Collection[str] | None = None,
) -> list[tuple[datetime, datetime]]:
    """What a calendar client must show: every window not cancelled, where it is now (of
    one platform, or of any of several)."""
    slugs = (
        None
        if platform_slug is None
        else set([platform_slug] if isinstance(platform_slug, str) else platform_slug)
    )
    spans = []
    for w in session.scalars(select(MaintenanceWindow)):
        if w.status == "cancelled":
            continue
        if slugs is not None and slugs.isdisjoint(p.slug for p in w.platforms):
            continue
        if w.ends_at > start and w.starts_at < end:
            spans.append((w.starts_at, w.ends_at))
    return sorted(spans)


def texts(title: str, description: str, justification: str, urgency: str = "") -> dict[str, str]:
    """A window's texts by name, for `one_off`: its title, what is done and why."""
    return {
        "title": title,
        "description": description,
        "justification": justification,
        "urgency": urgency,
    }


def one_off(
    session: Session,
    actor: User,
    *,
    start: datetime | None = None,
    hours: float = 1,
    **fields: object,
) -> MaintenanceWindow:
    """An unscheduled window on Cisco from `start` (twelve hours after NOW unless told) for
    `hours`, with every text a window needs; `fields` override any of them (title,
    starts_at, description, ...)."""
    start = start or NOW + timedelta(hours=12)
    values: dict[str, object] = {
        "title": "Firmware",
        "starts_at": start,
        "ends_at": start + timedelta(hours=hours),
        "platforms": ["cisco"],
        "description": "d",
        "justification": "j",
        "urgency": "u",
        "tz_name": "America/Denver",
        "now": NOW,
        **fields,
    }
    return svc.create_unscheduled(session, actor, **values)


def move(
    session: Session,
    actor: User,
    window: MaintenanceWindow,
    start: datetime,
    hours: float = 6,
    now: datetime = NOW,
    **fields: object,
) -> MaintenanceWindow:
    """Move `window` through the service to `start`, lasting `hours` (the monthly window's
    six unless told), as staff would at `now`; `fields` are any other changes (a note, ...)."""
    end = start + timedelta(hours=hours)
    return svc.change_window(
        session, actor, window, starts_at=start, ends_at=end, now=now, **fields
    )


def extend_running(session: Session, actor: User, window: MaintenanceWindow, hours: float):
    """Start `window` (the windows job at its start), then have staff make it `hours`
    longer at that moment. Returns its new end."""
    svc.advance_windows(session, window.starts_at)
    new_end = window.ends_at + timedelta(hours=hours)
    svc.change_window(session, actor, window, ends_at=new_end, now=window.starts_at)
    return new_end
