"""Maintenance series and windows: expansion, lifecycle, and staff changes to one occurrence.

Rules enforced here:
- a series is an RFC 5545 rule in the provider's zone that must yield occurrences;
- windows are materialised for the coming 400 days, once each (series + recurrence id);
- a window starts and completes by itself at its start and end; staff may mark it
  verifying, complete it early, move, extend, narrow, annotate or cancel it, and add
  release notes after it, without touching the series;
- only admins create or edit a series; editing one re-expands its future occurrences but
  keeps per-occurrence edits;
- a window with impact puts its platforms `under_maintenance` while it runs;
- unscheduled work inside 05:00-23:00 in the provider's zone needs a justification.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars import recurrence
from statuspage.i18n import N_
from statuspage.models import MaintenanceSeries, MaintenanceWindow, Platform, User
from statuspage.models.vocab import (
    ACTIVE_WINDOW_STATUSES,
    MAINTENANCE_IMPACTS,
    MAINTENANCE_NOTICES,
)
from statuspage.services import audit, notices, roles, text
from statuspage.services import platforms as platform_service
from statuspage.services.errors import (
    Conflict,
    Errors,
    Message,
    get_or_404,
    row_id,
)

HORIZON = timedelta(days=400)
MAX_WINDOW = timedelta(hours=48)
TITLE_MAX = 200
TEXT_MAX = 20_000
# The support plan: unscheduled work is kept outside 05:00-23:00 MT where possible.
BUSINESS_HOURS = (time(5, 0), time(23, 0))


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def series_local_start(series: MaintenanceSeries) -> datetime:
    return series.first_start.astimezone(zone(series.timezone))


def series_duration(series: MaintenanceSeries) -> timedelta:
    return timedelta(minutes=series.duration_minutes)


def window_snapshot(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "title": window.title,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "status": window.status,
        "impact": window.impact,
        "platforms": [p.slug for p in window.platforms],
        "note": window.note,
        "release_notes": window.release_notes,
    }


def series_snapshot(series: MaintenanceSeries) -> dict[str, Any]:
    return {
        "title": series.title,
        "rule": series.rule,
        "first_start": series.first_start.isoformat(),
        "duration_minutes": series.duration_minutes,
        "impact": series.impact,
        "notices": list(series.notices),
        "platforms": [p.slug for p in series.platforms],
        "active": series.active,
    }


# --- validation ----------------------------------------------------------------------


def _platforms(session: Session, errors: Errors, keys: Iterable[Any] | None) -> list[Platform]:
    if keys is None:
        return []
    found: list[Platform] = []
    for key in text.bounded("platforms", keys, what="platforms"):
        platform = None
        if isinstance(key, Platform):
            platform = key
        elif row_id(key) is not None:
            platform = session.get(Platform, row_id(key))
        elif isinstance(key, str) and text.is_clean(key):
            platform = session.scalar(select(Platform).where(Platform.slug == key))
        if platform is None:
            errors.add("platforms", N_("unknown platform %(name)r"), name=str(key)[:64])
        elif platform not in found:
            found.append(platform)
    return found


def _check_text(
    errors: Errors, title: str | None, description: str | None, justification: str | None
) -> tuple[str | None, str | None]:
    """Check the texts; return description and justification with their line endings as LF."""
    if title is not None and not (1 <= len(title.strip()) <= TITLE_MAX):
        errors.add("title", N_("is required and must be at most %(max)d characters"), max=TITLE_MAX)
    text.check(errors, "title", title)
    if description is not None and len(description) > TEXT_MAX:
        errors.add("description", N_("must be at most %(max)d characters"), max=TEXT_MAX)
    if justification is not None and len(justification) > TEXT_MAX:
        errors.add("justification", N_("must be at most %(max)d characters"), max=TEXT_MAX)
    return (
        text.check(errors, "description", description, multiline=True),
        text.check(errors, "justification", justification, multiline=True),
    )


def _check_note(errors: Errors, field: str, value: str | None) -> str | None:
    if value is not None and len(value) > TEXT_MAX:
        errors.add(field, N_("must be at most %(max)d characters"), max=TEXT_MAX)
    return text.check(errors, field, value, multiline=True)


def _check_span(errors: Errors, start: datetime, end: datetime) -> None:
    if end <= start:
        errors.add("ends_at", N_("the end must be after the start"))
    elif end - start > MAX_WINDOW:
        errors.add(
            "ends_at",
            N_("a window lasts at most %(hours)d hours; split longer work"),
            hours=int(MAX_WINDOW.total_seconds() // 3600),
        )


def _check_notices(errors: Errors, notices: Sequence[str] | None) -> None:
    if notices is not None and any(n not in MAINTENANCE_NOTICES for n in notices):
        errors.add(
            "notices", N_("each must be one of %(choices)s"), choices=", ".join(MAINTENANCE_NOTICES)
        )


def _check_impact(errors: Errors, impact: str | None) -> None:
    if impact is not None and impact not in MAINTENANCE_IMPACTS:
        errors.add(
            "impact", N_("must be one of %(choices)s"), choices=", ".join(MAINTENANCE_IMPACTS)
        )


def touches_business_hours(start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """Whether [start, end) overlaps 05:00-23:00 local on any day it spans."""
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    day: date = local_start.date()
    while day <= local_end.date():
        open_at = recurrence.to_local(datetime.combine(day, BUSINESS_HOURS[0]), tz)
        close_at = recurrence.to_local(datetime.combine(day, BUSINESS_HOURS[1]), tz)
        if local_start < close_at and local_end > open_at:
            return True
        day += timedelta(days=1)
    return False


# --- series ----------------------------------------------------------------------------


def _check_series(
    errors: Errors,
    *,
    rule: str,
    first_start: datetime,
    duration_minutes: int,
    now: datetime,
) -> None:
    if not isinstance(duration_minutes, int) or not (
        1 <= duration_minutes <= MAX_WINDOW.total_seconds() // 60
    ):
        errors.add("duration_minutes", N_("must be between 1 minute and 48 hours"))
        return
    try:
        upcoming = recurrence.occurrences(
            rule, first_start, timedelta(minutes=duration_minutes), now, now + HORIZON
        )
    except recurrence.RuleError as exc:
        errors.add("rule", str(exc))
        return
    if not upcoming:
        errors.add("rule", N_("the rule yields no occurrence in the coming 400 days"))


def save_series(
    session: Session,
    actor: User,
    series: MaintenanceSeries | None,
    *,
    title: str,
    rule: str,
    first_start: datetime,
    duration_minutes: int,
    impact: str,
    platforms: Iterable[Any],
    description: str = "",
    justification: str = "",
    notices: Sequence[str] = (),
    active: bool = True,
    tz_name: str,
    now: datetime,
) -> MaintenanceSeries:
    """Create (series None) or edit a series, then re-expand its future occurrences.

    `first_start` is aware; it is read in the provider's zone, and the rule's occurrences keep
    its wall-clock time. Series are the admins' (the seed writes the defaults directly).
    """
    roles.require(actor, "series.save")
    tz_name = series.timezone if series else tz_name
    errors = Errors()
    checked = _check_text(errors, title, description, justification)
    description, justification = checked[0] or "", checked[1] or ""
    text.check(errors, "rule", rule)
    _check_impact(errors, impact)
    _check_notices(errors, notices)
    chosen = _platforms(session, errors, platforms)
    if not chosen:
        errors.add("platforms", N_("choose at least one platform"))
    if first_start.tzinfo is None:
        errors.add("first_start", N_("needs a time zone"))
    else:
        first_start = first_start.astimezone(zone(tz_name))
        _check_series(
            errors, rule=rule, first_start=first_start, duration_minutes=duration_minutes, now=now
        )
    errors.raise_if_any()
    rule = ";".join(f"{k}={v}" for k, v in recurrence.parse_rule(rule).items())

    before = series_snapshot(series) if series else None
    if series is None:
        series = MaintenanceSeries(
            key=_new_key(session, title), timezone=tz_name, created_at=now, sequence=0, revision=0
        )
        session.add(series)
    else:
        series.sequence += 1
        series.revision += 1
    series.title = title.strip()
    series.rule = rule
    series.first_start = first_start
    series.duration_minutes = duration_minutes
    series.impact = impact
    series.description = description
    series.justification = justification
    series.notices = list(notices)
    series.platforms = chosen
    series.active = active
    series.updated_at = now
    session.flush()
    audit.record(
        session, actor, "series.save", series, before=before, after=series_snapshot(series), now=now
    )
    reexpand_series(session, series, now)
    return series


def _new_key(session: Session, title: str) -> str:
    base = "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")[:40] or "series"
    key, n = base, 1
    while session.scalar(select(MaintenanceSeries.id).where(MaintenanceSeries.key == key)):
        n += 1
        key = f"{base}-{n}"
    return key


def _new_window(
    series: MaintenanceSeries, occ: recurrence.Occurrence, now: datetime
) -> MaintenanceWindow:
    return MaintenanceWindow(
        series_id=series.id,
        recurrence_id=occ.start,
        title=series.title,
        starts_at=occ.start,
        ends_at=occ.end,
        status="scheduled",
        impact=series.impact,
        description=series.description,
        justification=series.justification,
        notices=list(series.notices),
        platforms=list(series.platforms),
        unscheduled=False,
        customised=False,
        sequence=0,
        created_at=now,
        updated_at=now,
    )


def expand_series(session: Session, now: datetime, horizon: timedelta = HORIZON) -> int:
    """Materialise every active series' occurrences from `now` to `now + horizon`.

    Idempotent and safe to run concurrently: a (series, recurrence id) pair exists once; a
    concurrent insert of the same occurrence is skipped. Returns how many windows were made.
    """
    created = 0
    for series in session.scalars(
        select(MaintenanceSeries).where(MaintenanceSeries.active.is_(True))
    ):
        occs = recurrence.occurrences(
            series.rule, series_local_start(series), series_duration(series), now, now + horizon
        )
        known = set(
            session.scalars(
                select(MaintenanceWindow.recurrence_id).where(
                    MaintenanceWindow.series_id == series.id,
                    MaintenanceWindow.recurrence_id >= now - timedelta(days=3),
                )
            )
        )
        for occ in occs:
            if occ.start in known:
                continue
            try:
                with session.begin_nested():
                    session.add(_new_window(series, occ, now))
                created += 1
            except IntegrityError:
                pass  # another process made it first
    return created


def reexpand_series(session: Session, series: MaintenanceSeries, now: datetime) -> None:
    """Bring future, untouched occurrences in line with the series after an edit.

    Windows staff changed (customised), running or finished ones are kept as they are.
    Untouched future windows take the series' new text, platforms and times; those the new
    rule no longer produces are removed.
    """
    session.flush()
    occs: dict[datetime | None, recurrence.Occurrence] = {}
    if series.active:
        occs = {
            o.start: o
            for o in recurrence.occurrences(
                series.rule,
                series_local_start(series),
                series_duration(series),
                now,
                now + HORIZON,
            )
        }
    for window in list(series.windows):
        if window.customised or window.status != "scheduled" or window.starts_at <= now:
            continue
        occ = occs.get(window.recurrence_id)
        if occ is None:
            session.delete(window)
            continue
        changed = (
            window.title != series.title
            or window.ends_at != occ.end
            or window.impact != series.impact
            or window.description != series.description
            or window.justification != series.justification
            or list(window.notices) != list(series.notices)
            or [p.id for p in window.platforms] != [p.id for p in series.platforms]
        )
        if changed:
            window.title = series.title
            window.ends_at = occ.end
            window.impact = series.impact
            window.description = series.description
            window.justification = series.justification
            window.notices = list(series.notices)
            window.platforms = list(series.platforms)
            window.updated_at = now
    session.flush()
    expand_series(session, now)


# --- lifecycle -----------------------------------------------------------------------


def advance_windows(session: Session, now: datetime) -> list[MaintenanceWindow]:
    """Start windows whose start has come and complete those whose end has passed.

    Returns the windows whose status changed. Platforms under a window with impact are put
    `under_maintenance` while it runs and released when it ends.
    """
    changed: list[MaintenanceWindow] = []
    due = session.scalars(
        select(MaintenanceWindow).where(
            MaintenanceWindow.status.in_(["scheduled", *ACTIVE_WINDOW_STATUSES]),
            MaintenanceWindow.starts_at <= now,
        )
    )
    for window in due:
        before = window.status
        if window.ends_at <= now:
            window.status = "completed"
            window.started_at = window.started_at or window.starts_at
            window.completed_at = window.ends_at
        elif window.status == "scheduled":
            window.status = "in_progress"
            window.started_at = window.starts_at
        if window.status != before:
            window.updated_at = now
            changed.append(window)
    session.flush()
    platform_service.refresh_statuses(session, {p.id for w in changed for p in w.platforms}, now)
    return changed


def get_window(session: Session, window_id: int | str) -> MaintenanceWindow:
    return get_or_404(session, MaintenanceWindow, window_id)


def _touch(window: MaintenanceWindow, now: datetime) -> None:
    window.sequence += 1
    window.updated_at = now
    if window.series is not None:
        window.customised = True
        window.series.revision = (window.series.revision or 0) + 1


def change_window(
    session: Session,
    actor: User,
    window: MaintenanceWindow,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    platforms: Iterable[Any] | None = None,
    note: str | None = None,
    title: str | None = None,
    description: str | None = None,
    justification: str | None = None,
    now: datetime,
) -> MaintenanceWindow:
    """Move, extend, narrow or annotate one window, leaving its series alone.

    A window that has not started may be moved, but not into the past; a running one may
    only have its end changed (extended or shortened, not before now); a finished or
    cancelled one takes only notes.
    """
    errors = Errors()
    description, justification = _check_text(errors, title, description, justification)
    note = _check_note(errors, "note", note)
    chosen = _platforms(session, errors, platforms) if platforms is not None else None
    if platforms is not None and not chosen:
        errors.add("platforms", N_("choose at least one platform"))
    new_start = starts_at or window.starts_at
    new_end = ends_at or window.ends_at
    moving = starts_at is not None and starts_at != window.starts_at
    retiming = moving or (ends_at is not None and ends_at != window.ends_at)
    # What the window's state refuses whatever the times: a conflict, not a mistake.
    if window.status in ("completed", "cancelled") and (retiming or chosen is not None):
        raise Conflict(
            {
                "starts_at": Message(
                    N_("a %(status)s window cannot be changed"), status=window.status
                )
            }
        )
    if window.status in ACTIVE_WINDOW_STATUSES and moving:
        raise Conflict(
            {"starts_at": Message(N_("a running window keeps its start; change its end instead"))}
        )
    if moving and new_start < now:
        errors.add("starts_at", N_("a window cannot be moved into the past"))
    if retiming:
        _check_span(errors, new_start, new_end)
        if new_end <= now:
            errors.add("ends_at", N_("the end must be in the future; complete the window instead"))
    errors.raise_if_any()

    before = window_snapshot(window)
    before_platforms = {p.id for p in window.platforms}
    previous = (window.starts_at, window.ends_at)
    window.starts_at, window.ends_at = new_start, new_end
    if chosen is not None:
        window.platforms = chosen
    for name, value in (
        ("note", note),
        ("title", title),
        ("description", description),
        ("justification", justification),
    ):
        if value is not None:
            setattr(window, name, value.strip() if name == "title" else value)
    _touch(window, now)
    session.flush()
    audit.record(
        session,
        actor,
        "window.change",
        window,
        before=before,
        after=window_snapshot(window),
        now=now,
    )
    notices.window_changed(session, window, previous, before_platforms, now)
    if window.status in ACTIVE_WINDOW_STATUSES or chosen is not None:
        platform_service.refresh_statuses(
            session, before_platforms | {p.id for p in window.platforms}, now
        )
    return window


# The statuses staff may move a window to, from each status; a completed or cancelled
# window stays as it is.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    "scheduled": ("in_progress", "cancelled"),
    "in_progress": ("verifying", "completed", "cancelled"),
    "verifying": ("completed", "in_progress"),
}
FINISHED_STATUSES = ("completed", "cancelled")


def next_statuses(window: MaintenanceWindow) -> tuple[str, ...]:
    """The statuses staff may move `window` to now (none once it is finished)."""
    return NEXT_STATUSES.get(window.status, ())


def is_finished(window: MaintenanceWindow) -> bool:
    """A completed or cancelled window: it takes notes (and release notes), nothing else."""
    return window.status in FINISHED_STATUSES


def status_notifies(window: MaintenanceWindow, status: str) -> bool:
    """Whether moving `window` to `status` may notify subscribers (its start, completion
    or cancellation): staff see what would be sent and confirm first."""
    return status in FINISHED_STATUSES or (status == "in_progress" and window.status == "scheduled")


def change_notifies(
    window: MaintenanceWindow,
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    platforms: Iterable[Any] | None,
) -> bool:
    """Whether a change of one window (`platforms` as slugs) may notify subscribers: a
    move, an extension or a shortening, or other platforms (a note alone notifies nobody)."""
    retimed = (starts_at is not None and starts_at != window.starts_at) or (
        ends_at is not None and ends_at != window.ends_at
    )
    other_platforms = platforms is not None and {str(p) for p in platforms} != {
        p.slug for p in window.platforms
    }
    return retimed or other_platforms


def set_status_now(
    session: Session,
    actor: User,
    window: MaintenanceWindow,
    status: str,
    *,
    now: datetime,
    tz_name: str,
) -> MaintenanceWindow:
    """Staff's status change: `set_window_status`, then the notices that moment brings at
    once (the start or completion notice the notices job would make on its next pass), so
    that what the confirmation page showed is what this transaction queues."""
    set_window_status(session, actor, window, status, now)
    notices.queue_window_notices(session, window, now, tz_name)
    return window


def set_window_status(
    session: Session, actor: User, window: MaintenanceWindow, status: str, now: datetime
) -> MaintenanceWindow:
    """Staff moves a window along: `verifying` or `completed` while it runs, or `cancelled`
    before it ends. Completing early ends the window now."""
    if status not in next_statuses(window):
        raise Conflict(
            {
                "status": Message(
                    N_("a %(status)s window cannot become %(new)s"),
                    status=window.status,
                    new=status,
                )
            }
        )
    before = window_snapshot(window)
    window.status = status
    if status == "in_progress":
        window.started_at = now
        if window.starts_at > now:
            window.starts_at = now
    elif status == "completed":
        window.completed_at = now
        window.ends_at = min(window.ends_at, now)
    elif status == "cancelled":
        window.cancelled_at = now
    _touch(window, now)
    session.flush()
    audit.record(
        session,
        actor,
        f"window.{status}",
        window,
        before=before,
        after=window_snapshot(window),
        now=now,
    )
    if status == "cancelled":
        notices.window_cancelled(session, window, now)
    platform_service.refresh_statuses(session, {p.id for p in window.platforms}, now)
    return window


def add_release_notes(
    session: Session, actor: User, window: MaintenanceWindow, notes: str, now: datetime
) -> MaintenanceWindow:
    """Follow-up notes of added features and functionality, after the window completed."""
    errors = Errors()
    if window.status != "completed":
        errors.add("release_notes", N_("release notes follow a completed window"))
    if not notes.strip():
        errors.add("release_notes", N_("write the release notes"))
    notes = _check_note(errors, "release_notes", notes) or ""
    errors.raise_if_any()
    before = window_snapshot(window)
    window.release_notes = notes
    _touch(window, now)
    session.flush()
    audit.record(
        session,
        actor,
        "window.release_notes",
        window,
        before=before,
        after=window_snapshot(window),
        now=now,
    )
    if window.notices or window.unscheduled:
        notices.release_notes_posted(session, window, now)
    return window


def create_unscheduled(
    session: Session,
    actor: User,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    platforms: Iterable[Any],
    description: str,
    justification: str = "",
    urgency: str = "",
    impact: str = "maintenance",
    tz_name: str,
    now: datetime,
) -> MaintenanceWindow:
    """A one-off window for critical work, with its justification. Inside 05:00-23:00 in the
    provider's zone it also needs the reason it cannot wait (`urgency`)."""
    errors = Errors()
    checked = _check_text(errors, title, description, justification)
    description, justification = checked[0] or "", checked[1] or ""
    urgency = _check_note(errors, "urgency", urgency) or ""
    _check_impact(errors, impact)
    chosen = _platforms(session, errors, platforms)
    if not chosen:
        errors.add("platforms", N_("choose at least one platform"))
    if not description.strip():
        errors.add("description", N_("describe the work"))
    if not justification.strip():
        errors.add("justification", N_("say why the work is needed"))
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        errors.add("starts_at", N_("needs a time zone"))
    else:
        _check_span(errors, starts_at, ends_at)
        if ends_at <= now:
            errors.add("ends_at", N_("the window must end in the future"))
        if touches_business_hours(starts_at, ends_at, zone(tz_name)) and not urgency.strip():
            errors.add(
                "urgency",
                N_("this window falls inside 05:00-23:00; say why it cannot wait for the night"),
            )
    errors.raise_if_any()
    window = MaintenanceWindow(
        series_id=None,
        recurrence_id=None,
        title=title.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        status="scheduled",
        impact=impact,
        description=description,
        justification=justification,
        urgency=urgency,
        notices=["start", "completion"],
        unscheduled=True,
        customised=False,
        sequence=0,
        created_at=now,
        updated_at=now,
        created_by_id=actor.id,
        platforms=chosen,
    )
    session.add(window)
    session.flush()
    audit.record(
        session, actor, "window.create", window, before=None, after=window_snapshot(window), now=now
    )
    notices.window_scheduled(session, window, now)
    return window


def create_from_statuspage_fields(
    session: Session,
    actor: User,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    platforms: Iterable[Any],
    body: str,
    justification: str | None,
    urgency: str | None,
    impact: str,
    tz_name: str,
    now: datetime,
) -> MaintenanceWindow:
    """A one-off window from a client that may know only Statuspage's fields (the Manage
    API): `body` describes the work and stands for the justification when none is given,
    and, when the request gives neither a justification nor an urgency, also for the reason
    work inside 05:00-23:00 cannot wait. A client that sends either is held to the rules of
    `create_unscheduled` as they are."""
    if (
        justification is None
        and urgency is None
        and body
        and touches_business_hours(starts_at, ends_at, zone(tz_name))
    ):
        urgency = body
    return create_unscheduled(
        session,
        actor,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        platforms=platforms,
        description=body,
        justification=justification or body,
        urgency=urgency or "",
        impact=impact,
        tz_name=tz_name,
        now=now,
    )
