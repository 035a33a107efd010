"""One moment written one way per locale: the one formatter every renderer uses (pages, mail,
cards, SMS, feeds, calendars), and `static/localtime.js` writes the reader's zone by the same
rules in the browser.

- A day is CLDR's own pattern for a short weekday, day and month in the reader's language
  (Babel's skeleton `MMMEd`, with `y` when the year is written): "Fri, Dec 18", "vie, 18 dic",
  "Fr., 18. Dez."; a time is 24-hour "22:00"; the two are joined by the locale's date-time
  pattern ("{1}, {0}"). `Intl.DateTimeFormat` in the browser gives the same words.
- A zone is named as the language writes it (`abbreviation`): CLDR's short name in the
  language ("MEZ" in German, "CET" in Spanish), else in English, else in British English
  ("CET" on an English page, never "GMT+1"); a zone at UTC's offset with no name of its own is
  "GMT"; any other is its offset, "UTC+9".
- Which zones, in which order, is a parameter (`Zones`): the provider's zone (MT), UTC and,
  where it is known, the reader's own. `reader_first` puts the reader's first, then MT and
  UTC (mail, cards and SMS; a page's script does the same in the browser). A zone is named
  once.
- Several zones of one moment: the first is written whole, each next one leaves out the day
  when it falls on the day of the zone before it ("Fri, Dec 18, 22:00 MST · 05:00 UTC" would
  be ambiguous only if the day were not the one just written), and the year unless it differs
  from the first one's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, get_timezone_name

SEPARATOR = " · "
# A day: weekday, day and month (and the year): CLDR's skeletons, in the language's order.
DAY = "MMMEd"
DAY_YEAR = "yMMMEd"
# Without the weekday, where room is short (an SMS).
SHORT_DAY = "MMMd"
SHORT_DAY_YEAR = "yMMMd"
# Where an abbreviation of a zone is looked up after the reader's language: English, then
# British English (which names the European zones: CET, WET, BST).
NAME_FALLBACKS = ("en", "en_GB")
# What counts as a zone's name (not an offset such as "+0100" or "GMT+1", nor a long name).
_NAME = re.compile(r"[A-Z][A-Za-z]{1,5}")


@dataclass(frozen=True)
class Zones:
    """The zones a moment is written in: `provider` (the provider's, MT), UTC, and the
    `reader`'s when known; the reader's first when `reader_first`. A zone is named once."""

    provider: str
    reader: str | None = None
    reader_first: bool = False
    utc: bool = True

    def names(self) -> tuple[str, ...]:
        rest = (self.provider, *(("UTC",) if self.utc else ()))
        if self.reader is None:
            ordered = rest
        else:
            ordered = (self.reader, *rest) if self.reader_first else (*rest, self.reader)
        return tuple(dict.fromkeys(ordered))


def zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def moment(value: str | datetime) -> datetime:
    """A stored moment (ISO 8601 with its offset, or an aware datetime)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def in_zone(value: str | datetime, name: str) -> datetime:
    return moment(value).astimezone(zone(name))


# --- one moment in one zone -----------------------------------------------------------------


def _language(language: str) -> str:
    return language if language else "en"


def day(local: datetime, language: str = "en", *, year: bool = True, weekday: bool = True) -> str:
    """The local day in the language's words: "Fri, Dec 18, 2026", "vie, 18 dic 2026",
    "Fr., 18. Dez. 2026" (`year` False: "Fri, Dec 18"; `weekday` False: "Dec 18")."""
    skeleton = (DAY_YEAR if year else DAY) if weekday else (SHORT_DAY_YEAR if year else SHORT_DAY)
    return format_skeleton(skeleton, local, locale=_language(language))


def clock(local: datetime) -> str:
    """The local time on the 24-hour clock: "22:00" (the same in every language here)."""
    return f"{local.hour:02d}:{local.minute:02d}"


@lru_cache(maxsize=16)
def glue(language: str) -> str:
    """The language's pattern joining a day and a time ("{1}, {0}")."""
    return str(Locale.parse(language).datetime_formats["medium"])


def joined(day_text: str, time_text: str, language: str = "en") -> str:
    """A day and a time as the language joins them: "Fri, Dec 18, 22:00"."""
    return glue(_language(language)).replace("{1}", day_text).replace("{0}", time_text)


_NAMES: dict[tuple[str, timedelta, timedelta, str], str] = {}


def _abbreviation(key: str, local: datetime, language: str) -> str:
    offset = local.utcoffset() or timedelta(0)
    # The name depends on the zone, its offset and whether it is summer there.
    wanted = (key, offset, local.dst() or timedelta(0), language)
    found = _NAMES.get(wanted)
    if found is None:
        found = offset_name(offset)
        for code in (language, *NAME_FALLBACKS):
            name = get_timezone_name(local, "short", locale=code)
            if _NAME.fullmatch(name):
                found = name
                break
            if offset == timedelta(0):
                found = "GMT"  # what each language calls a zone at UTC's offset, unnamed
                break
        if len(_NAMES) < 4096:
            _NAMES[wanted] = found
    return found


def offset_name(offset: timedelta) -> str:
    """A zone without a name by its offset: "UTC+9", "UTC+5:30", "UTC-3"."""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def abbreviation(local: datetime, language: str = "en") -> str:
    """The zone of `local` as the language writes it: "MEZ" (de), "CET" (es, en), "MST"."""
    tz = local.tzinfo
    key = getattr(tz, "key", None) or (local.tzname() or "")
    if tz is UTC or key in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu"):
        return "UTC"
    return _abbreviation(key, local, _language(language))


def at(local: datetime, language: str = "en", *, year: bool = True, weekday: bool = True) -> str:
    """The local day and time: "Fri, Dec 18, 2026, 22:00"."""
    return joined(day(local, language, year=year, weekday=weekday), clock(local), language)


def stamp(local: datetime, language: str = "en", *, year: bool = True) -> str:
    """The local day, time and zone: "Fri, Dec 18, 2026, 22:00 MST"."""
    return f"{at(local, language, year=year)} {abbreviation(local, language)}"


# --- one moment in several zones ----------------------------------------------------------------


def _year_wanted(local: datetime, year: bool, this_year: int | None) -> bool:
    return year and (this_year is None or local.year != this_year)


def texts(
    value: str | datetime,
    zones: Zones,
    language: str = "en",
    *,
    year: bool = True,
    this_year: int | None = None,
    weekday: bool = True,
) -> list[str]:
    """The moment in each of `zones`, in order: the first whole, each next one without the
    day when it is the day of the zone before it, and without the year unless it differs
    from the first one's. `this_year`: the year is left out of a moment in it (pages)."""
    out: list[str] = []
    previous: datetime | None = None
    first: datetime | None = None
    for name in zones.names():
        local = in_zone(value, name)
        zone_name = abbreviation(local, language)
        if previous is not None and local.date() == previous.date():
            text = f"{clock(local)} {zone_name}"
        else:
            with_year = (
                _year_wanted(local, year, this_year)
                if first is None
                else year and local.year != first.year
            )
            text = f"{at(local, language, year=with_year, weekday=weekday)} {zone_name}"
        if text not in out:
            out.append(text)
        previous = local
        first = first or local
    return out


def written(
    value: str | datetime,
    zones: Zones,
    language: str = "en",
    *,
    year: bool = True,
    this_year: int | None = None,
    weekday: bool = True,
    separator: str = SEPARATOR,
) -> str:
    """'Sat, Dec 19, 2026, 06:00 CET · Fri, Dec 18, 22:00 MST · Sat, Dec 19, 05:00 UTC'."""
    return separator.join(
        texts(value, zones, language, year=year, this_year=this_year, weekday=weekday)
    )


# --- a span (a window: start and end) in several zones --------------------------------------


def _zone_pair(a: datetime, b: datetime, language: str) -> str:
    first, last = abbreviation(a, language), abbreviation(b, language)
    return first if first == last else f"{first}/{last}"


def span_texts(
    start: str | datetime,
    end: str | datetime,
    zones: Zones,
    language: str = "en",
    *,
    year: bool = True,
    this_year: int | None = None,
) -> list[str]:
    """A span in each of `zones`, one text a zone: "Fri, Dec 18, 22:00–23:30 MST" within a
    day, "Fri, Dec 18, 22:00 – Sat, Dec 19, 04:00 MST" across midnight; a later zone leaves
    out its start day when it is the start day of the zone before it (and its year, as
    `texts` does)."""
    out: list[str] = []
    previous: datetime | None = None
    first: datetime | None = None
    for name in zones.names():
        a, b = in_zone(start, name), in_zone(end, name)
        with_year = (
            _year_wanted(a, year, this_year) if first is None else year and a.year != first.year
        )
        same_start_day = previous is not None and a.date() == previous.date()
        names = _zone_pair(a, b, language)
        if a.date() == b.date():
            times = f"{clock(a)}–{clock(b)}"
            text = (
                times
                if same_start_day
                else joined(day(a, language, year=with_year), times, language)
            )
        else:
            begin = clock(a) if same_start_day else at(a, language, year=with_year)
            text = f"{begin} – {at(b, language, year=year and b.year != a.year)}"
        text = f"{text} {names}"
        if text not in out:
            out.append(text)
        previous = a
        first = first or a
    return out


def span(
    start: str | datetime,
    end: str | datetime,
    zones: Zones,
    language: str = "en",
    *,
    year: bool = True,
    this_year: int | None = None,
    separator: str = SEPARATOR,
) -> str:
    return separator.join(span_texts(start, end, zones, language, year=year, this_year=this_year))
