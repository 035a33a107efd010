"""The notice outbox: what to tell subscribers, created once, at the right moment.

Rules enforced here:
- a notice is created in the same transaction as the change that causes it, or by the job
  that finds its moment due; its `key` makes a second creation impossible;
- "one week before" is the same clock time in the provider's zone seven calendar days
  earlier; "24 hours before" one calendar day earlier; start and completion at the window's
  actual start and end;
- a notice announcing a window is never sent once the window has started; other notices
  whose moment passed while the service was down go out late, marked late;
- moving or cancelling a window subscribers were told about tells them so, and cancels the
  announcements that are no longer true.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars.recurrence import to_local
from statuspage.models import (
    Delivery,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Notice,
)

# A notice this much past its moment is marked late.
LATE_AFTER = timedelta(minutes=15)
# How far back the queue job looks for start and completion moments missed while down.
CATCH_UP = timedelta(days=7)
ANNOUNCEMENTS = {"week_before": timedelta(days=7), "day_before": timedelta(days=1)}
TOLD_STATUSES = ("queued", "done")


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    audience: str,
    payload: dict[str, Any],
    due_at: datetime,
    now: datetime,
    platform_ids: Iterable[int] = (),
    incident_id: int | None = None,
    window_id: int | None = None,
    direct_email: str | None = None,
    direct_subscriber_id: int | None = None,
    status: str = "pending",
) -> Notice:
    """Create the notice `key` unless it exists; return the one that exists either way."""
    existing = session.scalar(select(Notice).where(Notice.key == key))
    if existing is not None:
        return existing
    notice = Notice(
        key=key,
        kind=kind,
        audience=audience,
        platform_ids=sorted(set(platform_ids)),
        incident_id=incident_id,
        window_id=window_id,
        direct_email=direct_email,
        direct_subscriber_id=direct_subscriber_id,
        payload=payload,
        status=status,
        due_at=due_at,
        late=now - due_at > LATE_AFTER,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:  # a concurrent transaction created it first
        found = session.scalar(select(Notice).where(Notice.key == key))
        assert found is not None
        return found
    return notice


# --- incidents ----------------------------------------------------------------------


def incident_payload(incident: Incident, update: IncidentUpdate, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "priority": incident.priority,
            "is_master_case": incident.is_master_case,
            "case_number": incident.case_number,
            "impact": incident.impact,
            "status": incident.status,
            "url": f"/incidents/{incident.id}",
        },
        "update": {
            "id": update.id,
            "status": update.status,
            "body": update.body,
            "at": update.display_at.isoformat(),
        },
        "platforms": [ip.platform.name for ip in incident.platforms],
    }


def incident_notice(
    session: Session, incident: Incident, update: IncidentUpdate, *, first: bool, now: datetime
) -> Notice:
    """Tell the incident's and its platforms' subscribers about a timeline entry."""
    if first:
        kind = "incident_created"
    elif update.status in ("resolved", "postmortem"):
        kind = "incident_resolved"
    else:
        kind = "incident_updated"
    return enqueue(
        session,
        key=f"incident-update:{update.id}",
        kind=kind,
        audience="incidents",
        payload=incident_payload(incident, update, kind),
        due_at=now,
        now=now,
        platform_ids=[ip.platform_id for ip in incident.platforms],
        incident_id=incident.id,
    )


# --- maintenance --------------------------------------------------------------------


def window_payload(
    window: MaintenanceWindow,
    kind: str,
    *,
    previous: tuple[datetime, datetime] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": window.id,
        "title": window.title,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "platforms": [p.name for p in window.platforms],
        "description": window.description,
        "justification": window.justification,
        "urgency": window.urgency,
        "note": window.note,
        "release_notes": window.release_notes,
        "url": f"/maintenance/{window.id}",
        "impact": window.impact,
        "unscheduled": window.unscheduled,
    }
    if previous is not None:
        data["previous_starts_at"] = previous[0].isoformat()
        data["previous_ends_at"] = previous[1].isoformat()
    return {"kind": kind, "window": data}


def _window_notice(
    session: Session,
    window: MaintenanceWindow,
    moment: str,
    key: str,
    due_at: datetime,
    now: datetime,
    *,
    previous: tuple[datetime, datetime] | None = None,
    status: str = "pending",
) -> Notice:
    kind = f"maintenance_{moment}"
    return enqueue(
        session,
        key=key,
        kind=kind,
        audience="maintenance",
        payload=window_payload(window, kind, previous=previous),
        due_at=due_at,
        now=now,
        platform_ids=[p.id for p in window.platforms],
        window_id=window.id,
        status=status,
    )


def announcement_due(window: MaintenanceWindow, moment: str, tz: ZoneInfo) -> datetime:
    """The moment of an announcement: same local clock time, N calendar days earlier."""
    local = window.starts_at.astimezone(tz).replace(tzinfo=None)
    return to_local(local - ANNOUNCEMENTS[moment], tz)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%MZ")


def queue_due_window_notices(session: Session, now: datetime, tz_name: str) -> list[Notice]:
    """Create the maintenance notices whose moment has come, per each window's policy.

    Idempotent: a moment's notice is keyed by window, moment and (for announcements) the
    start it announces. An announcement that comes due after its window started is recorded
    as skipped, never sent.
    """
    tz = ZoneInfo(tz_name)
    horizon = now + max(ANNOUNCEMENTS.values()) + timedelta(days=1)
    windows = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.status != "cancelled",
            MaintenanceWindow.starts_at <= horizon,
            MaintenanceWindow.ends_at >= now - CATCH_UP,
        )
    )
    made: list[Notice] = []
    for window in windows:
        policy = set(window.notices or [])
        for moment in ANNOUNCEMENTS:
            if moment not in policy:
                continue
            due = announcement_due(window, moment, tz)
            if due > now:
                continue
            key = f"window:{window.id}:{moment}:{_stamp(window.starts_at)}"
            started = now >= window.starts_at or window.status != "scheduled"
            made.append(
                _window_notice(
                    session,
                    window,
                    moment,
                    key,
                    due,
                    now,
                    status="skipped" if started else "pending",
                )
            )
        if "start" in policy and window.started_at is not None:
            made.append(
                _window_notice(
                    session, window, "start", f"window:{window.id}:start", window.started_at, now
                )
            )
        if "completion" in policy and window.status == "completed" and window.completed_at:
            made.append(
                _window_notice(
                    session,
                    window,
                    "completion",
                    f"window:{window.id}:completion",
                    window.completed_at,
                    now,
                )
            )
    session.flush()
    return made


def subscribers_were_told(session: Session, window: MaintenanceWindow) -> bool:
    """Whether any notice about this window has gone (or is going) out to subscribers."""
    return (
        session.scalar(
            select(Notice.id)
            .where(Notice.window_id == window.id, Notice.status.in_(TOLD_STATUSES))
            .limit(1)
        )
        is not None
    )


def cancel_pending(
    session: Session, window: MaintenanceWindow, moments: Iterable[str], now: datetime
) -> int:
    """Cancel this window's notices of `moments` that have not gone out; return how many."""
    kinds = [f"maintenance_{m}" for m in moments]
    notices = list(
        session.scalars(
            select(Notice).where(
                Notice.window_id == window.id,
                Notice.kind.in_(kinds),
                Notice.status.in_(("pending", "queued")),
            )
        )
    )
    for notice in notices:
        notice.status = "cancelled"
        session.execute(
            update(Delivery)
            .where(Delivery.notice_id == notice.id, Delivery.status == "queued")
            .values(status="cancelled")
        )
    session.flush()
    return len(notices)


def window_moved(
    session: Session,
    window: MaintenanceWindow,
    previous: tuple[datetime, datetime],
    now: datetime,
) -> Notice | None:
    """A window moved or its end changed: withdraw stale announcements and, if subscribers
    heard of it, send a "rescheduled" notice."""
    if (window.starts_at, window.ends_at) == previous:
        return None
    told = subscribers_were_told(session, window)
    if window.starts_at != previous[0]:
        cancel_pending(session, window, ANNOUNCEMENTS, now)
    if not told:
        return None
    return _window_notice(
        session,
        window,
        "rescheduled",
        f"window:{window.id}:rescheduled:{window.sequence}",
        now,
        now,
        previous=previous,
    )


def window_cancelled(session: Session, window: MaintenanceWindow, now: datetime) -> Notice | None:
    """A cancelled window cancels its pending notices and, if subscribers heard of it,
    tells them it is off."""
    told = subscribers_were_told(session, window)
    cancel_pending(session, window, [*ANNOUNCEMENTS, "start", "completion", "scheduled"], now)
    if not told:
        return None
    return _window_notice(session, window, "cancelled", f"window:{window.id}:cancelled", now, now)


def window_scheduled(session: Session, window: MaintenanceWindow, now: datetime) -> Notice:
    """Unscheduled maintenance is announced at once."""
    return _window_notice(session, window, "scheduled", f"window:{window.id}:scheduled", now, now)


def release_notes_posted(session: Session, window: MaintenanceWindow, now: datetime) -> Notice:
    return _window_notice(
        session,
        window,
        "release_notes",
        f"window:{window.id}:release_notes:{window.sequence}",
        now,
        now,
    )
