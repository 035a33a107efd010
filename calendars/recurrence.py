"""Recurrence of maintenance series: RFC 5545 rules expanded in the provider's local time.

A rule is kept as the text of an RRULE value (``FREQ=MONTHLY;BYDAY=FR;BYSETPOS=3``) anchored
at a local start (``DTSTART;TZID=America/Denver``). Occurrences keep their wall-clock time
across daylight saving changes, as calendar clients do: the third Friday of January and of
July both start at 22:00 local even though their UTC offsets differ.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

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
        until = parse_until(parts["UNTIL"], first_start.tzinfo)
        parts["UNTIL"] = until.replace(tzinfo=None).strftime("%Y%m%dT%H%M%S")
        text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        result = rrulestr(text, dtstart=first_start.replace(tzinfo=None))
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleError(f"not a valid recurrence rule: {exc}") from None
    if not isinstance(result, rrule):
        raise RuleError("give one rule, not a set")
    return result


def parse_until(value: str, tz: tzinfo | None) -> datetime:
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
