"""Notice emails from templates: subject, plain text and HTML, in the reader's language.

Every time is given in the provider's zone (MT), in UTC and in the subscriber's own zone.
Links that differ per recipient are left as tags (-manage_url-, -unsubscribe_url-) for the
mailer to fill.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from statuspage import markdown
from statuspage.mail import header_text
from statuspage.mail.wording import status_word, words

TEMPLATES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "templates", "email"
)
KINDS = {
    "incident_created",
    "incident_updated",
    "incident_resolved",
    "maintenance_week_before",
    "maintenance_day_before",
    "maintenance_start",
    "maintenance_completion",
    "maintenance_rescheduled",
    "maintenance_cancelled",
    "maintenance_narrowed",
    "maintenance_no_longer_affected",
    "maintenance_release_notes",
    "maintenance_scheduled",
    "subscription_confirm",
    "p1g_overdue",
}
# Mail to staff: no subscription behind it, so no manage or unsubscribe links.
STAFF_KINDS = {"p1g_overdue"}

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["markdown"] = markdown.render
_env.filters["plain"] = markdown.plain


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def three_zones(
    value: str | datetime, provider_tz: str, reader_tz: str, language: str = "en"
) -> str:
    """'Fri 2026-12-18 22:00 MST · Sat 2026-12-19 05:00 UTC · Sat 2026-12-19 06:00 CET'."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    parts = []
    for zone in (provider_tz, "UTC", reader_tz):
        local = moment.astimezone(ZoneInfo(zone) if zone != "UTC" else UTC)
        day = format_datetime(local, "EEE yyyy-MM-dd HH:mm", locale=language)
        text = f"{day} {local.tzname()}"
        if text not in parts:
            parts.append(text)
    return " · ".join(parts)


def render_notice(
    payload: Mapping[str, Any], language: str, tz_name: str, provider_tz: str = "America/Denver"
) -> RenderedMail:
    kind = payload.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    w = words(language)
    family = (
        "incident"
        if kind.startswith("incident")
        else "maintenance"
        if kind.startswith("maintenance")
        else kind
    )

    def when(value: str) -> str:
        return three_zones(
            value, provider_tz, tz_name, language if language in ("en", "es", "de") else "en"
        )

    context = {
        "p": payload,
        "w": w,
        "kind": kind,
        "when": when,
        "status_word": lambda s: status_word(s, language),
        "lang": language,
        "subscriber_mail": kind not in STAFF_KINDS,
    }
    subject = _env.get_template(f"{family}.subject.txt").render(context).strip()
    return RenderedMail(
        subject=header_text(subject),
        text=_env.get_template(f"{family}.txt").render(context).strip() + "\n",
        html=_env.get_template(f"{family}.html").render(context),
    )
