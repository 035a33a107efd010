"""Fixtures of the calendar and feed tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statuspage.services import incidents
from tests.helpers import master_case, open_incident
from tests.maintenance_fixtures import NOW, build

HOUR = timedelta(hours=1)


@pytest.fixture
def history(db, admin, css):
    """The maintenance calendar of every kind of entry, a master case on Cisco (with an
    update) and a minor incident on Connect: (calendar, master case, incident)."""
    cal = build(db, admin)
    body = "We are **investigating** <script>x()</script>"
    cisco_down = {"cisco": "major_outage"}
    master = master_case(db, css, body=body, platforms=cisco_down, now=NOW - 3 * HOUR, commit=False)
    incidents.post_update(
        db, css, master, status="identified", body="Carrier fault", now=NOW - timedelta(hours=2)
    )
    slow = {"impact": "minor", "platforms": {"calltower-connect": "degraded_performance"}}
    other = open_incident(db, css, NOW - HOUR, "P3", title="Portal slow", body="Slow", **slow)
    db.commit()
    return cal, master, other
