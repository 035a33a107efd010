"""What the public API says now of a notice's subject: read when a notice is sent to a
channel whose message shows the API's objects (`Channel.needs_snapshot`: a webhook's
envelope carries the incident as /api/v2 shows it, the page's status, a changed platform)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.contract import payloads
from statuspage.models import Incident, MaintenanceWindow, Notice, Platform
from statuspage.queries import platforms as platform_queries
from statuspage.renderers import serializers


def snapshot(
    session: Session, notice: Notice, *, base_url: str, page_id: str, now: datetime
) -> payloads.Snapshot:
    """The page's status now, and the notice's incident (or window, as Statuspage's
    scheduled maintenance) or changed platform as the API shows them now (None if gone)."""
    status = platform_queries.page_status(session, now)
    incident = None
    if notice.incident_id is not None:
        found = session.get(Incident, notice.incident_id)
        if found is not None:
            incident = dict(serializers.incident(found, page_id, base_url))
    if incident is None and notice.window_id is not None:
        window = session.get(MaintenanceWindow, notice.window_id)
        if window is not None:
            incident = dict(serializers.scheduled_maintenance(window, page_id, base_url))
    component = None
    stored = payloads.payload_of(notice.payload)
    if stored["kind"] == payloads.COMPONENT_UPDATE_KIND:
        platform = session.get(Platform, int(stored["component_update"]["component_id"]))
        if platform is not None:
            component = dict(serializers.component(platform, page_id))
    return {
        "page": {
            "id": page_id,
            "status_indicator": status.indicator,
            "status_description": status.description,
        },
        "incident": incident,
        "component": component,
    }
