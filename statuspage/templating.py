"""Jinja filters and globals shared by every page and email template."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import get_locale

from statuspage import clock, markdown
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
    return value.replace("_", " ").capitalize()


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        markdown=markdown.render,
        mt=format_mt,
        utc=format_utc,
        iso=isoformat,
        humanize=humanize_status,
    )
    app.jinja_env.globals.update(priorities=PRIORITIES, now=clock.now, get_locale=get_locale)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
