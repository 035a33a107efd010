"""One moment written in several zones: the one formatter every renderer uses (pages, mail,
cards, SMS, feeds).

Which zones, in which order, is a parameter (`Zones`): the provider's zone (MT), UTC and,
where it is known, the reader's own. By default the provider's zone leads and the reader's
comes last; `reader_first` puts the reader's first, then MT and UTC (the way a short text
such as an SMS shows it). A zone that would repeat another's words is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

# "Fri 2026-12-18 22:00": mail and cards.
FULL = "EEE yyyy-MM-dd HH:mm"
# "2026-12-18 22:00": feeds and the staff's plain stamps.
PLAIN = "yyyy-MM-dd HH:mm"
SEPARATOR = " · "


@dataclass(frozen=True)
class Zones:
    """The zones a moment is written in: `provider` (the provider's, MT), UTC, and the
    `reader`'s when known; the reader's first when `reader_first`."""

    provider: str
    reader: str | None = None
    reader_first: bool = False
    utc: bool = True

    def names(self) -> tuple[str, ...]:
        rest = (self.provider, *(("UTC",) if self.utc else ()))
        if self.reader is None:
            return rest
        return (self.reader, *rest) if self.reader_first else (*rest, self.reader)


def zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def moment(value: str | datetime) -> datetime:
    """A stored moment (ISO 8601 with its offset, or an aware datetime)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def in_zone(value: str | datetime, name: str) -> datetime:
    return moment(value).astimezone(zone(name))


def clock(local: datetime, pattern: str = FULL, language: str = "en") -> str:
    """A local time in `pattern` (CLDR) in `language`: "Fri 2026-12-18 22:00"."""
    return format_datetime(local, pattern, locale=language)


def stamp(local: datetime, pattern: str = FULL, language: str = "en") -> str:
    """A local time in `pattern` (CLDR) in `language`, with its zone's abbreviation:
    "Fri 2026-12-18 22:00 MST"."""
    return f"{clock(local, pattern, language)} {local.tzname()}"


def stamps(
    value: str | datetime,
    zones: Zones,
    language: str = "en",
    pattern: str = FULL,
    *,
    distinct: bool = True,
) -> list[str]:
    """The moment in each of `zones`, in order; each wording once when `distinct`."""
    out: list[str] = []
    for name in zones.names():
        text = stamp(in_zone(value, name), pattern, language)
        if not distinct or text not in out:
            out.append(text)
    return out


def written(
    value: str | datetime,
    zones: Zones,
    language: str = "en",
    pattern: str = FULL,
    separator: str = SEPARATOR,
) -> str:
    """'Fri 2026-12-18 22:00 MST · Sat 2026-12-19 05:00 UTC · Sat 2026-12-19 06:00 CET'."""
    return separator.join(stamps(value, zones, language, pattern))
