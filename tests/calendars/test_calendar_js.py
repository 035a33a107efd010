"""The calendar read by a parser not written in Python: ical.js, the one Thunderbird uses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import TESTS_DIR
from tests.maintenance_fixtures import NOW, build, expected_spans

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


def test_icaljs_expands_to_exactly_the_windows(client, db, admin, tmp_path):
    build(db, admin)
    path = tmp_path / "maintenance.ics"
    path.write_bytes(client.get("/maintenance.ics").data)
    end = NOW + timedelta(days=395)
    assert expand_with_icaljs(str(path), NOW, end) == expected_spans(db, NOW, end)


def test_icaljs_platform_calendar_honours_narrowed_and_cancelled(client, db, admin, tmp_path):
    cal = build(db, admin)
    path = tmp_path / "cloud.ics"
    path.write_bytes(client.get("/platforms/calltower-cloud/maintenance.ics").data)
    end = NOW + timedelta(days=395)
    got = expand_with_icaljs(str(path), NOW, end)
    assert got == expected_spans(db, NOW, end, "calltower-cloud")
    assert (cal.narrowed.starts_at, cal.narrowed.ends_at) not in got
    assert (cal.cancelled.starts_at, cal.cancelled.ends_at) not in got


def test_icaljs_puts_every_monthly_window_at_22_local_for_two_years(client, db, admin, tmp_path):
    from zoneinfo import ZoneInfo

    build(db, admin)
    path = tmp_path / "maintenance.ics"
    path.write_bytes(client.get("/maintenance.ics").data)
    got = expand_with_icaljs(
        str(path), datetime(2027, 4, 1, tzinfo=UTC), datetime(2029, 4, 1, tzinfo=UTC)
    )
    mt = ZoneInfo("America/Denver")
    monthly = [s.astimezone(mt) for s, e in got if e - s == timedelta(hours=6)]
    assert len(monthly) == 24
    assert all(s.hour == 22 and s.weekday() == 4 and 15 <= s.day <= 21 for s in monthly)
    assert {s.utcoffset() for s in monthly} == {timedelta(hours=-6), timedelta(hours=-7)}
