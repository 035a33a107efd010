"""VTIMEZONE components: a yearly rule where the zone has one, read back by a parser."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from calendars.timezones import transitions, vtimezone


def test_denver_is_second_sunday_march_and_first_sunday_november():
    parts = {p.name: p for p in vtimezone("America/Denver", 2025).subcomponents}
    assert parts["DAYLIGHT"]["RRULE"]["BYDAY"] == ["2SU"]
    assert [str(m) for m in parts["DAYLIGHT"]["RRULE"]["BYMONTH"]] == ["3"]
    assert parts["STANDARD"]["RRULE"]["BYDAY"] == ["1SU"]
    assert [str(m) for m in parts["STANDARD"]["RRULE"]["BYMONTH"]] == ["11"]
    assert parts["DAYLIGHT"]["DTSTART"].dt == datetime(2025, 3, 9, 2, 0)


def test_last_sunday_rules_use_minus_one():
    parts = {p.name: p for p in vtimezone("Europe/Berlin", 2026).subcomponents}
    assert parts["DAYLIGHT"]["RRULE"]["BYDAY"] == ["-1SU"]


def test_zone_without_dst_is_one_fixed_offset():
    [part] = vtimezone("Asia/Tokyo", 2026).subcomponents
    assert part.name == "STANDARD" and part["TZOFFSETTO"].td == timedelta(hours=9)


@pytest.mark.parametrize(
    "zone", ["America/Denver", "Europe/London", "Australia/Sydney", "America/Santiago"]
)
def test_parsed_vtimezone_agrees_with_zoneinfo_for_ten_years(zone):
    parsed = icalendar.Timezone.from_ical(vtimezone(zone, 2025).to_ical()).to_tz()
    real = ZoneInfo(zone)
    moment = datetime(2026, 1, 1)
    while moment < datetime(2036, 1, 1):
        ours = moment.replace(tzinfo=parsed).utcoffset()
        assert ours == moment.replace(tzinfo=real).utcoffset(), (zone, moment)
        moment += timedelta(hours=13)


def test_transitions_are_whole_minutes():
    for t in transitions(ZoneInfo("America/Denver"), 2027):
        assert t.at.second == 0 and t.local.minute == 0 and t.local.hour == 2
