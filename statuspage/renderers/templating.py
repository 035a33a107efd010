"""Jinja filters and globals shared by every page and email template."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale, gettext, ngettext
from markupsafe import Markup
from werkzeug.routing import BuildError

from calendars.rule_words import describe, zone_label
from statuspage import channels, clock, moments
from statuspage.i18n import (
    DEFAULT_CHAT_HOURS,
    EDITED_NOTE,
    ORIGINAL_NOTE,
    VOCABULARY_LABELS,
    version_of,
)
from statuspage.models.vocab import PRIORITIES
from statuspage.renderers import markdown


def provider_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["STATUSPAGE_TIMEZONE"])


def _zones() -> moments.Zones:
    """The zones a page writes a moment in: the provider's (MT), then UTC in small print;
    the reader's own zone is put first by static/localtime.js where the browser knows it."""
    return moments.Zones(current_app.config["STATUSPAGE_TIMEZONE"])


def format_mt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the provider's zone with its abbreviation (MST/MDT), e.g. 2026-12-18 22:00 MST
    (staff pages' plain stamps)."""
    if value is None:
        return ""
    local = moments.in_zone(value, _zones().provider)
    return f"{local.strftime(fmt)} {local.tzname()}"


def format_utc(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return moments.in_zone(value, "UTC").strftime(fmt) + " UTC"


# Compact times for pages, written by `statuspage.moments` as every renderer writes them: the
# provider's zone (MT) in the reader's language, UTC beside it in small print, and the
# reader's own zone put first by static/localtime.js where the browser knows it and it is not
# MT. The year is left out when it is the current one.


def _locale() -> str:
    return str(get_locale() or "en")


def _this_year() -> int:
    return moments.in_zone(clock.now(), _zones().provider).year


def _zoned(iso: str, texts: list[str], until: str | None = None) -> Markup:
    """The provider's text in a `<time>` (the script's anchor), the others in small print."""
    head = (
        Markup('<time datetime="{iso}" data-until="{until}" class="when">{text}</time>')
        if until
        else Markup('<time datetime="{iso}" class="when">{text}</time>')
    ).format(iso=iso, until=until, text=texts[0])
    rest = Markup("").join(
        Markup('<span class="utc"> · {}</span>').format(text) for text in texts[1:]
    )
    return head + rest


def format_when(value: datetime | None) -> Markup:
    """One moment: `Fri, Dec 18, 22:00 MST · Sat, Dec 19, 05:00 UTC` (the UTC part without its
    day when it is MT's)."""
    if value is None:
        return Markup("")
    texts = moments.texts(value, _zones(), _locale(), this_year=_this_year())
    return _zoned(isoformat(value), texts)


def format_span(start: datetime | None, end: datetime | None) -> Markup:
    """A window: `Fri, Dec 18, 22:00–23:30 MST · Sat, Dec 19, 05:00–06:30 UTC`, or with both
    days when it crosses midnight: `Fri, Dec 18, 22:00 – Sat, Dec 19, 04:00 MST · ...`."""
    if start is None or end is None:
        return format_when(start or end)
    texts = moments.span_texts(start, end, _zones(), _locale(), this_year=_this_year())
    return _zoned(isoformat(start), texts, until=isoformat(end))


def format_clock(value: datetime | None) -> Markup:
    """A time of day in the provider's zone, as the month grid lists a window: `22:00 MST`
    (the script writes it in the reader's zone)."""
    if value is None:
        return Markup("")
    local = moments.in_zone(value, _zones().provider)
    return Markup('<time datetime="{}" class="cal-time">{} {}</time>').format(
        isoformat(value), moments.clock(local), moments.abbreviation(local, _locale())
    )


def format_day(value: datetime | date, *, year: bool = True) -> str:
    """A day in the reader's words, as every renderer writes one: `Fri, Nov 20, 2026`."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(12))
    return moments.day(value, _locale(), year=year)


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


# The defaults of the settings that are text (`text_setting`), catalog messages.
TEXT_SETTING_DEFAULTS = {"SUPPORT_CHAT_HOURS": DEFAULT_CHAT_HOURS}

# Each language named in itself, for the switch.
LANGUAGE_NAMES = {"en": "English", "es": "Español", "de": "Deutsch"}
# The pages whose words follow the reader's language: a `?lang=` chosen on one of them is
# carried on by their links to each other (`carry_language`).
LANGUAGE_BLUEPRINTS = ("public", "maintenance", "feeds", "subscriptions", "embed")
# The feeds and calendars (`views.feeds`).
FEEDS_BLUEPRINT = "feeds"


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
    carries the choice instead. A link to a feed or a calendar carries the page's language
    however it was chosen (English, the default, needs none): the program that reads it
    sends no language of the reader's."""
    blueprint = endpoint.split(".", 1)[0]
    if "lang" in values or blueprint not in LANGUAGE_BLUEPRINTS:
        return
    view = current_app.view_functions.get(endpoint)
    spec = getattr(view, "publication", None)
    if spec is not None and not spec.by_language:
        return  # a script, an API answer: the same bytes in every language
    lang = carried_language()
    if lang is None and blueprint == FEEDS_BLUEPRINT and has_request_context():
        page = str(get_locale() or "")
        if (
            page in current_app.config["LANGUAGES"]
            and page != current_app.config["BABEL_DEFAULT_LOCALE"]
        ):
            lang = page
    if lang is not None:
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


def text_setting(name: str) -> str:
    """A setting that is text a reader reads (SUPPORT_CHAT_HOURS) in the page's language:
    the language's own setting (`<name>_ES`, `<name>_DE`) where one is set, else the default
    value in the language's words (the catalogs have it), else the value as written."""
    config = current_app.config
    language = _locale()
    if language != config["BABEL_DEFAULT_LOCALE"]:
        own = str(config.get(f"{name}_{language.upper()}") or "").strip()
        if own:
            return own
    value = str(config.get(name) or "").strip()
    default = TEXT_SETTING_DEFAULTS.get(name)
    if default is not None and value == default:
        said: str = gettext(default)
        return said
    return value


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
        time_of_day=format_clock,
        day=format_day,
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
        text_setting=text_setting,
        moment_glue=lambda: moments.glue(_locale()),
    )
    app.url_defaults(carry_language)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
