"""Jinja filters and globals shared by every page and email template."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask, current_app, request
from flask_babel import get_locale, gettext

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
    )
    app.jinja_env.globals.update(
        priorities=PRIORITIES, now=clock.now, get_locale=get_locale, language_links=language_links
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
