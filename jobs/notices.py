"""Queue the maintenance notices whose moment has come."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.services import notices


def queue_due(session: Session, now: datetime, tz_name: str) -> int:
    """Create due one-week, 24-hour, start and completion notices. Idempotent. Commits."""
    made = notices.queue_due_window_notices(session, now, tz_name)
    session.commit()
    return len(made)
