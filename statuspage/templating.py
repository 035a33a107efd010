"""Jinja filters and globals shared by every page and email template."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import Flask, current_app, request
from flask_babel import get_locale, gettext, ngettext
from markupsafe import Markup

from calendars.recurrence import describe, zone_label
from statuspage import clock, markdown
from statuspage.i18n import VOCABULARY_LABELS
from statuspage.models.vocab import PRIORITIES


def provider_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])


def format_mt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the provider's zone with its abbreviation (MST/MDT), e.g. 2026-12-18 22:00 MST."""
    if value is None:
        return ""
    local = value.astimezone(provider_zone())
    return f"{local.strftime(fmt)} {local.tzname()}"


def format_utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime(fmt) + " UTC"


# Compact times for pages: the provider's zone (MT) in words of the reader's language, UTC
# beside it in small print, and the reader's own zone added once by static/localtime.js
# where the browser knows it and it differs from MT. The year is left out when it is the
# current one.


def _locale() -> str:
    return str(get_locale() or "en")


def _day(local: datetime) -> str:
    pattern = "EEE d MMM" if local.year == clock.now().year else "EEE d MMM y"
    return format_datetime(local, pattern, locale=_locale())


def _clock(value: datetime) -> str:
    return value.strftime("%H:%M")


def format_when(value: datetime | None) -> Markup:
    """One moment: `Fri 18 Dec, 22:00 MST · 05:00 UTC`, the UTC part with its own date when
    the day differs."""
    if value is None:
        return Markup("")
    local = value.astimezone(provider_zone())
    utc = value.astimezone(UTC)
    utc_text = _clock(utc) if utc.date() == local.date() else f"{_day(utc)}, {_clock(utc)}"
    return Markup(
        '<time datetime="{iso}" class="when">{day}, {clock} {zone}</time>'
        '<span class="utc"> · {utc} UTC</span>'
    ).format(
        iso=isoformat(value),
        day=_day(local),
        clock=_clock(local),
        zone=local.tzname(),
        utc=utc_text,
    )


def format_span(start: datetime | None, end: datetime | None) -> Markup:
    """A window: `Fri 18 Dec, 22:00–23:30 MST · 05:00–06:30 UTC`, or with both days when it
    crosses midnight: `Fri 18 Dec, 22:00 – Sat 19 Dec, 04:00 MST · 05:00–11:00 UTC`."""
    if start is None or end is None:
        return format_when(start or end)
    zone = provider_zone()
    a, b = start.astimezone(zone), end.astimezone(zone)
    ua, ub = start.astimezone(UTC), end.astimezone(UTC)
    zones = a.tzname() if a.tzname() == b.tzname() else f"{a.tzname()}/{b.tzname()}"
    if a.date() == b.date():
        local = f"{_day(a)}, {_clock(a)}–{_clock(b)} {zones}"
    else:
        local = f"{_day(a)}, {_clock(a)} – {_day(b)}, {_clock(b)} {zones}"
    if ua.date() == ub.date():
        utc = f"{_clock(ua)}–{_clock(ub)}"
        if ua.date() != a.date():
            utc = f"{_day(ua)}, {utc}"
    else:
        utc = f"{_day(ua)}, {_clock(ua)} – {_day(ub)}, {_clock(ub)}"
    return Markup(
        '<time datetime="{start}" data-until="{end}" class="when">{local}</time>'
        '<span class="utc"> · {utc} UTC</span>'
    ).format(start=isoformat(start), end=isoformat(end), local=local, utc=utc)


def format_recurrence(series: Any) -> str:
    """A series' rule and hours in the reader's words: "every third Friday of the month,
    22:00–04:00 MT"."""
    tz = ZoneInfo(series.timezone)
    start = series.first_start.astimezone(tz)
    return describe(
        series.rule,
        start,
        start + timedelta(minutes=series.duration_minutes),  # wall clock: same tzinfo
        locale=str(get_locale() or "en"),
        zone=zone_label(tz),
        gettext=gettext,
        ngettext=ngettext,
    )


def isoformat(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def humanize_status(value: str) -> str:
    """A vocabulary word (a status, an impact) in the reader's language."""
    return gettext(VOCABULARY_LABELS.get(value) or value.replace("_", " ").capitalize())


def priority_label(code: str) -> str:
    """The support plan's label of a priority code in the reader's language."""
    return gettext(PRIORITIES[code].label)


def format_month(value: datetime | date) -> str:
    """A month as words in the reader's language: 'December 2026', 'diciembre de 2026'."""
    return format_date(value, "LLLL yyyy", locale=str(get_locale() or "en"))


# Each language named in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "de": "Deutsch"}


def language_links() -> list[tuple[str, str, str, bool]]:
    """(code, name, link, active) per language: this page and its query, `lang` replaced."""
    active = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return [
        (
            code,
            LANGUAGE_NAMES.get(code, code),
            f"{request.path}?{urlencode([*kept, ('lang', code)])}",
            code == active,
        )
        for code in current_app.config["LANGUAGES"]
    ]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=markdown.render,
        mt=format_mt,
        utc=format_utc,
        iso=isoformat,
        humanize=humanize_status,
        priority=priority_label,
        month=format_month,
        when=format_when,
        span=format_span,
        recurrence=format_recurrence,
    )
    app.jinja_env.globals.update(
        priorities=PRIORITIES, now=clock.now, get_locale=get_locale, language_links=language_links
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
