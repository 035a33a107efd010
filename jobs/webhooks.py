"""The webhook request for one delivery: Statuspage's envelope, signed.

The body is Statuspage's webhook envelope: `meta` (`unsubscribe`: the subscriber's signed
one-click unsubscribe URL, `documentation`, `generated_at`), `page` (`id`,
`status_indicator`, `status_description`) and then what happened: `incident` in the shape
of /api/v2 (an incident, or a maintenance window as Statuspage's scheduled maintenance),
or, for a platform's status change, `component_update` (`created_at`, `new_status`,
`old_status`, `id`, `component_id`) and `component` (the platform as /api/v2's component,
as it stood after the change). A verification request carries `verification` (`token`)
instead, which the endpoint echoes.

Headers: `X-Statuspage-Timestamp` (Unix seconds) and `X-Statuspage-Signature`
(`v1=` + hex HMAC-SHA256 over `timestamp + "." + body`, keyed by the subscriber's secret),
and `X-Statuspage-Delivery` (the delivery's id: the same on a resend, so a receiver can
drop a duplicate) with `X-Statuspage-Possibly-Duplicated` when this may be a resend.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from statuspage import serializers
from statuspage.models import Incident, MaintenanceWindow, Notice, Platform
from statuspage.queries import platforms as platform_queries
from statuspage.services import subscriptions
from statuspage.services.platforms import COMPONENT_AUDIENCE, COMPONENT_UPDATE_KIND
from statuspage.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookRequest, signature

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
__all__ = ["COMPONENT_AUDIENCE", "COMPONENT_UPDATE_KIND", "envelope", "event", "request_for"]


class NotForWebhooks(ValueError):
    """A notice kind with nothing to say to a webhook."""


def event(session: Session, notice: Notice, base_url: str, page_id: str) -> dict[str, Any]:
    """What happened, as the envelope's last part."""
    if notice.kind == subscriptions.WEBHOOK_CONFIRM_KIND:
        return {"verification": {"token": notice.payload["token"]}}
    if notice.kind == COMPONENT_UPDATE_KIND:
        change = notice.payload["component_update"]
        platform = session.get(Platform, int(change["component_id"]))
        if platform is None:
            raise NotForWebhooks("the platform of this component update is gone")
        component = serializers.component(platform, page_id)
        component.update({"status": change["new_status"], "updated_at": change["created_at"]})
        return {
            "component_update": {
                "created_at": change["created_at"],
                "new_status": change["new_status"],
                "old_status": change["old_status"],
                "id": str(notice.id),
                "component_id": change["component_id"],
            },
            "component": component,
        }
    if notice.incident_id is not None:
        incident = session.get(Incident, notice.incident_id)
        if incident is not None:
            return {"incident": serializers.incident(incident, page_id, base_url)}
    if notice.window_id is not None:
        window = session.get(MaintenanceWindow, notice.window_id)
        if window is not None:
            return {"incident": serializers.scheduled_maintenance(window, page_id, base_url)}
    raise NotForWebhooks(f"{notice.kind} has no incident or maintenance to send")


def envelope(
    session: Session,
    notice: Notice,
    *,
    unsubscribe_url: str,
    base_url: str,
    page_id: str,
    now: datetime,
) -> dict[str, Any]:
    status = platform_queries.page_status(session, now)
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": DOCUMENTATION,
            "generated_at": serializers.ts(now),
        },
        "page": {
            "id": page_id,
            "status_indicator": status.indicator,
            "status_description": status.description,
        },
        **event(session, notice, base_url, page_id),
    }


def request_for(
    session: Session,
    notice: Notice,
    *,
    delivery_id: int,
    url: str,
    secret: str,
    unsubscribe_url: str,
    base_url: str,
    page_id: str,
    possibly_duplicated: bool,
    now: datetime,
) -> WebhookRequest:
    """The signed request for one delivery of `notice` to the endpoint `url`."""
    body = json.dumps(
        envelope(
            session,
            notice,
            unsubscribe_url=unsubscribe_url,
            base_url=base_url,
            page_id=page_id,
            now=now,
        ),
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    timestamp = str(int(now.timestamp()))
    headers = {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "X-Statuspage-Delivery": str(delivery_id),
        "User-Agent": "statuspage-webhooks",
    }
    if possibly_duplicated:
        headers["X-Statuspage-Possibly-Duplicated"] = "true"
    echo = notice.payload["token"] if notice.kind == subscriptions.WEBHOOK_CONFIRM_KIND else ""
    return WebhookRequest(url=url, body=body, headers=headers, expect_echo=echo)
