"""VTIMEZONE components that every calendar client reads the same way.

A zone whose daylight-saving rule is regular (America/Denver: second Sunday of March, first
Sunday of November) is written as one STANDARD and one DAYLIGHT part with a yearly RRULE,
as the big calendar clients write them; some parsers read only the first of a list of
RDATEs, and would lose DST after the first year. The rule is derived from zoneinfo and
checked against 25 years of real transitions; a zone whose rules do not fit falls back to
explicit transition dates, one RDATE property each.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

CHECK_YEARS = 25


@dataclass(frozen=True)
class Transition:
    at: datetime  # UTC instant
    before: timedelta
    after: timedelta
    name: str  # abbreviation after the change
    is_dst: bool

    @property
    def local(self) -> datetime:
        """Wall-clock time of the change, read in the offset before it (RFC 5545 DTSTART)."""
        return (self.at + self.before).replace(tzinfo=None)


def transitions(tz: ZoneInfo, year: int) -> list[Transition]:
    """Offset changes of `tz` during `year`, found to the minute."""
    found = []
    start = datetime(year, 1, 1, tzinfo=UTC)
    step = timedelta(hours=6)
    t = start
    while t.year == year:
        nxt = t + step
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            # Changes happen on whole minutes: bisect over minutes after t.
            lo_m, hi_m = 0, int(step.total_seconds() // 60)
            while hi_m - lo_m > 1:
                mid_m = (lo_m + hi_m) // 2
                mid = t + timedelta(minutes=mid_m)
                if mid.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                    lo_m = mid_m
                else:
                    hi_m = mid_m
            lo, hi = t + timedelta(minutes=lo_m), t + timedelta(minutes=hi_m)
            after = hi.astimezone(tz)
            found.append(
                Transition(
                    at=hi,
                    before=lo.astimezone(tz).utcoffset() or timedelta(),
                    after=after.utcoffset() or timedelta(),
                    name=after.tzname() or "",
                    is_dst=bool(after.dst()),
                )
            )
        t = nxt
    return found


@dataclass(frozen=True)
class YearlyRule:
    month: int
    weekday: int  # Monday 0
    nth: int  # 1..4, or -1 for the last in the month
    hour: int
    minute: int

    def day_in(self, year: int) -> date:
        days = [
            d
            for d in calendar.Calendar().itermonthdates(year, self.month)
            if d.month == self.month and d.weekday() == self.weekday
        ]
        return days[self.nth - 1] if self.nth > 0 else days[-1]

    def rrule(self) -> dict[str, object]:
        code = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][self.weekday]
        return {"FREQ": "YEARLY", "BYMONTH": [self.month], "BYDAY": [f"{self.nth}{code}"]}


def _rule_of(t: Transition) -> YearlyRule:
    local = t.local
    last = local.day + 7 > calendar.monthrange(local.year, local.month)[1]
    nth = -1 if last else (local.day - 1) // 7 + 1
    return YearlyRule(local.month, local.weekday(), nth, local.hour, local.minute)


def _fits(tz: ZoneInfo, year: int, rules: list[tuple[YearlyRule, Transition]]) -> bool:
    for y in range(year, year + CHECK_YEARS):
        actual = transitions(tz, y)
        if len(actual) != len(rules):
            return False
        for (rule, model), real in zip(rules, actual, strict=True):
            if (real.before, real.after) != (model.before, model.after):
                return False
            if real.local != datetime.combine(rule.day_in(y), datetime.min.time()).replace(
                hour=rule.hour, minute=rule.minute
            ):
                return False
    return True


def _part(kind: str, t: Transition, start: datetime) -> icalendar.Component:
    part = icalendar.TimezoneDaylight() if kind == "DAYLIGHT" else icalendar.TimezoneStandard()
    part.add("dtstart", start)
    part.add("tzoffsetfrom", t.before)
    part.add("tzoffsetto", t.after)
    part.add("tzname", t.name)
    return part


@lru_cache(maxsize=32)
def vtimezone(tz_name: str, year: int) -> icalendar.Timezone:
    """The VTIMEZONE of `tz_name`, valid from `year` on."""
    tz = ZoneInfo(tz_name)
    component = icalendar.Timezone()
    component.add("tzid", tz_name)
    found = transitions(tz, year)
    if not found:  # no daylight saving: one fixed offset
        offset = datetime(year, 1, 1, tzinfo=tz).utcoffset() or timedelta()
        fixed = Transition(
            datetime(year, 1, 1, tzinfo=UTC),
            offset,
            offset,
            datetime(year, 1, 1, tzinfo=tz).tzname() or "",
            False,
        )
        component.add_component(_part("STANDARD", fixed, datetime(1970, 1, 1)))
        return component
    rules = [(_rule_of(t), t) for t in found]
    if _fits(tz, year, rules):
        for rule, t in rules:
            part = _part("DAYLIGHT" if t.is_dst else "STANDARD", t, t.local)
            part.add("rrule", rule.rrule())
            component.add_component(part)
        return component
    # Irregular rules: every transition written out, one RDATE property each.
    for y in range(year, year + CHECK_YEARS):
        for t in transitions(tz, y):
            component.add_component(_part("DAYLIGHT" if t.is_dst else "STANDARD", t, t.local))
    return component
