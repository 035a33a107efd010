"""What the API tests share: the page the public API and its clients read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from statuspage.models import Incident, User
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.helpers import NOW, master_case, open_incident


def master_case_with_history(
    session: Session, css: User, *, opened: datetime, old_opened: datetime, **fields: Any
) -> Incident:
    """The page an API reader sees: a master case (Cisco in major outage) opened at `opened`,
    an old P3 incident "Old" (no platforms, no impact) opened at `old_opened` and resolved a
    day later, and the seeded maintenance series expanded. `fields` go to the master case.
    Committed; returns the master case."""
    master = master_case(
        session, css, platforms={"cisco": "major_outage"}, now=opened, commit=False, **fields
    )
    old = open_incident(
        session, css, old_opened, "P3", title="Old", body="", impact="none", platforms={}
    )
    incidents.resolve(session, css, old, body="Fixed", now=old_opened + timedelta(days=1))
    seed_series(session, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(session, NOW)
    session.commit()
    return master
