"""Maintenance windows: materialise the coming 400 days, start and complete on time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.services import maintenance


def expand(session: Session, now: datetime) -> int:
    """Materialise every active series' windows for the coming 400 days. Commits."""
    created = maintenance.expand_series(session, now)
    session.commit()
    return created


def advance(session: Session, now: datetime) -> int:
    """Start the windows whose start has come, complete those whose end has passed. Commits."""
    changed = maintenance.advance_windows(session, now)
    session.commit()
    return len(changed)
