"""The iCal calendars, read back by real parsers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from statuspage.services import maintenance as svc
from tests.calendars.support import expand
from tests.maintenance_fixtures import MT, NOW, build, expected_spans, window_on

HORIZON_END = NOW + timedelta(days=395)


def test_calendar_expands_to_exactly_the_windows(client, db, admin):
    build(db, admin)
    response = client.get("/maintenance.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    got = expand(response.data, NOW, HORIZON_END)
    assert got == expected_spans(db, NOW, HORIZON_END)


def test_series_is_one_vevent_with_rrule_and_vtimezone(client, db, admin):
    cal_data = build(db, admin)
    cal = icalendar.Calendar.from_ical(client.get("/maintenance.ics").data)
    assert cal["X-WR-CALNAME"] and cal["NAME"]
    assert str(cal["REFRESH-INTERVAL"]) == "PT1H" and str(cal["X-PUBLISHED-TTL"]) == "PT1H"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Denver"]
    masters = [e for e in cal.walk("VEVENT") if "RRULE" in e]
    assert sorted(str(e["UID"]).split("@")[0] for e in masters) == [
        "series-connect-release",
        "series-monthly-maintenance",
        "series-sfb-certificate",
    ]
    monthly = next(e for e in masters if "monthly" in str(e["UID"]))
    assert monthly["DTSTART"].params["TZID"] == "America/Denver"
    assert monthly["DTSTART"].dt.hour == 22
    assert monthly["RRULE"]["FREQ"] == ["MONTHLY"]
    exdates = [
        d.dt
        for x in (
            monthly.get("EXDATE")
            if isinstance(monthly.get("EXDATE"), list)
            else [monthly["EXDATE"]]
        )
        for d in x.dts
    ]
    assert cal_data.cancelled.recurrence_id in [d.astimezone(UTC) for d in exdates]
    override = [
        e
        for e in cal.walk("VEVENT")
        if str(e["UID"]) == str(monthly["UID"]) and "RECURRENCE-ID" in e
    ]
    # the moved occurrence and the one narrowed to two platforms
    assert [o["RECURRENCE-ID"].dt for o in override] == [
        datetime(2027, 1, 15, 22, tzinfo=MT),
        datetime(2027, 3, 19, 22, tzinfo=MT),
    ]
    assert override[0]["DTSTART"].dt == datetime(2027, 1, 16, 22, tzinfo=MT)
    assert override[0]["SEQUENCE"] > monthly["SEQUENCE"] - 1


def test_every_event_carries_platforms_description_and_justification(client, db, admin):
    build(db, admin)
    cal = icalendar.Calendar.from_ical(client.get("/maintenance.ics").data)
    for event in cal.walk("VEVENT"):
        text = str(event["DESCRIPTION"])
        assert "Platforms affected:" in text, event["SUMMARY"]
        assert "Justification:" in text, event["SUMMARY"]
        assert "<script>" not in text


def test_one_off_windows_are_single_events_and_cancelled_ones_say_so(client, db, admin):
    cal_data = build(db, admin)
    cal = icalendar.Calendar.from_ical(client.get("/maintenance.ics").data)
    singles = {str(e["UID"]): e for e in cal.walk("VEVENT") if str(e["UID"]).startswith("window-")}
    assert str(singles[f"window-{cal_data.unscheduled.id}@localhost"]["STATUS"]) == "CONFIRMED"
    assert str(singles[f"window-{cal_data.unscheduled_cancelled.id}@localhost"]["STATUS"]) == (
        "CANCELLED"
    )


def test_platform_calendar_leaves_out_narrowed_occurrences(client, db, admin):
    cal_data = build(db, admin)
    body = client.get("/platforms/calltower-cloud/maintenance.ics").data
    got = expand(body, NOW, HORIZON_END)
    assert got == expected_spans(db, NOW, HORIZON_END, "calltower-cloud")
    assert (cal_data.narrowed.starts_at, cal_data.narrowed.ends_at) not in got
    cisco = expand(client.get("/platforms/cisco/maintenance.ics").data, NOW, HORIZON_END)
    assert (cal_data.narrowed.starts_at, cal_data.narrowed.ends_at) in cisco
    assert client.get("/platforms/nope/maintenance.ics").status_code == 404


def test_calendar_bytes_are_stable_and_sequence_rises_on_change(app, client, db, admin):
    cal_data = build(db, admin)
    first = client.get("/maintenance.ics").data
    assert client.get("/maintenance.ics").data == first
    other = app.test_client()  # a second client: nothing depends on the session
    assert other.get("/maintenance.ics").data == first

    def sequence_of(body: bytes, uid_prefix: str, recurrence: bool) -> int:
        cal = icalendar.Calendar.from_ical(body)
        return max(
            int(e["SEQUENCE"])
            for e in cal.walk("VEVENT")
            if str(e["UID"]).startswith(uid_prefix) and (("RECURRENCE-ID" in e) == recurrence)
        )

    before = sequence_of(first, "series-connect-release", True)
    later = NOW + timedelta(minutes=5)
    svc.change_window(db, admin, cal_data.annotated, note="Updated note", now=later)
    db.commit()
    second = client.get("/maintenance.ics").data
    assert sequence_of(second, "series-connect-release", True) > before
    series_before = sequence_of(second, "series-monthly-maintenance", False)
    svc.set_window_status(
        db,
        admin,
        window_on(db, "monthly-maintenance", datetime(2027, 4, 16).date()),
        "cancelled",
        later,
    )
    db.commit()
    third = client.get("/maintenance.ics").data
    assert sequence_of(third, "series-monthly-maintenance", False) > series_before


def test_dtstamp_is_stored_last_modified_not_render_time(client, db, admin):
    build(db, admin)
    cal = icalendar.Calendar.from_ical(client.get("/maintenance.ics").data)
    stamps = {e["DTSTAMP"].dt for e in cal.walk("VEVENT")}
    assert stamps == {NOW}


def test_january_and_july_occurrences_at_22_local_in_parser(client, db, admin):
    build(db, admin)
    body = client.get("/maintenance.ics").data
    got = expand(body, datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 12, 31, tzinfo=UTC))
    local_starts = [s.astimezone(MT) for s, e in got if e - s == timedelta(hours=6)]
    assert datetime(2027, 7, 16, 22, tzinfo=MT) in local_starts
    assert datetime(2028, 1, 21, 22, tzinfo=MT) in local_starts  # beyond the 400-day horizon
    assert all(s.hour == 22 for s in local_starts)
