"""What the calendar tests (and others reading a calendar) share: a calendar as clients read
it, by recurring-ical-events in Python and by ical.js in Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from typing import Any

import icalendar
import pytest
import recurring_ical_events

from tests.helpers import TESTS_DIR

JS = os.path.join(str(TESTS_DIR), "js")
MODULE = os.path.join(JS, "node_modules", "ical.js")


def _need_icaljs() -> None:
    if shutil.which("node") is None or not os.path.isdir(MODULE):
        pytest.skip("ical.js is not installed: run `npm ci --prefix tests/js` (make test does)")


def read_with_icaljs(*paths: str) -> list[dict[str, Any]]:
    """What ical.js reads in each file: its METHOD, name, and per VEVENT the UID,
    RECURRENCE-ID, start and end (UTC and local wall time), SEQUENCE, STATUS and alarms."""
    _need_icaljs()
    result = subprocess.run(
        ["node", os.path.join(JS, "read_ics.mjs"), *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def expand_with_icaljs(
    path: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    _need_icaljs()
    result = subprocess.run(
        ["node", os.path.join(JS, "expand_ics.mjs"), path, start.isoformat(), end.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [
        (
            datetime.fromisoformat(s.replace("Z", "+00:00")),
            datetime.fromisoformat(e.replace("Z", "+00:00")),
        )
        for s, e in json.loads(result.stdout)
    ]


def expand(body: bytes, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """What a client shows: every instance, less those marked cancelled."""
    cal = icalendar.Calendar.from_ical(body)
    events = recurring_ical_events.of(cal).between(start, end)
    return sorted(
        (e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC))
        for e in events
        if str(e.get("STATUS", "")) != "CANCELLED"
    )
