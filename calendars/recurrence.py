"""Recurrence of maintenance series: RFC 5545 rules expanded in the provider's local time.

A rule is kept as the text of an RRULE value (``FREQ=MONTHLY;BYDAY=FR;BYSETPOS=3``) anchored
at a local start (``DTSTART;TZID=America/Denver``). Occurrences keep their wall-clock time
across daylight saving changes, as calendar clients do: the third Friday of January and of
July both start at 22:00 local even though their UTC offsets differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_skeleton,
    get_day_names,
    get_month_names,
    get_timezone_name,
)
from babel.lists import format_list
from dateutil.rrule import rrule, rrulestr

# Parts of RFC 5545 a maintenance series may use. Anything finer than a day makes no sense
# for a maintenance window and would let a rule flood the calendar.
ALLOWED_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYWEEKNO",
    "BYYEARDAY",
    "WKST",
}


class RuleError(ValueError):
    """The rule text is not a recurrence rule this calendar accepts."""


@dataclass(frozen=True)
class Occurrence:
    """One expanded occurrence: its local start (the RECURRENCE-ID) and its UTC span."""

    local_start: datetime  # aware, in the series' zone
    start: datetime  # aware UTC
    end: datetime  # aware UTC


def parse_rule(text: str) -> dict[str, str]:
    """Split and check an RRULE value; return its parts (upper-cased names).

    Raises RuleError with a reason a person can act on.
    """
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text:
        raise RuleError("the rule is empty")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        if "=" not in item:
            raise RuleError(f"{item!r} is not NAME=VALUE")
        name, value = item.split("=", 1)
        name = name.strip().upper()
        if name not in ALLOWED_PARTS:
            raise RuleError(f"{name} is not allowed in a maintenance rule")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        parts[name] = value.strip().upper()
    if parts.get("FREQ") not in ALLOWED_FREQS:
        raise RuleError(f"FREQ must be one of {', '.join(sorted(ALLOWED_FREQS))}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL cannot both be given")
    return parts


def to_local(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach `tz` to a wall-clock time, as RFC 5545 says for local times.

    A time inside the spring-forward gap does not exist; it is moved forward by the gap's
    length (02:30 becomes 03:30 MDT). An ambiguous autumn time takes its first occurrence.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:  # in the gap
        aware = (aware.astimezone(UTC)).astimezone(tz)
    return aware


def wall_end(naive_start: datetime, duration: timedelta, tz: ZoneInfo) -> datetime:
    """The UTC end of a window lasting `duration` of wall-clock time from a local start."""
    return to_local(naive_start + duration, tz).astimezone(UTC)


def build(rule_text: str, first_start: datetime) -> rrule:
    """A dateutil rule producing naive local start times from `first_start` (aware, local)."""
    parts = parse_rule(rule_text)
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    if "UNTIL" in parts:
        # UNTIL in UTC form ("...Z") cannot be compared with a naive DTSTART; express it in
        # local wall-clock time instead, which is what the naive expansion compares against.
        until = parse_until(parts["UNTIL"], first_start.tzinfo)  # type: ignore[arg-type]
        parts["UNTIL"] = until.replace(tzinfo=None).strftime("%Y%m%dT%H%M%S")
        text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        result = rrulestr(text, dtstart=first_start.replace(tzinfo=None))
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleError(f"not a valid recurrence rule: {exc}") from None
    if not isinstance(result, rrule):
        raise RuleError("give one rule, not a set")
    return result


def parse_until(value: str, tz: ZoneInfo) -> datetime:
    value = value.strip().upper()
    try:
        if len(value) == 8:
            return datetime.combine(
                date.fromisoformat(f"{value[:4]}-{value[4:6]}-{value[6:]}"),
                time(23, 59, 59),
                tzinfo=tz,
            )
        parsed = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    except ValueError:
        raise RuleError(f"UNTIL {value!r} is not a date or date-time") from None
    return (
        parsed.replace(tzinfo=UTC).astimezone(tz)
        if value.endswith("Z")
        else parsed.replace(tzinfo=tz)
    )


def occurrences(
    rule_text: str,
    first_start: datetime,
    duration: timedelta,
    window_from: datetime,
    window_to: datetime,
    *,
    exclude: Iterable[datetime] = (),
) -> list[Occurrence]:
    """Occurrences whose span overlaps [window_from, window_to), in order.

    `first_start` is the series' DTSTART, aware in the series' zone. `exclude` holds local
    starts (RECURRENCE-IDs) to leave out.
    """
    tz = first_start.tzinfo
    if not isinstance(tz, ZoneInfo):
        raise RuleError("the first start needs a named time zone")
    rule = build(rule_text, first_start)
    excluded = {e.astimezone(tz).replace(tzinfo=None) for e in exclude}
    # Search from a day before the window (an occurrence started yesterday may still run)
    # in local naive time, which is what the rule produces.
    lo = (window_from - duration - timedelta(days=1)).astimezone(tz).replace(tzinfo=None)
    hi = (window_to + timedelta(days=1)).astimezone(tz).replace(tzinfo=None)
    result: list[Occurrence] = []
    for naive in rule.between(lo, hi, inc=True):
        if naive in excluded:
            continue
        local = to_local(naive, tz)
        start = local.astimezone(UTC)
        end = wall_end(naive, duration, tz)
        if end > window_from and start < window_to:
            result.append(Occurrence(local, start, end))
    return result


def first_occurrence_after(
    rule_text: str, first_start: datetime, after: datetime, horizon_days: int = 800
) -> datetime | None:
    """The first local start at or after `after`, within `horizon_days`; None if the rule ends."""
    tz = first_start.tzinfo
    assert isinstance(tz, ZoneInfo)
    rule = build(rule_text, first_start)
    lo = after.astimezone(tz).replace(tzinfo=None)
    nxt = rule.after(lo, inc=True)
    if nxt is None or nxt > lo + timedelta(days=horizon_days):
        return None
    return to_local(nxt, tz)


# --- a rule in words ------------------------------------------------------------------
# Pages show a series' rule as a reader says it ("every third Friday of the month,
# 22:00–04:00 MT"), in the reader's language. This module imports nothing of the app, so
# the caller passes its translation functions (Flask-Babel's `gettext`/`ngettext` on a
# page); without them the words are English. Whole phrases are messages with named
# placeholders so a translator can order the words and inflect the ordinal for the
# weekday that follows ("cada tercer viernes", "jeden dritten Freitag").


class Gettext(Protocol):
    def __call__(self, message: str, **variables: Any) -> str: ...


class NGettext(Protocol):
    def __call__(self, singular: str, plural: str, num: int, **variables: Any) -> str: ...


def _english(message: str, **variables: Any) -> str:
    return message % variables if variables else message


def _english_plural(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


def N_(message: str) -> str:
    """Marks a message for the catalogs; it is translated where it is used."""
    return message


WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
# The nth weekday of a month (BYDAY=3FR, or BYDAY=FR;BYSETPOS=3).
ORDINAL_WEEKDAYS = {
    1: N_("first %(weekday)s"),
    2: N_("second %(weekday)s"),
    3: N_("third %(weekday)s"),
    4: N_("fourth %(weekday)s"),
    5: N_("fifth %(weekday)s"),
    -1: N_("last %(weekday)s"),
    -2: N_("second-to-last %(weekday)s"),
}


class _Unsaid(Exception):
    """A rule shape with no words of its own: the rule text is shown instead."""


def describe(
    rule_text: str,
    start_local: datetime | None = None,
    end_local: datetime | None = None,
    *,
    locale: str = "en",
    zone: str = "",
    gettext: Gettext = _english,
    ngettext: NGettext = _english_plural,
) -> str:
    """The rule in words, with the window's wall-clock times when `start_local` is given:
    "every third Friday of the month, 22:00–04:00 MT", "every 3 weeks on Tuesday, ...".

    `start_local` (the series' first start, aware in its zone) also gives the day a rule
    leaves implicit (FREQ=WEEKLY without BYDAY repeats on the first start's weekday);
    `end_local` its end (a window past midnight reads 22:00–04:00); `zone` the zone's
    label ("MT"). Weekday and month names and lists come from the CLDR data of `locale`.
    A rule this function has no words for (BYWEEKNO, BYYEARDAY, several BYSETPOS...) reads
    "repeats by the rule ..." with its text; a rule that does not parse likewise: this
    never raises for what a row holds.
    """
    text = (rule_text or "").strip()
    try:
        parts = parse_rule(text)
        words = _rule_words(parts, start_local, locale, gettext, ngettext)
    except (RuleError, _Unsaid, ValueError):
        return gettext("repeats by the rule %(rule)s", rule=text)
    if start_local is not None:
        # (computed apart: a translation function's name inside the call's arguments would
        # hide this message from the catalogs' extractor)
        hours = _time_words(start_local, end_local, zone, ngettext)
        words = gettext("%(rule)s, %(time)s", rule=words, time=hours)
    if "COUNT" in parts and parts["COUNT"].isascii() and parts["COUNT"].isdigit():
        count = int(parts["COUNT"])
        words = ngettext(
            "%(description)s (once)", "%(description)s (%(num)d times)", count, description=words
        )
    elif "UNTIL" in parts and start_local is not None and isinstance(start_local.tzinfo, ZoneInfo):
        try:
            until = parse_until(parts["UNTIL"], start_local.tzinfo)
        except RuleError:
            return words
        words = gettext(
            "%(description)s, until %(date)s",
            description=words,
            date=format_date(until.date(), "long", locale=locale),
        )
    return words


def _rule_words(
    parts: dict[str, str],
    start: datetime | None,
    locale: str,
    gettext: Gettext,
    ngettext: NGettext,
) -> str:
    freq = parts["FREQ"]
    interval = _number(parts.get("INTERVAL", "1"))
    if interval < 1:
        raise _Unsaid
    if {"BYWEEKNO", "BYYEARDAY"} & parts.keys():
        raise _Unsaid
    days = _weekdays(parts.get("BYDAY", ""))
    setpos = [_number(p) for p in parts["BYSETPOS"].split(",")] if "BYSETPOS" in parts else []
    monthdays = (
        [_number(d) for d in parts["BYMONTHDAY"].split(",")] if "BYMONTHDAY" in parts else []
    )
    months = [_number(m) for m in parts["BYMONTH"].split(",")] if "BYMONTH" in parts else []
    if any(not 1 <= m <= 12 for m in months):
        raise _Unsaid
    names = get_day_names("wide", locale=locale)

    def weekday_list(codes: list[str]) -> str:
        return format_list([names[WEEKDAY_CODES.index(c)] for c in codes], locale=locale)

    if freq == "YEARLY":
        return _yearly(parts, start, interval, months, monthdays, days, locale, ngettext)
    if setpos:
        # BYSETPOS picks among the days the rule gives: with one weekday in a month that
        # is the nth such weekday; any other use has no short words.
        if freq != "MONTHLY" or len(setpos) != 1 or len(days) != 1 or days[0][0] is not None:
            raise _Unsaid
        days = [(setpos[0], days[0][1])]
    ordinals = [n for n, _ in days if n is not None]
    if ordinals and (freq != "MONTHLY" or len(ordinals) != len(days)):
        raise _Unsaid

    if freq == "DAILY":
        if days:
            if interval != 1:
                raise _Unsaid
            words = gettext("every %(weekdays)s", weekdays=weekday_list([c for _, c in days]))
        else:
            words = ngettext("every day", "every %(num)d days", interval)
    elif freq == "WEEKLY":
        codes = [c for _, c in days]
        if not codes:
            if start is None:
                raise _Unsaid
            codes = [WEEKDAY_CODES[start.weekday()]]
        if interval == 1:
            words = gettext("every %(weekdays)s", weekdays=weekday_list(codes))
        else:
            words = ngettext(
                "every week on %(weekdays)s",
                "every %(num)d weeks on %(weekdays)s",
                interval,
                weekdays=weekday_list(codes),
            )
    else:  # MONTHLY
        if days and monthdays:
            raise _Unsaid
        if ordinals:
            if any(n not in ORDINAL_WEEKDAYS for n in ordinals):
                raise _Unsaid
            phrases = format_list(
                [
                    gettext(ORDINAL_WEEKDAYS[n], weekday=names[WEEKDAY_CODES.index(c)])
                    for n, c in days
                    if n is not None
                ],
                locale=locale,
            )
            if interval == 1:
                words = gettext("every %(days)s of the month", days=phrases)
            else:
                words = ngettext(
                    "on the %(days)s of every month",
                    "on the %(days)s of every %(num)d months",
                    interval,
                    days=phrases,
                )
        elif days:
            if interval != 1:
                raise _Unsaid
            words = gettext("every %(weekdays)s", weekdays=weekday_list([c for _, c in days]))
        else:
            if not monthdays:
                if start is None:
                    raise _Unsaid
                monthdays = [start.day]
            which = _monthday_words(monthdays, locale, gettext, ngettext)
            words = ngettext(
                "every month on %(monthdays)s",
                "every %(num)d months on %(monthdays)s",
                interval,
                monthdays=which,
            )
    if months:
        month_names = get_month_names("wide", context="stand-alone", locale=locale)
        words = gettext(
            "%(rule)s, in %(months)s",
            rule=words,
            months=format_list([month_names[m] for m in sorted(set(months))], locale=locale),
        )
    return words


def _yearly(
    parts: dict[str, str],
    start: datetime | None,
    interval: int,
    months: list[int],
    monthdays: list[int],
    days: list[tuple[int | None, str]],
    locale: str,
    ngettext: NGettext,
) -> str:
    if days or "BYSETPOS" in parts or len(months) > 1 or len(monthdays) > 1:
        raise _Unsaid
    if start is None and not (months and monthdays):
        raise _Unsaid
    month = months[0] if months else start.month  # type: ignore[union-attr]
    day = monthdays[0] if monthdays else start.day  # type: ignore[union-attr]
    try:
        when = format_skeleton("MMMMd", date(2000, month, day), locale=locale)
    except ValueError:
        raise _Unsaid from None
    return ngettext(
        "every year on %(date)s", "every %(num)d years on %(date)s", interval, date=when
    )


def _monthday_words(monthdays: list[int], locale: str, gettext: Gettext, ngettext: NGettext) -> str:
    if any(d == 0 or not -31 <= d <= 31 for d in monthdays):
        raise _Unsaid
    if monthdays == [-1]:
        return gettext("the last day")
    if any(d < 0 for d in monthdays):
        raise _Unsaid
    ordered = sorted(set(monthdays))
    return ngettext(
        "day %(days)s",
        "days %(days)s",
        len(ordered),
        days=format_list([str(d) for d in ordered], locale=locale),
    )


def _time_words(start: datetime, end: datetime | None, zone: str, ngettext: NGettext) -> str:
    first = start.strftime("%H:%M")
    label = f" {zone}" if zone else ""
    if end is None:
        return f"{first}{label}"
    # Wall-clock length, as the series defines it (a night across a DST change is still
    # 22:00-04:00).
    length = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    if length <= timedelta(0):
        return f"{first}{label}"
    if length < timedelta(days=1):
        return f"{first}–{end.strftime('%H:%M')}{label}"
    minutes = int(length.total_seconds() // 60)
    if minutes % 60:
        return ngettext(
            "from %(start)s for %(num)d minute",
            "from %(start)s for %(num)d minutes",
            minutes,
            start=f"{first}{label}",
        )
    return ngettext(
        "from %(start)s for %(num)d hour",
        "from %(start)s for %(num)d hours",
        minutes // 60,
        start=f"{first}{label}",
    )


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _Unsaid from None


def _weekdays(text: str) -> list[tuple[int | None, str]]:
    """BYDAY as (ordinal or None, weekday code) pairs: "3FR,-1SU" -> [(3, "FR"), (-1, "SU")]."""
    result: list[tuple[int | None, str]] = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        match = _BYDAY.match(item)
        if match is None:
            raise _Unsaid
        ordinal = int(match.group(1)) if match.group(1) else None
        if ordinal == 0:
            raise _Unsaid
        result.append((ordinal, match.group(2)))
    return result


def zone_label(tz: ZoneInfo) -> str:
    """A short name for a zone across the year ("MT" for America/Denver), else its key."""
    name = get_timezone_name(tz, width="short", locale="en_US")
    return name if name and " " not in name and "(" not in name else tz.key
