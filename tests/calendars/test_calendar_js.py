"""The calendar read by a parser not written in Python: ical.js, the one Thunderbird uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.calendars.support import expand_with_icaljs
from tests.maintenance_fixtures import NOW, build, expected_spans


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
