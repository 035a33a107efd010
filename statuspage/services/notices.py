"""The notice outbox: what to tell subscribers, created once, at the right moment.

Rules enforced here:
- a notice is created in the same transaction as the change that causes it, or by the job
  that finds its moment due; its `key` makes a second creation impossible;
- "one week before" is the same clock time in the provider's zone seven calendar days
  earlier; "24 hours before" one calendar day earlier; start and completion at the window's
  actual start and end;
- a notice announcing a window is never sent once the window has started; other notices
  whose moment passed while the service was down go out late, marked late;
- one message per change: a move, extension, narrowing or cancellation of a window tells
  each subscriber who was told of it (a queued, in-flight or sent delivery of one of its
  notices) exactly once, and withdraws the announcements that are no longer true;
- those told are never announced to again: the window's announcement (its first notice in
  policy order) goes only to subscribers not yet told; a 24-hour reminder that follows it
  reaches each subscriber once; after a move, an announcement whose new moment had already
  passed at the move is skipped rather than sent late;
- short notice: a window moved so near that every announcement of its policy has passed,
  and none lies ahead, is announced at once ("maintenance at short notice") to those not
  yet told, as the support plan has unscheduled maintenance announced: as soon as possible,
  with as much notice as possible;
- a start notice is never sent for a window that has already ended: the completion notice,
  which says when it started and ended, is sent instead; nor an announcement once its window
  has started. Both are checked again when a notice is fanned out (`overtaken`), whichever
  job made it and however long it waited;
- subscribers of platforms removed from a window they were told of are told it no longer
  affects them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from calendars.recurrence import to_local
from statuspage import channels, logs
from statuspage.contract import payloads
from statuspage.i18n import N_
from statuspage.models import (
    Delivery,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Notice,
    Platform,
    Subscriber,
    Subscription,
    User,
)
from statuspage.models.vocab import P1G_ROLES
from statuspage.services import audit
from statuspage.services.errors import Message, NotFound, PermissionDenied

# A notice this much past its moment is marked late.
LATE_AFTER = timedelta(minutes=15)
# How far back the queue job looks for start and completion moments missed while down.
CATCH_UP = timedelta(days=7)
ANNOUNCEMENTS = {"week_before": timedelta(days=7), "day_before": timedelta(days=1)}
# A delivery in one of these states has told (or is telling) its recipient.
TOLD_DELIVERIES = ("queued", "sending", "sent")
# Audiences of maintenance notices besides "maintenance" (every maintenance subscriber of the
# notice's platforms): "untold", those of them not yet told anything of the window (its
# announcement); "reminder", those not yet sent this kind for the window; "told", those told
# of the window who still take maintenance notices of the notice's platforms (and, with
# `except_platform_ids` in the payload, of none of those).
WINDOW_AUDIENCES = ("untold", "reminder", "told")
# A platform's status change (Statuspage's `component_update` webhook event) goes to the
# platform's subscribers whose channel takes it (webhooks).
COMPONENT_AUDIENCE = "components"
# Notices that announce a window ahead of time: never sent once it has started.
AHEAD_KINDS = (
    "maintenance_week_before",
    "maintenance_day_before",
    "maintenance_short_notice",
)


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    audience: str,
    payload: payloads.NoticePayload,
    due_at: datetime,
    now: datetime,
    platform_ids: Iterable[int] = (),
    incident_id: int | None = None,
    window_id: int | None = None,
    direct_address: str | None = None,
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
        direct_address=direct_address,
        direct_subscriber_id=direct_subscriber_id,
        payload=dict(payload),
        status=status,
        due_at=due_at,
        late=now - due_at > LATE_AFTER,
        created_at=now,
        request_id=logs.request_id(),  # the request or job run causing it, if any
    )
    try:
        with session.begin_nested():
            session.add(notice)
    except IntegrityError:  # a concurrent transaction created it first
        found = session.scalar(select(Notice).where(Notice.key == key))
        assert found is not None
        return found
    rehearsed = session.info.get(REHEARSAL)
    if rehearsed is not None:
        rehearsed.append(notice)
    return notice


# --- rehearsals: what a change would send, before it is made --------------------------

# session.info: the notices queued while a change is rehearsed (`rehearse`).
REHEARSAL = "statuspage.rehearsal"
# Notices a rehearsal counts: those to subscribers of platforms, incidents and windows, and
# the platforms' status changes to their webhooks (direct mail is nobody's subscription).
COUNTED_AUDIENCES = ("incidents", "maintenance", *WINDOW_AUDIENCES, COMPONENT_AUDIENCE)


@dataclass(frozen=True)
class Planned:
    """A notice a change would send: its kind, its payload (what the mail says) and how
    many recipients it would reach per channel (the subscriber's mode)."""

    kind: str
    payload: payloads.NoticePayload
    recipients: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.recipients.values())


# Counts an audience (the select `audience` gives) per channel: a read the caller brings.
RecipientCounter = Callable[[Session, Select[tuple[Any, ...]]], dict[str, int]]


def rehearse(
    session: Session, change: Callable[[], object], count: RecipientCounter
) -> list[Planned]:
    """What `change` would send to subscribers, without making it.

    The change runs as it would (every rule checked: a ValidationError or PermissionDenied
    comes out as from the change itself) inside a savepoint; each notice it queues for
    subscribers is counted with `count` while the change is in place (so the audience is
    exactly the one fan-out would read, "told" and "untold" included), then everything is
    rolled back. Notices recorded as skipped and direct mail are left out.
    """
    made: list[Notice] = []
    savepoint = session.begin_nested()
    session.info[REHEARSAL] = made
    try:
        change()
        session.flush()
        sent = [n for n in made if n.status == "pending" and n.audience in COUNTED_AUDIENCES]
        # Subscribers' notices first, then the platforms' status changes to webhooks.
        sent.sort(key=lambda n: n.audience == COMPONENT_AUDIENCE)
        return [
            Planned(
                n.kind,
                payloads.payload_of(copy.deepcopy(n.payload)),
                count(session, audience(n)),
            )
            for n in sent
        ]
    finally:
        session.info.pop(REHEARSAL, None)
        savepoint.rollback()


def _told(notice: Notice, *, same_kind: bool = False) -> Select[tuple[int | None]]:
    """Subscribers with a delivery of another notice of this notice's window that told them."""
    query = (
        select(Delivery.subscriber_id)
        .join(Notice, Notice.id == Delivery.notice_id)
        .where(
            Notice.window_id == notice.window_id,
            Notice.id != notice.id,
            Delivery.status.in_(TOLD_DELIVERIES),
            Delivery.subscriber_id.is_not(None),
        )
    )
    if same_kind:
        query = query.where(Notice.kind == notice.kind)
    return query


def _recipients() -> tuple[Any, ...]:
    """What a delivery is queued with, per recipient: (subscriber id, address, language,
    zone, channel)."""
    return (
        Subscriber.id,
        Subscriber.address,
        Subscriber.language,
        Subscriber.timezone,
        Subscriber.mode,
    )


def _reachable(notice: Notice) -> Any:
    """Subscribers who may be sent the notice now: confirmed, not paused (quarantined after
    repeated failure, or stopped at their provider), of a channel that takes its kind."""
    return and_(
        Subscriber.confirmed_at.is_not(None),
        Subscriber.quarantined_at.is_(None),
        Subscriber.stopped_at.is_(None),
        Subscriber.mode.in_(channels.taking(notice.kind)),
    )


def audience(notice: Notice) -> Select[tuple[Any, ...]]:
    """(subscriber id, address, language, zone, channel) of everyone a subscription notice
    goes to: the subscribers of channels that take its kind (`Channel.takes`).

    Read when the notice is fanned out: only those subscribed when it was created, and for a
    window's notices only those its audience names (see `WINDOW_AUDIENCES`).
    """
    if notice.audience == COMPONENT_AUDIENCE:
        return _component_audience(notice)
    topic = Subscription.incidents if notice.audience == "incidents" else Subscription.maintenance
    interest = and_(Subscription.platform_id.in_(notice.platform_ids or [-1]), topic.is_(True))
    if notice.audience == "incidents" and notice.incident_id is not None:
        interest = or_(interest, Subscription.incident_id == notice.incident_id)
    query = (
        select(*_recipients())
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            _reachable(notice),
            # Only those who were subscribed when it happened: a notice that waited (the
            # service was down) does not go to people who subscribed since.
            Subscription.confirmed_at <= notice.created_at,
            interest,
        )
        .distinct()
    )
    if notice.window_id is None or notice.audience not in WINDOW_AUDIENCES:
        return query
    if notice.audience == "untold":
        return query.where(Subscriber.id.not_in(_told(notice)))
    if notice.audience == "reminder":
        return query.where(Subscriber.id.not_in(_told(notice, same_kind=True)))
    # Told before this change: whoever hears of the window only from a notice made after
    # this one (a short-notice announcement of the same move) already has the news.
    query = query.where(Subscriber.id.in_(_told(notice).where(Notice.id < notice.id)))
    elsewhere = notice.payload.get("except_platform_ids") or []
    if elsewhere:
        still_affected = select(Subscription.subscriber_id).where(
            Subscription.platform_id.in_(elsewhere), Subscription.maintenance.is_(True)
        )
        query = query.where(Subscriber.id.not_in(still_affected))
    return query


def _component_audience(notice: Notice) -> Select[tuple[Any, ...]]:
    """A platform's status change: confirmed, unpaused subscribers of the platform whose
    channel takes it (webhooks), subscribed when it changed."""
    return (
        select(*_recipients())
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(
            _reachable(notice),
            Subscription.confirmed_at <= notice.created_at,
            Subscription.platform_id.in_(notice.platform_ids or [-1]),
        )
        .distinct()
    )


# --- incidents ----------------------------------------------------------------------


def incident_fields(incident: Incident, *, url: str | None = None) -> payloads.IncidentFields:
    """The incident as every notice about it shows it; `url` its page (the public one by
    default)."""
    return {
        "id": incident.id,
        "title": incident.title,
        "title_translations": dict(incident.title_translations or {}),
        "priority": incident.priority,
        "is_master_case": incident.is_master_case,
        "case_number": incident.case_number,
        "impact": incident.impact,
        "status": incident.status,
        "url": url or f"/incidents/{incident.id}",
    }


def incident_payload(
    incident: Incident,
    update: IncidentUpdate,
    kind: payloads.IncidentKind,
    *,
    correction: bool = False,
) -> payloads.IncidentPayload:
    """What a notice about a timeline entry says. Staff-written text comes with its versions
    in the other languages (`title_translations`, `body_translations`: {"es": ..., "de": ...}),
    of which each renderer picks the reader's (`statuspage.i18n.version_of`)."""
    return {
        "kind": kind,
        "correction": correction,
        "incident": incident_fields(incident),
        "update": {
            "id": update.id,
            "status": update.status,
            "body": update.body,
            "body_translations": dict(update.body_translations or {}),
            "at": update.display_at.isoformat(),
            "etr": update.etr.isoformat() if update.etr else None,
            "edited_at": update.edited_at.isoformat() if update.edited_at else None,
        },
        "platforms": [ip.platform.name for ip in incident.platforms],
    }


def incident_notice(
    session: Session, incident: Incident, update: IncidentUpdate, *, first: bool, now: datetime
) -> Notice:
    """Tell the incident's and its platforms' subscribers about a timeline entry."""
    kind = _incident_kind(update, first=first)
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


def _incident_kind(update: IncidentUpdate, *, first: bool) -> payloads.IncidentKind:
    if first:
        return "incident_created"
    if update.status in ("resolved", "postmortem"):
        return "incident_resolved"
    return "incident_updated"


def correction_notice(
    session: Session, incident: Incident, update: IncidentUpdate, *, now: datetime
) -> Notice:
    """Tell the incident's subscribers an entry's text was corrected: the entry's own kind,
    marked as a correction, once per correction (keyed by the entry and the moment)."""
    first = min(incident.updates, key=lambda u: (u.display_at, u.id or 0)) is update
    kind = _incident_kind(update, first=first)
    return enqueue(
        session,
        key=f"incident-update:{update.id}:correction:{now.isoformat()}",
        kind=kind,
        audience="incidents",
        payload=incident_payload(incident, update, kind, correction=True),
        due_at=now,
        now=now,
        platform_ids=[ip.platform_id for ip in incident.platforms],
        incident_id=incident.id,
    )


# --- maintenance --------------------------------------------------------------------

# Notices sent because staff changed a window subscribers were told of.
CHANGE_KINDS = ("rescheduled", "narrowed", "no_longer_affected", "cancelled")


def window_payload(
    window: MaintenanceWindow,
    kind: payloads.WindowKind,
    *,
    previous: tuple[datetime, datetime] | None = None,
    removed: Sequence[str] = (),
    now: datetime | None = None,
) -> payloads.WindowPayload:
    series = window.series
    data: payloads.WindowFields = {
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
    if removed:
        data["removed_platforms"] = list(removed)
    payload: payloads.WindowPayload = {
        "kind": kind,
        "window": data,
        # What the email's calendar attachment needs to be the published calendar's entry.
        "calendar": {
            "series_key": series.key if series is not None else None,
            "recurrence_id": window.recurrence_id.isoformat() if window.recurrence_id else None,
            "timezone": series.timezone if series is not None else None,
            "sequence": window.calendar_sequence,
            "cancelled": kind in ("maintenance_cancelled", "maintenance_no_longer_affected"),
        },
    }
    if now is not None:
        payload["issued_at"] = now.isoformat()
    return payload


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
    audience: str = "maintenance",
    platform_ids: Iterable[int] | None = None,
    removed: Sequence[str] = (),
    except_platform_ids: Iterable[int] = (),
) -> Notice:
    kind = cast(payloads.WindowKind, f"maintenance_{moment}")
    payload = window_payload(window, kind, previous=previous, removed=removed, now=now)
    if except_platform_ids:
        payload["except_platform_ids"] = sorted(set(except_platform_ids))
    return enqueue(
        session,
        key=key,
        kind=kind,
        audience=audience,
        payload=payload,
        due_at=due_at,
        now=now,
        platform_ids=[p.id for p in window.platforms] if platform_ids is None else platform_ids,
        window_id=window.id,
        status=status,
    )


def announcement_due(window: MaintenanceWindow, moment: str, tz: ZoneInfo) -> datetime:
    """The moment of an announcement: same local clock time, N calendar days earlier."""
    local = window.starts_at.astimezone(tz).replace(tzinfo=None)
    return to_local(local - ANNOUNCEMENTS[moment], tz)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _announcement_key(window: MaintenanceWindow, moment: str) -> str:
    return f"window:{window.id}:{moment}:{_stamp(window.starts_at)}"


def _announcement_audience(window: MaintenanceWindow, moment: str) -> str:
    """The first announcement in the window's policy tells; a later one only reminds."""
    first = next(m for m in ANNOUNCEMENTS if m in (window.notices or []))
    return "untold" if moment == first else "reminder"


def _ended(window: MaintenanceWindow, now: datetime) -> bool:
    return window.status in ("completed", "cancelled") or window.ends_at <= now


def _started(window: MaintenanceWindow, now: datetime) -> bool:
    return now >= window.starts_at or window.status != "scheduled"


def overtaken(session: Session, notice: Notice, now: datetime) -> bool:
    """Whether a due notice is no longer true as it is fanned out: an announcement of a
    window that has started, or a start notice of a window that has ended.

    The notices job records such a notice as skipped when it makes it; this check is for
    one made earlier and fanned out later (the service was down between the two, or the
    delivery run came before the notices job), so the rule holds whoever runs first.
    """
    if notice.window_id is None or (
        notice.kind not in AHEAD_KINDS and notice.kind != "maintenance_start"
    ):
        return False
    window = session.get(MaintenanceWindow, notice.window_id)
    if window is None:
        return False
    if notice.kind == "maintenance_start":
        return _ended(window, now)
    return _started(window, now)


def queue_due_window_notices(session: Session, now: datetime, tz_name: str) -> list[Notice]:
    """Create the maintenance notices whose moment has come, per each window's policy.

    Idempotent: a moment's notice is keyed by window, moment and (for announcements) the
    start it announces. An announcement that comes due after its window started is recorded
    as skipped, never sent; so is a start notice whose window has already ended.
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
        made += _queue_window(session, window, now, tz)
    session.flush()
    return made


def queue_window_notices(
    session: Session, window: MaintenanceWindow, now: datetime, tz_name: str
) -> list[Notice]:
    """`queue_due_window_notices` for one window: the notices its moment brings now (what
    the notices job would make on its next pass, e.g. the start notice of a window staff
    just started)."""
    made = (
        []
        if window.status == "cancelled"
        else _queue_window(session, window, now, ZoneInfo(tz_name))
    )
    session.flush()
    return made


def _queue_window(
    session: Session, window: MaintenanceWindow, now: datetime, tz: ZoneInfo
) -> list[Notice]:
    made: list[Notice] = []
    policy = set(window.notices or [])
    for moment in ANNOUNCEMENTS:
        if moment not in policy:
            continue
        due = announcement_due(window, moment, tz)
        if due > now:
            continue
        started = _started(window, now)
        made.append(
            _window_notice(
                session,
                window,
                moment,
                _announcement_key(window, moment),
                due,
                now,
                status="skipped" if started else "pending",
                audience=_announcement_audience(window, moment),
            )
        )
    if "start" in policy and window.started_at is not None:
        start = _window_notice(
            session,
            window,
            "start",
            f"window:{window.id}:start",
            window.started_at,
            now,
            status="skipped" if _ended(window, now) else "pending",
        )
        if start.status == "pending" and _ended(window, now):
            start.status = "skipped"  # made before a downtime, not yet fanned out
        made.append(start)
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
    return made


def subscribers_were_told(session: Session, window: MaintenanceWindow) -> bool:
    """Whether a notice about this window has reached (or is on its way to) a subscriber."""
    return (
        session.scalar(
            select(Delivery.id)
            .join(Notice, Notice.id == Delivery.notice_id)
            .where(
                Notice.window_id == window.id,
                Delivery.status.in_(TOLD_DELIVERIES),
                Delivery.subscriber_id.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def cancel_pending(
    session: Session, window: MaintenanceWindow, moments: Iterable[str], now: datetime
) -> int:
    """Cancel this window's notices of `moments` that have not gone out; return how many.

    A notice partly sent keeps the deliveries that went: those recipients were told.
    """
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
            .where(Delivery.notice_id == notice.id, Delivery.status.in_(("queued", "held")))
            .values(status="cancelled")
        )
    session.flush()
    return len(notices)


def _skip_passed_announcements(session: Session, window: MaintenanceWindow, now: datetime) -> None:
    """After a move, an announcement of the new start whose moment already passed is not
    sent late: it would announce "in one week" what is nearer. Recorded as skipped."""
    if window.series is None:
        return
    tz = ZoneInfo(window.series.timezone)
    for moment in ANNOUNCEMENTS:
        if moment in (window.notices or []) and announcement_due(window, moment, tz) <= now:
            _window_notice(
                session,
                window,
                moment,
                _announcement_key(window, moment),
                announcement_due(window, moment, tz),
                now,
                status="skipped",
                audience=_announcement_audience(window, moment),
            )


def _announce_at_short_notice(
    session: Session, window: MaintenanceWindow, now: datetime
) -> Notice | None:
    """After a move, a window whose policy announces it but whose every announcement's
    moment has now passed is announced at once to those not yet told, rather than not at
    all: the support plan promises advance notice of maintenance, and for work that cannot
    keep its usual notice it says "as soon as possible, with as much advance notice as
    possible". A 24-hour reminder still ahead announces it instead, at its moment."""
    policy = [m for m in ANNOUNCEMENTS if m in (window.notices or [])]
    if not policy or window.series is None or _started(window, now):
        return None
    tz = ZoneInfo(window.series.timezone)
    if any(announcement_due(window, m, tz) > now for m in policy):
        return None
    return _window_notice(
        session,
        window,
        "short_notice",
        f"window:{window.id}:short_notice:{_stamp(window.starts_at)}",
        now,
        now,
        audience="untold",
    )


def window_changed(
    session: Session,
    window: MaintenanceWindow,
    previous: tuple[datetime, datetime],
    previous_platform_ids: Iterable[int],
    now: datetime,
) -> list[Notice]:
    """A window moved, its end changed or it lost platforms: withdraw the announcements that
    are no longer true and tell each subscriber who was told of it, once.

    Those still affected get "rescheduled" (times changed) or "narrowed" (platforms only);
    those whose every platform was removed get "no longer affects you"; a move that leaves
    no announcement ahead announces the window at once to the rest (short notice).
    """
    retimed = (window.starts_at, window.ends_at) != previous
    current = {p.id for p in window.platforms}
    removed = set(previous_platform_ids) - current
    if not retimed and not removed:
        return []
    moved = window.starts_at != previous[0]
    if moved:
        cancel_pending(session, window, [*ANNOUNCEMENTS, "short_notice"], now)
        _skip_passed_announcements(session, window, now)
    made = _tell_the_told(session, window, previous, retimed, removed, current, now)
    if moved:
        # Made after the change notices, so those fan out first (see `audience`).
        short = _announce_at_short_notice(session, window, now)
        if short is not None:
            made.append(short)
    return made


def _tell_the_told(
    session: Session,
    window: MaintenanceWindow,
    previous: tuple[datetime, datetime],
    retimed: bool,
    removed: set[int],
    current: set[int],
    now: datetime,
) -> list[Notice]:
    if not subscribers_were_told(session, window):
        return []
    made = []
    removed_names = list(
        session.scalars(
            select(Platform.name).where(Platform.id.in_(removed)).order_by(Platform.position)
        )
    )
    kind = "rescheduled" if retimed else "narrowed"
    made.append(
        _window_notice(
            session,
            window,
            kind,
            f"window:{window.id}:{kind}:{window.sequence}",
            now,
            now,
            previous=previous if retimed else None,
            audience="told",
            removed=removed_names,
        )
    )
    if removed:
        made.append(
            _window_notice(
                session,
                window,
                "no_longer_affected",
                f"window:{window.id}:no_longer_affected:{window.sequence}",
                now,
                now,
                audience="told",
                platform_ids=removed,
                removed=removed_names,
                except_platform_ids=current,
            )
        )
    return made


def window_cancelled(session: Session, window: MaintenanceWindow, now: datetime) -> Notice | None:
    """A cancelled window cancels its pending notices and tells those who were told of it,
    once, that it is off."""
    cancel_pending(
        session,
        window,
        [*ANNOUNCEMENTS, "short_notice", "start", "completion", "scheduled"],
        now,
    )
    if not subscribers_were_told(session, window):
        return None
    return _window_notice(
        session, window, "cancelled", f"window:{window.id}:cancelled", now, now, audience="told"
    )


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


# --- held deliveries ----------------------------------------------------------------


def release_held(session: Session, actor: User, notice_id: int, now: datetime) -> int:
    """Send a notice's deliveries held beyond their channel's ceiling (at most so many
    messages a notice and an hour, `Channel.ceilings`): CSS staff decide they go. Released,
    they are queued at once and not held again; how many were released. Audited."""
    if actor.role not in P1G_ROLES:
        raise PermissionDenied(
            Message(N_("only CSS staff (css or admin) may release held messages"))
        )
    notice = session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(str(notice_id))
    released = session.execute(
        update(Delivery)
        .where(Delivery.notice_id == notice.id, Delivery.status == "held")
        .values(status="queued", released_at=now, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    count = int(released.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        notice.status = "queued" if notice.status == "done" else notice.status
        audit.record(
            session,
            actor,
            "notices.release_held",
            notice,
            before=None,
            after={"released": count},
            now=now,
        )
    session.flush()
    return count
