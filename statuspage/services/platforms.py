"""Platform (component) status: derived from what holds each platform, or set by staff.

Master cases are CSS's: while an open master case (P1G) holds a platform, only CSS staff
(`css`, `admin`) may change that platform's status, whatever the path (the component PATCH,
an incident opened, updated, resolved or deleted by an engineer). A change that leaves the
platform's status as it is stays open to engineers.

Every change of a platform's status, whatever made it (the component PATCH, an incident's
platform statuses, a window starting or completing), queues one `component_update` notice in
the same transaction: Statuspage's webhook event, sent to the platform's webhook subscribers
through the outbox (`jobs.webhooks`). Its key names the platform, the moment and the two
statuses, so one change is never queued twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage import channels
from statuspage.contract import payloads
from statuspage.i18n import N_
from statuspage.models import (
    Incident,
    IncidentPlatform,
    MaintenanceWindow,
    Platform,
    Subscriber,
    Subscription,
    User,
)
from statuspage.models.maintenance import window_platform
from statuspage.models.vocab import (
    ACTIVE_WINDOW_STATUSES,
    OPEN_INCIDENT_STATUSES,
    PLATFORM_STATUS_SEVERITY,
)
from statuspage.services import audit, notices, roles, text
from statuspage.services.errors import Errors, Message, NotFound, PermissionDenied, ValidationError

COMPONENT_UPDATE_KIND = payloads.COMPONENT_UPDATE_KIND
# A component_update notice goes to the platform's subscribers whose channel takes it
# (webhooks; notices.audience).
COMPONENT_AUDIENCE = notices.COMPONENT_AUDIENCE


def component_changed(
    session: Session, platform_id: int, old: str, new: str, now: datetime
) -> None:
    """Queue the `component_update` notice of one status change (Statuspage's webhook
    event: created_at, new_status, old_status, component_id; its id is the notice's).

    Only when the platform has a confirmed subscriber of a channel that takes it (a
    webhook): the notice goes to those
    subscribed when it was made, so without one it would reach nobody (and a platform's
    status changes with every incident)."""
    if old == new:
        return
    listening = session.scalar(
        select(Subscription.id)
        .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
        .where(
            Subscription.platform_id == platform_id,
            Subscription.confirmed_at.is_not(None),
            Subscriber.mode.in_(channels.taking(COMPONENT_UPDATE_KIND)),
            Subscriber.confirmed_at.is_not(None),
        )
        .limit(1)
    )
    if listening is None:
        return
    at = now.astimezone(UTC)
    platform = session.get(Platform, platform_id)
    notices.enqueue(
        session,
        key=f"component-update:{platform_id}:{at.strftime('%Y%m%dT%H%M%S.%fZ')}:{old}:{new}",
        kind=COMPONENT_UPDATE_KIND,
        audience=COMPONENT_AUDIENCE,
        payload={
            "kind": COMPONENT_UPDATE_KIND,
            "component_update": {
                "created_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "new_status": new,
                "old_status": old,
                "component_id": str(platform_id),
            },
            # For the staff's notice list; the webhook's envelope is built from the ids.
            "platform_name": platform.name if platform is not None else "",
        },
        due_at=now,
        now=now,
        platform_ids=[platform_id],
    )


def snapshot(platform: Platform) -> dict[str, Any]:
    return {
        "slug": platform.slug,
        "name": platform.name,
        "description": platform.description,
        "position": platform.position,
        "status": platform.status,
    }


def held_statuses(
    session: Session, platform_ids: Iterable[int], *, exclude_incident_id: int | None = None
) -> dict[int, list[str]]:
    """The statuses open incidents and running maintenance with impact put each platform in
    (leaving out one incident's holds, to work out what a change to it would do)."""
    ids = list(platform_ids)
    holds: dict[int, list[str]] = {pid: [] for pid in ids}
    if not ids:
        return holds
    query = (
        select(IncidentPlatform.platform_id, IncidentPlatform.status)
        .join(Incident, Incident.id == IncidentPlatform.incident_id)
        .where(
            IncidentPlatform.platform_id.in_(ids),
            Incident.status.in_(OPEN_INCIDENT_STATUSES),
        )
    )
    if exclude_incident_id is not None:
        query = query.where(Incident.id != exclude_incident_id)
    rows = session.execute(query)
    for platform_id, status in rows:
        holds[platform_id].append(status)
    running = session.scalars(
        select(window_platform.c.platform_id)
        .join(MaintenanceWindow, MaintenanceWindow.id == window_platform.c.window_id)
        .where(
            window_platform.c.platform_id.in_(ids),
            MaintenanceWindow.status.in_(ACTIVE_WINDOW_STATUSES),
            MaintenanceWindow.impact == "maintenance",
        )
    )
    for platform_id in running:
        holds[platform_id].append("under_maintenance")
    return holds


def worst(statuses: Iterable[str]) -> str:
    """The status a platform held in `statuses` shows: the worst of them, else operational."""
    return max(statuses, key=PLATFORM_STATUS_SEVERITY.__getitem__, default="operational")


def master_case_holds(
    session: Session, platform_ids: Iterable[int], *, exclude_incident_id: int | None = None
) -> dict[int, int]:
    """{platform id: id of an open master case holding it} for the given platforms."""
    ids = list(platform_ids)
    if not ids:
        return {}
    query = (
        select(IncidentPlatform.platform_id, Incident.id)
        .join(Incident, Incident.id == IncidentPlatform.incident_id)
        .where(
            IncidentPlatform.platform_id.in_(ids),
            Incident.priority == "P1G",
            Incident.status.in_(OPEN_INCIDENT_STATUSES),
        )
        .order_by(Incident.id)
    )
    if exclude_incident_id is not None:
        query = query.where(Incident.id != exclude_incident_id)
    return {platform_id: case_id for platform_id, case_id in session.execute(query)}


def _refuse_master_case_platform(platform: Platform, case_id: int) -> PermissionDenied:
    return roles.refusal("platform.held_status", platform=platform.name, case=case_id)


def check_incident_change(
    session: Session,
    actor: User | None,
    *,
    incident_id: int | None,
    after: dict[int, str],
    touched: Iterable[int],
) -> None:
    """Refuse a non-CSS actor whose change to one incident would move a platform an open
    master case holds. `after` is {platform id: status} the incident will hold once changed
    (empty when it closes or goes), `touched` every platform it holds before or after.

    Checked before anything is written, with the rule `refresh_statuses` applies.
    """
    if roles.may(actor, "platform.held_status"):
        return
    held = master_case_holds(session, touched, exclude_incident_id=incident_id)
    if not held:
        return
    holds = held_statuses(session, held, exclude_incident_id=incident_id)
    for platform in session.scalars(select(Platform).where(Platform.id.in_(list(held)))):
        mine = [after[platform.id]] if platform.id in after else []
        if worst([*holds[platform.id], *mine]) != platform.status:
            raise _refuse_master_case_platform(platform, held[platform.id])


def refresh_statuses(
    session: Session, platform_ids: Iterable[int], now: datetime
) -> dict[int, tuple[str, str]]:
    """Set each platform to the worst status anything holds it in, or `operational`.

    Returns {platform_id: (old, new)} for the platforms whose status changed.
    """
    session.flush()
    ids = sorted(set(platform_ids))
    holds = held_statuses(session, ids)
    changes: dict[int, tuple[str, str]] = {}
    for platform in session.scalars(select(Platform).where(Platform.id.in_(ids))):
        new = worst(holds.get(platform.id) or [])
        if new != platform.status:
            changes[platform.id] = (platform.status, new)
            platform.status = new
            platform.updated_at = now
    session.flush()
    for platform_id, (old, new) in changes.items():
        component_changed(session, platform_id, old, new, now)
    return changes


def set_status(
    session: Session, actor: User, platform: Platform, status: str, now: datetime
) -> Platform:
    """Set a platform's status by hand (Statuspage's component PATCH).

    While an open master case holds the platform, only CSS staff may change its status.
    """
    if status not in PLATFORM_STATUS_SEVERITY:
        raise ValidationError(
            {
                "status": Message(
                    N_("must be one of %(choices)s"), choices=", ".join(PLATFORM_STATUS_SEVERITY)
                )
            }
        )
    if status != platform.status and not roles.may(actor, "platform.held_status"):
        held = master_case_holds(session, [platform.id])
        if held:
            raise _refuse_master_case_platform(platform, held[platform.id])
    before = snapshot(platform)
    if platform.status != status:
        old = platform.status
        platform.status = status
        platform.updated_at = now
        session.flush()
        component_changed(session, platform.id, old, status, now)
    audit.record(
        session,
        actor,
        "platform.status",
        platform,
        before=before,
        after=snapshot(platform),
        now=now,
    )
    return platform


def update_platform(
    session: Session,
    actor: User,
    platform: Platform,
    *,
    name: str | None = None,
    description: str | None = None,
    position: int | None = None,
    now: datetime,
) -> Platform:
    """Edit a platform's name, description or display position (admins)."""
    roles.require(actor, "platform.edit")
    errors = Errors()
    if name is not None and not (1 <= len(name.strip()) <= 120):
        errors.add("name", N_("must be 1 to 120 characters"))
    if description is not None and len(description) > 2000:
        errors.add("description", N_("must be at most 2000 characters"))
    text.check(errors, "name", name)
    description = text.check(errors, "description", description, multiline=True)
    if position is not None and not (0 <= position <= 10_000):
        errors.add("position", N_("must be between 0 and 10000"))
    errors.raise_if_any()
    before = snapshot(platform)
    if name is not None:
        platform.name = name.strip()
    if description is not None:
        platform.description = description
    if position is not None:
        platform.position = position
    platform.updated_at = now
    audit.record(
        session,
        actor,
        "platform.update",
        platform,
        before=before,
        after=snapshot(platform),
        now=now,
    )
    return platform


def get_by_slug(session: Session, slug: str) -> Platform:
    # A slug holds no control character, and PostgreSQL refuses NUL in a parameter.
    clean = text.is_clean(slug)
    platform = session.scalar(select(Platform).where(Platform.slug == slug)) if clean else None
    if platform is None:
        raise NotFound(slug)
    return platform
