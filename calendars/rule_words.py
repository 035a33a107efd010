"""A series' recurrence rule in words, in the reader's language.

Pages show a series' rule as a reader says it ("every third Friday of the month,
22:00–04:00 MT"). This module imports nothing of the app, so the caller passes its
translation functions (Flask-Babel's `gettext`/`ngettext` on a page); without them the words
are English. Whole phrases are messages with named placeholders so a translator can order the
words and inflect the ordinal for the weekday that follows ("cada tercer viernes", "jeden
dritten Freitag"). The rule itself is read by `calendars.recurrence`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
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

from calendars.recurrence import RuleError, parse_rule, parse_until


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
    month = months[0] if months or start is None else start.month
    day = monthdays[0] if monthdays or start is None else start.day
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
