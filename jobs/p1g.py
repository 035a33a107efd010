"""Alert the CSS on-duty list when a master case's hourly update is overdue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.contract import payloads
from statuspage.queries import incidents as incident_queries
from statuspage.services import notices


def alert_overdue(session: Session, now: datetime, on_duty_email: str) -> int:
    """One alert per missed deadline: keyed by the incident and the update that was due."""
    made = 0
    for incident in incident_queries.open_master_cases(session):
        due = incident.next_update_due
        if due is None or now <= due:
            continue
        notices.enqueue(
            session,
            key=f"p1g-overdue:{incident.id}:{due.isoformat()}",
            kind=payloads.OVERDUE_KIND,
            audience="direct",
            payload={
                "kind": payloads.OVERDUE_KIND,
                "incident": notices.incident_fields(
                    incident, url=f"/admin/incidents/{incident.id}"
                ),
                "due_at": due.isoformat(),
            },
            due_at=due,
            now=now,
            incident_id=incident.id,
            direct_address=on_duty_email,
        )
        made += 1
    session.commit()
    return made
