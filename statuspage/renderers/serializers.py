"""Statuspage-shaped JSON: the same object shapes and field names, ids as strings.

Each function builds one of the shapes declared in `statuspage.contract.responses` (the
type checker, `make lint`, holds it to every key and type); the OpenAPI document is generated
from the same declarations. A vocabulary column (a status, an impact, a mode) holds only its
vocabulary's words, which the services check: `cast` names its word as the shape's literal.
This product's extras (priority, master case, case numbers, next update, justification) are
extra fields; nothing Statuspage names is renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast, overload

from statuspage import channels
from statuspage.contract import responses as shapes
from statuspage.models import (
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Platform,
    Subscriber,
)


@overload
def ts(value: datetime) -> str: ...
@overload
def ts(value: datetime | None) -> str | None: ...
def ts(value: datetime | None) -> str | None:
    """Statuspage writes times as ISO 8601 with milliseconds and an offset."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page(config: Mapping[str, Any], updated_at: datetime | None) -> shapes.Page:
    return {
        "id": config["STATUSPAGE_PAGE_ID"],
        "name": config["STATUSPAGE_NAME"],
        "url": config["STATUSPAGE_URL"].rstrip("/"),
        "time_zone": config["STATUSPAGE_TIMEZONE"],
        "updated_at": ts(updated_at),
    }


def component(platform: Platform, page_id: str) -> shapes.Component:
    return {
        "id": str(platform.id),
        "name": platform.name,
        "status": cast(shapes.PlatformStatus, platform.status),
        "created_at": ts(platform.created_at),
        "updated_at": ts(platform.updated_at),
        "position": platform.position,
        "description": platform.description or None,
        "showcase": platform.showcase,
        "start_date": platform.created_at.date().isoformat(),
        "group_id": None,
        "page_id": page_id,
        "group": False,
        "only_show_if_degraded": platform.only_show_if_degraded,
        # extras
        "slug": platform.slug,
    }


def incident_update(update: IncidentUpdate) -> shapes.IncidentUpdate:
    return {
        "id": str(update.id),
        "status": update.status,
        "body": update.body,
        "incident_id": str(update.incident_id),
        "created_at": ts(update.created_at),
        "updated_at": ts(update.updated_at),
        "display_at": ts(update.display_at),
        "affected_components": [
            {
                "code": str(change.platform_id),
                "name": change.platform.name,
                "old_status": cast(shapes.PlatformStatus, change.old_status),
                "new_status": cast(shapes.PlatformStatus, change.new_status),
            }
            for change in update.platform_changes
        ],
        "deliver_notifications": update.deliver_notifications,
        # extras
        "etr": ts(update.etr),
        "edited_at": ts(update.edited_at),
        "metadata": {
            "network_status": {
                "body_translations": _versions(update.body_translations),
                "edited_at": ts(update.edited_at),
            }
        },
    }


def _versions(found: Mapping[str, str] | None) -> dict[shapes.Language, str]:
    """Staff's versions of a text in the other languages, those with text only."""
    return {
        cast(shapes.Language, language): text
        for language, text in (found or {}).items()
        if language in ("es", "de") and text
    }


def incident(
    item: Incident, page_id: str, base_url: str, *, staff: bool = False
) -> shapes.Incident:
    """An incident; customers' own case numbers only for staff (`staff=True`, Manage API):
    they are theirs, never the public's. The master case's support case number is public."""
    due = item.next_update_due
    shown: shapes.Incident = {
        "id": str(item.id),
        "name": item.title,
        "status": cast(shapes.IncidentStatus, item.status),
        "impact": cast(shapes.Impact, item.impact),
        "created_at": ts(item.created_at),
        "updated_at": ts(item.updated_at),
        "started_at": ts(item.started_at),
        "monitoring_at": ts(item.monitoring_at),
        "resolved_at": ts(item.resolved_at),
        "shortlink": f"{base_url.rstrip('/')}/incidents/{item.id}",
        "page_id": page_id,
        "components": [component(ip.platform, page_id) for ip in item.platforms],
        "incident_updates": [incident_update(u) for u in item.updates],
        # extras
        "priority": cast(shapes.PriorityCode, item.priority),
        "master_case": item.is_master_case,
        "case_number": item.case_number,
        "next_update_due_at": ts(due),
        "metadata": {"network_status": {"name_translations": _versions(item.title_translations)}},
    }
    if staff:
        shown["customer_case_numbers"] = list(item.customer_case_numbers or [])
    return shown


def _window_status(window: MaintenanceWindow) -> shapes.MaintenanceStatus:
    return (
        "completed"
        if window.status == "cancelled"
        else cast(shapes.MaintenanceStatus, window.status)
    )


def scheduled_maintenance(
    window: MaintenanceWindow, page_id: str, base_url: str
) -> shapes.ScheduledMaintenance:
    """A window in the shape of Statuspage's scheduled maintenance (an incident with
    scheduled_for/scheduled_until); its one update says what the work is and why."""
    status = _window_status(window)
    body = window.description
    if window.justification:
        body += f"\n\nJustification: {window.justification}"
    if window.note:
        body += f"\n\n{window.note}"
    update: shapes.IncidentUpdate = {
        "id": f"{window.id}-{window.sequence}",
        "status": status,
        "body": body,
        "incident_id": f"w{window.id}",
        "created_at": ts(window.updated_at),
        "updated_at": ts(window.updated_at),
        "display_at": ts(window.updated_at),
        "affected_components": [
            {
                "code": str(p.id),
                "name": p.name,
                "old_status": "operational",
                "new_status": "under_maintenance" if window.has_impact else "operational",
            }
            for p in window.platforms
        ],
        "deliver_notifications": bool(window.notices) or window.unscheduled,
    }
    return {
        "id": f"w{window.id}",
        "name": window.title,
        "status": status,
        "impact": "maintenance" if window.has_impact else "none",
        "created_at": ts(window.created_at),
        "updated_at": ts(window.updated_at),
        "started_at": ts(window.started_at or window.starts_at),
        "monitoring_at": None,
        "resolved_at": ts(window.completed_at),
        "shortlink": f"{base_url.rstrip('/')}/maintenance/{window.id}",
        "scheduled_for": ts(window.starts_at),
        "scheduled_until": ts(window.ends_at),
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
        "page_id": page_id,
        "components": [component(p, page_id) for p in window.platforms],
        "incident_updates": [update],
        # extras
        "justification": window.justification,
        "unscheduled": window.unscheduled,
        "cancelled": window.status == "cancelled",
        "release_notes": window.release_notes or None,
    }


def status(indicator: str, description: str) -> shapes.Status:
    return {"indicator": cast(shapes.Indicator, indicator), "description": description}


def subscriber(item: Subscriber) -> shapes.Subscriber:
    """Statuspage's subscriber of any channel (`mode`): its address in the fields its channel
    names (`Channel.api_view`: `email`, a channel's `endpoint`, an SMS subscriber's
    `phone_number`...), the others null; `quarantined_at` is when one was paused after
    repeated failure (`quarantine_reason`, an extra, says why); nothing is purged, so
    `purge_at` is null. `skip_confirmation_notification` says whether the address was
    confirmed without its own opt-in (added by staff with the flag, or imported).

    A secret address is masked as the staff page masks it (`Channel.masked`): an incoming
    webhook's URL lets whoever holds it post to the channel, so no token reads it back, not
    even in the answer that created it."""
    view = channels.get(item.mode).api_view(item.address)
    return {
        "id": str(item.id),
        "mode": item.mode,
        "email": view.get("email"),
        "endpoint": view.get("endpoint"),
        "phone_number": view.get("phone_number"),
        "phone_country": view.get("phone_country"),
        "display_phone_number": view.get("display_phone_number"),
        "obfuscated_channel_name": None,
        "workspace_name": None,
        "skip_confirmation_notification": item.source in ("api", "import"),
        "quarantined_at": ts(item.quarantined_at),
        "purge_at": None,
        "components": [str(s.platform_id) for s in item.subscriptions if s.platform_id],
        "page_access_user_id": None,
        "created_at": ts(item.created_at),
        "state": cast(shapes.SubscriberState, item.state),
        "incident_ids": [str(s.incident_id) for s in item.subscriptions if s.incident_id],
        # extras
        "quarantine_reason": item.quarantine_reason,
    }
