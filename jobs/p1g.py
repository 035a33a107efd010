"""Alert the CSS on-duty list when a master case's hourly update is overdue, and remind it
every `OVERDUE_REMINDER_MINUTES` while it stays overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from statuspage.contract import payloads
from statuspage.queries import incidents as incident_queries
from statuspage.services import notices

REMINDER_EVERY = timedelta(minutes=15)


def reminder_moment(due: datetime, now: datetime, every: timedelta) -> tuple[int, datetime]:
    """The reminder whose moment is the latest at or before `now`: (n, due + n * every);
    n = 0 is the first alert, at the deadline itself."""
    n = int((now - due) // every)
    return n, due + n * every


def alert_overdue(
    session: Session, now: datetime, on_duty_email: str, every: timedelta = REMINDER_EVERY
) -> int:
    """One alert when a master case's deadline comes, then one reminder every `every` while
    no update has been posted: each keyed by the incident, the deadline and the reminder's
    number, so a moment is alerted exactly once however often, late or concurrently the job
    runs. Everything is derived from the database and `now`: after the job was down, only
    the reminder whose moment is the latest is sent (late), never the ones it slept through.
    Returns how many alerts are due now (new or already queued)."""
    made = 0
    for incident in incident_queries.open_master_cases(session):
        due = incident.next_update_due
        if due is None or now < due:
            continue
        n, moment = reminder_moment(due, now, every)
        # The first alert keeps the key it always had, so an upgrade sends nothing twice.
        key = f"p1g-overdue:{incident.id}:{due.isoformat()}" + (f":reminder:{n}" if n else "")
        notices.enqueue(
            session,
            key=key,
            kind=payloads.OVERDUE_KIND,
            audience="direct",
            payload={
                "kind": payloads.OVERDUE_KIND,
                "incident": notices.incident_fields(
                    incident, url=f"/admin/incidents/{incident.id}"
                ),
                "due_at": due.isoformat(),
                "reminder": n,
                "overdue_minutes": int((moment - due).total_seconds() // 60),
            },
            due_at=moment,
            now=now,
            incident_id=incident.id,
            direct_address=on_duty_email,
        )
        made += 1
    session.commit()
    return made
