"""The three default series, expanded for 24 months, against expectations computed without
any recurrence library (plain calendar arithmetic and zoneinfo)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from calendars import recurrence
from statuspage.seed.defaults import DEFAULT_SERIES

MT = ZoneInfo("America/Denver")
FROM = datetime(2026, 12, 1, tzinfo=UTC)
TO = datetime(2028, 12, 1, tzinfo=UTC)  # 24 months


def defaults(key: str):
    return next(d for d in DEFAULT_SERIES if d.key == key)


def third_fridays(first: date, last: date) -> list[date]:
    days = []
    y, m = first.year, first.month
    while date(y, m, 1) <= last:
        fridays = [
            d
            for d in calendar.Calendar().itermonthdates(y, m)
            if d.month == m and d.weekday() == calendar.FRIDAY
        ]
        days.append(fridays[2])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return days


def expected(days: list[date], hh: int, mm: int, minutes: int) -> list[tuple[datetime, datetime]]:
    spans = []
    for d in days:
        start = datetime.combine(d, time(hh, mm), tzinfo=MT)
        end = (datetime.combine(d, time(hh, mm)) + timedelta(minutes=minutes)).replace(tzinfo=MT)
        if end.astimezone(UTC) > FROM and start.astimezone(UTC) < TO:
            spans.append((start.astimezone(UTC), end.astimezone(UTC)))
    return spans


def expand(key: str, first: datetime) -> list[tuple[datetime, datetime]]:
    d = defaults(key)
    return [
        (o.start, o.end)
        for o in recurrence.occurrences(
            d.rule, first, timedelta(minutes=d.duration_minutes), FROM, TO
        )
    ]


def test_monthly_window_is_third_friday_22_to_04_for_24_months():
    got = expand("monthly-maintenance", datetime(2026, 1, 16, 22, tzinfo=MT))
    want = expected(third_fridays(date(2026, 11, 1), date(2028, 12, 31)), 22, 0, 360)
    assert got == want
    assert len(got) == 24


def test_monthly_window_crosses_midnight_into_saturday_local():
    for start, end in expand("monthly-maintenance", datetime(2026, 1, 16, 22, tzinfo=MT)):
        local_start, local_end = start.astimezone(MT), end.astimezone(MT)
        assert local_start.weekday() == calendar.FRIDAY and local_start.hour == 22
        assert local_end.weekday() == calendar.SATURDAY and local_end.hour == 4
        assert local_end.date() == local_start.date() + timedelta(days=1)


def test_january_and_july_windows_start_22_local_with_different_utc_offsets():
    spans = dict(
        (s.astimezone(MT).date(), s)
        for s, _ in expand("monthly-maintenance", datetime(2026, 1, 16, 22, tzinfo=MT))
    )
    january, july = spans[date(2027, 1, 15)], spans[date(2027, 7, 16)]
    assert january.astimezone(MT).hour == july.astimezone(MT).hour == 22
    assert january.astimezone(MT).utcoffset() == timedelta(hours=-7)
    assert july.astimezone(MT).utcoffset() == timedelta(hours=-6)
    assert (january.hour, july.hour) == (5, 4)  # UTC


def test_certificate_update_every_friday_midnight_for_24_months():
    first_friday = date(2026, 1, 2)
    days = [first_friday + timedelta(weeks=k) for k in range(0, 160)]
    want = expected([d for d in days if d <= date(2028, 12, 31)], 0, 0, 30)
    got = expand("sfb-certificate", datetime(2026, 1, 2, 0, tzinfo=MT))
    assert got == want
    assert 103 <= len(got) <= 106


def test_connect_release_every_third_tuesday_from_the_anchor():
    anchor = date(2026, 1, 6)  # a Tuesday
    days = [anchor + timedelta(weeks=3 * k) for k in range(0, 60)]
    want = expected([d for d in days if d <= date(2028, 12, 31)], 21, 0, 120)
    got = expand("connect-release", datetime(2026, 1, 6, 21, tzinfo=MT))
    assert got == want
    assert all(s.astimezone(MT).weekday() == calendar.TUESDAY for s, _ in got)
    assert 34 <= len(got) <= 36


def test_time_in_spring_forward_gap_moves_forward():
    assert recurrence.to_local(datetime(2027, 3, 14, 2, 30), MT) == datetime(
        2027, 3, 14, 3, 30, tzinfo=MT
    )


def test_ambiguous_autumn_time_takes_first_occurrence():
    local = recurrence.to_local(datetime(2027, 11, 7, 1, 30), MT)
    assert local.utcoffset() == timedelta(hours=-6)


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "FREQ=SECONDLY",
        "FREQ=HOURLY",
        "FREQ=WEEKLY;BYDAY=XX",
        "BYDAY=FR",
        "FREQ=WEEKLY;COUNT=2;UNTIL=20270101",
        "FREQ=WEEKLY;FOO=1",
        "FREQ=WEEKLY;INTERVAL=x",
        "garbage",
    ],
)
def test_bad_rules_are_refused_with_a_reason(rule):
    with pytest.raises(recurrence.RuleError) as exc:
        recurrence.occurrences(rule, datetime(2026, 1, 2, tzinfo=MT), timedelta(hours=1), FROM, TO)
    assert str(exc.value)
