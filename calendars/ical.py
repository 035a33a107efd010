"""The maintenance calendar as RFC 5545 iCalendar.

A recurring series is one VEVENT with an RRULE in the provider's zone (with its VTIMEZONE);
an occurrence changed by staff is a VEVENT with the series' UID and a RECURRENCE-ID; a
cancelled occurrence is an EXDATE on the series; a one-off window is a single VEVENT.
Nothing here reads the clock: DTSTAMP is each event's stored last-modified time, so the same
data always gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar

from calendars.recurrence import parse_rule, parse_until, to_local
from calendars.timezones import vtimezone

PRODID = "-//Network Status//Maintenance Calendar//EN"

# RFC 5545 TEXT holds no CONTROL (%x00-08, %x0A-1F, %x7F) but tab and the escaped line break;
# surrogates and U+FFFE / U+FFFF have no UTF-8 form a client would read.
_NOT_ICAL = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def ical_text(value: str, *, multiline: bool = False) -> str:
    """`value` safe in any iCalendar text property, whatever a stored row holds.

    icalendar escapes LF and CRLF but writes a lone CR as it is, which ends the content line
    early in clients. Every line break becomes LF (escaped by icalendar) in a multi-line
    property and a space in a single-line one; other control characters are dropped.
    """
    value = _LINE_BREAKS.sub("\n" if multiline else " ", value)
    return _NOT_ICAL.sub("", value)


@dataclass(frozen=True)
class Labels:
    """The fixed words of an event's description, in the calendar's language."""

    platforms: str = "Platforms affected"
    justification: str = "Justification"


@dataclass(frozen=True)
class EventText:
    """What every calendar entry carries: summary, platforms, description, justification."""

    summary: str
    platforms: tuple[str, ...]
    description: str  # plain text (Markdown already reduced to text by the caller)
    justification: str
    url: str = ""
    labels: Labels = Labels()

    def body(self) -> str:
        lines = []
        if self.platforms:
            lines.append(f"{self.labels.platforms}: " + ", ".join(self.platforms))
        if self.description:
            lines += ["", self.description]
        if self.justification:
            lines += ["", f"{self.labels.justification}: " + self.justification]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines).strip()


@dataclass(frozen=True)
class Override:
    """One occurrence of a series changed by staff (moved, extended, annotated, cancelled)."""

    recurrence_id: datetime  # the original local start, aware in the series' zone
    start: datetime  # aware
    end: datetime  # aware
    text: EventText
    sequence: int
    last_modified: datetime
    status: str = "CONFIRMED"  # or TENTATIVE, CANCELLED


@dataclass(frozen=True)
class SeriesEvent:
    uid: str
    rule: str  # RRULE value
    first_start: datetime  # aware, in the series' zone
    duration: timedelta  # wall-clock length: the end is first_start's clock time + duration
    text: EventText
    sequence: int
    last_modified: datetime
    created: datetime
    exdates: Sequence[datetime] = ()  # local starts of cancelled occurrences
    overrides: Sequence[Override] = ()
    transparent: bool = False  # no customer impact: don't block the reader's time


@dataclass(frozen=True)
class SingleEvent:
    uid: str
    start: datetime
    end: datetime
    text: EventText
    sequence: int
    last_modified: datetime
    created: datetime
    status: str = "CONFIRMED"
    transparent: bool = False


@dataclass(frozen=True)
class CalendarInfo:
    name: str
    description: str
    timezone: str
    url: str = ""
    refresh: timedelta = field(default=timedelta(hours=1))
    # A VALARM this long before each event that is not cancelled (see `parse_reminder`).
    reminder: timedelta | None = None


# `?reminder=` of a personal calendar: minutes or hours, from one minute to one week.
_REMINDER = re.compile(r"([1-9][0-9]{0,4})([mh])")
REMINDER_MAX = timedelta(days=7)


def parse_reminder(value: str) -> timedelta:
    """`24h`, `1h`, `15m` -> the timedelta; ValueError for anything else."""
    match = _REMINDER.fullmatch(value)
    if match is None:
        raise ValueError("a reminder is minutes or hours before the start: 15m, 1h, 24h")
    amount = int(match[1])
    before = timedelta(minutes=amount) if match[2] == "m" else timedelta(hours=amount)
    if before > REMINDER_MAX:
        raise ValueError("a reminder is at most one week (168h) before the start")
    return before


def _trigger(before: timedelta) -> str:
    # icalendar writes 24 hours as -P1D, a nominal day; a reminder asked in hours or minutes
    # is exact time, so it is written as asked: -PT24H, -PT90M.
    minutes = int(before.total_seconds()) // 60
    return f"-PT{minutes // 60}H" if minutes % 60 == 0 else f"-PT{minutes}M"


def _alarm(before: timedelta, summary: str) -> icalendar.Alarm:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm["TRIGGER"] = icalendar.vText(_trigger(before))
    alarm.add("description", ical_text(summary))
    return alarm


def _local(value: datetime, tz: ZoneInfo) -> datetime:
    return value.astimezone(tz)


def _wall_end(start_local: datetime, duration: timedelta, tz: ZoneInfo) -> datetime:
    return to_local(start_local.replace(tzinfo=None) + duration, tz)


def _rrule_mapping(rule: str) -> dict[str, object]:
    parts = parse_rule(rule)
    mapping: dict[str, object] = {}
    for name, value in parts.items():
        if name in ("BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYWEEKNO", "BYYEARDAY"):
            mapping[name] = value.split(",")
        elif name in ("INTERVAL", "COUNT"):
            mapping[name] = int(value)
        elif name == "UNTIL":
            mapping[name] = parse_until(value, ZoneInfo("UTC")).astimezone(UTC)
        else:
            mapping[name] = value
    return mapping


def _event(
    uid: str,
    text: EventText,
    sequence: int,
    last_modified: datetime,
    created: datetime | None,
    status: str,
    transparent: bool,
) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", ical_text(uid))
    event.add("dtstamp", last_modified.astimezone(UTC))
    event.add("last-modified", last_modified.astimezone(UTC))
    if created is not None:
        event.add("created", created.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", ical_text(text.summary))
    event.add("description", ical_text(text.body(), multiline=True))
    categories = [c for c in (ical_text(p) for p in text.platforms) if c]
    if categories:
        event.add("categories", categories)
    if text.url:
        event.add("url", ical_text(text.url))
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if transparent else "OPAQUE")
    return event


def build_calendar(
    info: CalendarInfo, series: Sequence[SeriesEvent], singles: Sequence[SingleEvent]
) -> bytes:
    """Render the calendar. Same input, same bytes."""
    tz = ZoneInfo(info.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name, description = ical_text(info.name), ical_text(info.description, multiline=True)
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    cal.add("description", description)
    cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", info.timezone)
    refresh = icalendar.vDuration(info.refresh).to_ical().decode()
    cal.add("refresh-interval", icalendar.vText(refresh), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vText(refresh))
    if info.url:
        cal.add("url", ical_text(info.url))
        cal.add("source", ical_text(info.url), parameters={"VALUE": "URI"})

    starts = [s.first_start for s in series] + [s.start for s in singles]
    if starts:
        # Observances must begin before the earliest event: start a year earlier.
        cal.add_component(vtimezone(info.timezone, min(starts).astimezone(tz).year - 1))

    for s in sorted(series, key=lambda s: s.uid):
        event = _event(
            s.uid, s.text, s.sequence, s.last_modified, s.created, "CONFIRMED", s.transparent
        )
        start = _local(s.first_start, tz)
        event.add("dtstart", start)
        event.add("dtend", _wall_end(start, s.duration, tz))
        event.add("rrule", _rrule_mapping(s.rule))
        for exdate in sorted(s.exdates):
            event.add("exdate", _local(exdate, tz))
        if info.reminder is not None:
            event.add_component(_alarm(info.reminder, s.text.summary))
        cal.add_component(event)
        for o in sorted(s.overrides, key=lambda o: o.recurrence_id):
            child = _event(
                s.uid, o.text, o.sequence, o.last_modified, None, o.status, s.transparent
            )
            child.add("recurrence-id", _local(o.recurrence_id, tz))
            child.add("dtstart", _local(o.start, tz))
            child.add("dtend", _local(o.end, tz))
            # An occurrence's event replaces the series' for it, alarms included.
            if info.reminder is not None and o.status != "CANCELLED":
                child.add_component(_alarm(info.reminder, o.text.summary))
            cal.add_component(child)

    calendar = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert calendar.endswith(end)
    events = b"".join(
        _single_event(e, info.timezone, info.reminder) for e in sorted(singles, key=lambda e: e.uid)
    )
    return calendar[: -len(end)] + events + end


# A one-off event's lines are a pure function of its input: a calendar rendered again after
# a change reuses those of the events that did not change (each is most of a render's time).
@lru_cache(maxsize=4096)
def _single_event(e: SingleEvent, timezone: str, reminder: timedelta | None = None) -> bytes:
    tz = ZoneInfo(timezone)
    event = _event(e.uid, e.text, e.sequence, e.last_modified, e.created, e.status, e.transparent)
    event.add("dtstart", _local(e.start, tz))
    event.add("dtend", _local(e.end, tz))
    if reminder is not None and e.status != "CANCELLED":
        event.add_component(_alarm(reminder, e.text.summary))
    return event.to_ical()


# --- UIDs and invitations ------------------------------------------------------------


def host_of(url: str) -> str:
    """The host part of UIDs, from the site's base URL."""
    return urlsplit(url).netloc or "status.local"


def series_uid(key: str, host: str) -> str:
    """The UID of a series' events: the series event and its occurrences' RECURRENCE-IDs."""
    return f"series-{key}@{host}"


def window_uid(window_id: int, host: str) -> str:
    """The UID of a one-off window's event."""
    return f"window-{window_id}@{host}"


@dataclass(frozen=True)
class Invitation:
    """One window as an iTIP message (RFC 5546) for an email attachment.

    METHOD:PUBLISH, not REQUEST: the event has no attendees and asks for no answer, so mail
    clients offer "add to calendar" rather than Accept / Decline buttons whose replies would
    go to a no-reply address; a later PUBLISH with the same UID and a higher SEQUENCE updates
    the event; METHOD:CANCEL (STATUS:CANCELLED) removes it.
    """

    method: str  # PUBLISH or CANCEL
    uid: str
    recurrence_id: datetime | None  # an occurrence of a series: its original start
    start: datetime
    end: datetime
    timezone: str
    sequence: int
    stamp: datetime  # when the message was made (DTSTAMP)
    text: EventText
    organizer_email: str
    organizer_name: str
    transparent: bool = False


def build_invitation(inv: Invitation) -> bytes:
    """The iTIP message: PRODID, VERSION, METHOD, the zone, and the one VEVENT."""
    tz = ZoneInfo(inv.timezone)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", inv.method)
    starts = [inv.start] + ([inv.recurrence_id] if inv.recurrence_id else [])
    cal.add_component(vtimezone(inv.timezone, min(starts).astimezone(tz).year - 1))
    cancelled = inv.method == "CANCEL"
    event = _event(
        inv.uid,
        inv.text,
        inv.sequence,
        inv.stamp,
        None,
        "CANCELLED" if cancelled else "CONFIRMED",
        inv.transparent,
    )
    # RFC 5546 wants an ORGANIZER in PUBLISH and CANCEL; no ATTENDEE, so no RSVP.
    organizer = icalendar.vCalAddress(f"mailto:{ical_text(inv.organizer_email)}")
    organizer.params["CN"] = icalendar.vText(ical_text(inv.organizer_name))
    event.add("organizer", organizer)
    if inv.recurrence_id is not None:
        event.add("recurrence-id", _local(inv.recurrence_id, tz))
    event.add("dtstart", _local(inv.start, tz))
    event.add("dtend", _local(inv.end, tz))
    cal.add_component(event)
    return cal.to_ical()
