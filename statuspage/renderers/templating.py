"""Jinja filters and globals shared by every page and email template."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale, gettext, ngettext
from markupsafe import Markup
from werkzeug.routing import BuildError

from calendars.rule_words import describe, zone_label
from statuspage import channels, clock, moments
from statuspage.i18n import EDITED_NOTE, ORIGINAL_NOTE, VOCABULARY_LABELS, version_of
from statuspage.models.vocab import PRIORITIES
from statuspage.renderers import markdown


def provider_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])


def _zones() -> moments.Zones:
    """The zones a page writes a moment in: the provider's (MT), then UTC in small print;
    the reader's own zone is added by static/localtime.js where the browser knows it."""
    return moments.Zones(current_app.config["STATUSPAGE_TIMEZONE"])


def _local_and_utc(value: datetime) -> tuple[datetime, datetime]:
    provider, utc = (moments.in_zone(value, name) for name in _zones().names())
    return provider, utc


def format_mt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the provider's zone with its abbreviation (MST/MDT), e.g. 2026-12-18 22:00 MST."""
    if value is None:
        return ""
    local = moments.in_zone(value, _zones().provider)
    return f"{local.strftime(fmt)} {local.tzname()}"


def format_utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return moments.in_zone(value, "UTC").strftime(fmt) + " UTC"


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
    local, utc = _local_and_utc(value)
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
    a, ua = _local_and_utc(start)
    b, ub = _local_and_utc(end)
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


# Staff-written incident text in the reader's language: the version staff gave in it, else
# the original, marked "(original in English)" in the reader's words and tagged with its
# language (`lang="en"`) so a screen reader reads it as English.


def _original_note() -> Markup:
    return Markup('<span class="original-note">{}</span>').format(gettext(ORIGINAL_NOTE))


def _version(original: str, versions: Any) -> tuple[str, bool]:
    return version_of(original or "", versions, _locale())


def incident_title(incident: Any) -> Markup:
    """An incident's title in the reader's language (HTML)."""
    text, marked = _version(incident.title, incident.title_translations)
    if not marked:
        return Markup("{}").format(text)
    return Markup('<span lang="en">{}</span> {}').format(text, _original_note())


def plain_title(incident: Any) -> str:
    """An incident's title in the reader's language, as text (a document title, a name)."""
    return _version(incident.title, incident.title_translations)[0]


def update_body(update: Any) -> Markup:
    """An update's text in the reader's language, rendered and sanitised (HTML)."""
    text, marked = _version(update.body, update.body_translations)
    rendered = markdown.render(text)
    if not marked:
        return rendered
    return Markup('<p class="original-note">{}</p><div lang="en">{}</div>').format(
        gettext(ORIGINAL_NOTE), rendered
    )


def edited_note(update: Any) -> Markup:
    """ " · edited <when>" for an update whose text staff corrected, else nothing."""
    if update.edited_at is None:
        return Markup("")
    return Markup('<span class="edited">{} {}</span>').format(
        gettext(EDITED_NOTE), format_when(update.edited_at)
    )


def isoformat(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


def humanize_status(value: str) -> str:
    """A vocabulary word (a status, an impact) in the reader's language."""
    label: str = gettext(VOCABULARY_LABELS.get(value) or value.replace("_", " ").capitalize())
    return label


def priority_label(code: str) -> str:
    """The support plan's label of a priority code in the reader's language."""
    label: str = gettext(PRIORITIES[code].label)
    return label


def format_month(value: datetime | date) -> str:
    """A month as words in the reader's language: 'December 2026', 'diciembre de 2026'."""
    return format_date(value, "LLLL yyyy", locale=str(get_locale() or "en"))


# Each language named in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "de": "Deutsch"}
# The pages whose words follow the reader's language: a `?lang=` chosen on one of them is
# carried on by their links to each other (`carry_language`).
LANGUAGE_BLUEPRINTS = ("public", "maintenance", "feeds", "subscriptions", "embed")


def carried_language() -> str | None:
    """The language this request chose with `?lang=` (one the site speaks), or None."""
    if not has_request_context():
        return None
    wanted = request.args.get("lang")
    return wanted if wanted in current_app.config["LANGUAGES"] else None


def carry_language(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for` defaults: a link from a page whose language came from `?lang=` to another
    page in the reader's language keeps it. Shared pages never set the `lang` cookie (a
    cookie on a response every reader shares would be handed to all of them), so the URL
    carries the choice instead."""
    lang = carried_language()
    if lang is None or "lang" in values or endpoint.split(".", 1)[0] not in LANGUAGE_BLUEPRINTS:
        return
    view = current_app.view_functions.get(endpoint)
    spec = getattr(view, "publication", None)
    if spec is not None and not spec.by_language:
        return  # a calendar or script: the same bytes in every language
    values["lang"] = lang


def _this_page() -> str | None:
    """The path of this request's route, built from its endpoint and arguments (so quoted
    and on this site), or None when no route answered (a 404, a refused method): the raw
    path is never echoed, as `/\\evil.example/` would leave the site in a browser."""
    if request.url_rule is None or request.endpoint is None or request.endpoint == "static":
        return None
    try:
        # lang=None: the switch writes its own `lang`, not the one carried on.
        path = url_for(request.endpoint, **(request.view_args or {}), lang=None)
    except BuildError:
        return None
    # Built from the route, but a path starting "//" or "/\\" would still name a host.
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return None
    return path


def language_links() -> list[tuple[str, str, str, bool]]:
    """(code, name, link, active) per language: this page and its query, `lang` replaced.

    The query is the one the view reads (`views.caching` cuts a published view's query to
    the parameters it declares), so nothing else of the request reaches a cached page. A
    page without a route links to the home page in each language.
    """
    active = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    path = _this_page()
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] if path else []
    return [
        (
            code,
            LANGUAGE_NAMES.get(code, code),
            f"{path or '/'}?{urlencode([*kept, ('lang', code)])}",
            code == active,
        )
        for code in current_app.config["LANGUAGES"]
    ]


def masked_address(address: str, channel: str) -> str:
    """An address as staff pages show it: as its channel masks it (a channel's URL, a
    phone number), an email address whole."""
    found = channels.find(channel)
    return found.masked(address) if found is not None else address


def _dialled(number: str) -> str:
    """A `tel:` target: the digits with their country code (+1 for a ten-digit North
    American number written without one), so the link dials from abroad too."""
    digits = "".join(c for c in number if c.isdigit())
    if number.strip().startswith("+"):
        return "+" + digits
    return "+1" + digits if len(digits) == 10 else digits


def support_phones() -> list[tuple[str, str, str]]:
    """The support phone numbers for the reader's language, as (number as written, `tel:`
    target, note): the language's own number where one is set (SUPPORT_PHONE_ES,
    SUPPORT_PHONE_DE), then the main one (SUPPORT_PHONE), which a page in another language
    says is toll-free from the US and Canada only."""
    config = current_app.config
    main = str(config.get("SUPPORT_PHONE") or "").strip()
    language = _locale()
    own = str(config.get(f"SUPPORT_PHONE_{language.upper()}") or "").strip()
    found: list[tuple[str, str, str]] = []
    if own and language != config["BABEL_DEFAULT_LOCALE"]:
        found.append((own, _dialled(own), ""))
    if main:
        note = (
            ""
            if language == config["BABEL_DEFAULT_LOCALE"]
            else gettext("toll-free from the US and Canada")
        )
        found.append((main, _dialled(main), note))
    return found


def webcal(path: str) -> str:
    """A calendar subscription link (`webcal://`) to `path` on the site's address
    (STATUSPAGE_URL), never on the host a request named."""
    base = str(current_app.config["STATUSPAGE_URL"]).rstrip("/")
    return "webcal://" + base.split("://", 1)[-1] + path


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
        incident_title=incident_title,
        plain_title=plain_title,
        update_body=update_body,
        edited=edited_note,
    )
    app.jinja_env.globals.update(
        priorities=PRIORITIES,
        now=clock.now,
        get_locale=get_locale,
        language_links=language_links,
        carried_language=carried_language,
        webcal=webcal,
        masked_address=masked_address,
        support_phones=support_phones,
    )
    app.url_defaults(carry_language)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
