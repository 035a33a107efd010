"""Notice emails from templates: subject, plain text and HTML, in the reader's language
(the same catalogs as the pages: `_()` in templates/email, under the subscriber's locale).

Every time is given in the subscriber's own zone first (the subject's too), then in the
provider's zone (MT) and in UTC, written by `statuspage.moments` as every renderer writes
them; a window is one line per zone. Links that differ per recipient are left as tags
(-manage_url-, -unsubscribe_url-) for the mailer to fill.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from calendars import ical
from statuspage import moments
from statuspage.i18n import ORIGINAL_NOTE, version_of
from statuspage.i18n import language as in_language
from statuspage.mail import Attachment, header_text
from statuspage.renderers import markdown
from statuspage.renderers.wording import PHRASES, status_word, words

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
    "maintenance_short_notice",
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
    attachments: tuple[Attachment, ...] = ()


# Notices after which the window is no longer in the reader's calendar.
CANCELLING_KINDS = {"maintenance_cancelled", "maintenance_no_longer_affected"}


def invitation(
    payload: Mapping[str, Any],
    *,
    site_url: str,
    provider_tz: str,
    organizer_email: str,
    organizer_name: str,
    language: str = "en",
) -> Attachment | None:
    """The window of a maintenance notice as invite.ics (RFC 5546): the published calendar's
    UID (a series occurrence: the series' UID and its RECURRENCE-ID) and SEQUENCE, so a
    reschedule moves the event a reader added and a cancellation removes it."""
    cal = payload.get("calendar")
    window = payload.get("window")
    if not cal or not window or not site_url:
        return None
    host = ical.host_of(site_url)
    if cal.get("series_key"):
        uid = ical.series_uid(cal["series_key"], host)
    else:
        uid = ical.window_uid(window["id"], host)
    method = "CANCEL" if payload.get("kind") in CANCELLING_KINDS else "PUBLISH"
    start = datetime.fromisoformat(window["starts_at"])
    recurrence = cal.get("recurrence_id")
    url = window.get("url", "")
    w = words(language)
    text = ical.EventText(
        summary=window["title"]
        + (f" ({w['no_impact_short']})" if window.get("impact") == "none" else ""),
        platforms=tuple(window.get("platforms", ())),
        description=markdown.calendar_text(window.get("description", "")),
        justification=markdown.calendar_text(window.get("justification", "")),
        url=url if url.startswith("http") else site_url + url,
        labels=ical.Labels(platforms=w["platforms"], justification=w["justification"]),
    )
    body = ical.build_invitation(
        ical.Invitation(
            method=method,
            uid=uid,
            recurrence_id=datetime.fromisoformat(recurrence) if recurrence else None,
            start=start,
            end=datetime.fromisoformat(window["ends_at"]),
            timezone=cal.get("timezone") or provider_tz,
            sequence=int(cal.get("sequence", 0)),
            stamp=datetime.fromisoformat(payload.get("issued_at") or window["starts_at"]),
            text=text,
            organizer_email=organizer_email,
            organizer_name=organizer_name,
            transparent=window.get("impact") == "none",
        )
    )
    return Attachment(
        filename="invite.ics",
        content_type=f"text/calendar; method={method}; charset=UTF-8",
        content=body,
    )


def render_notice(
    payload: Mapping[str, Any],
    language: str,
    tz_name: str,
    provider_tz: str = "America/Denver",
    *,
    site_url: str = "",
    organizer_email: str = "",
    organizer_name: str = "",
) -> RenderedMail:
    """The email of a notice; a maintenance notice carries its window as invite.ics when
    `site_url` (whose host is the calendars' UIDs') is given."""
    kind = payload.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    family = (
        "incident"
        if kind.startswith("incident")
        else "maintenance"
        if kind.startswith("maintenance")
        else kind
    )

    lang = language if language in ("en", "es", "de") else "en"

    # The subscriber's zone first, then MT and UTC.
    zones = moments.Zones(provider_tz, tz_name, reader_first=True)

    def when(value: str) -> str:
        """One moment on one line: "Sat, Dec 19, 2026, 06:00 CET · Fri, Dec 18, 22:00 MST ..."."""
        return moments.written(value, zones, lang)

    def first(value: str) -> str:
        """The moment in the subscriber's zone alone (a subject)."""
        return moments.texts(value, zones, lang)[0]

    def span(start: str, end: str) -> list[str]:
        """A window, one text a zone (one line each)."""
        return moments.span_texts(start, end, zones, lang)

    invite = (
        invitation(
            payload,
            site_url=site_url,
            provider_tz=provider_tz,
            organizer_email=organizer_email,
            organizer_name=organizer_name,
            language=lang,
        )
        if family == "maintenance"
        else None
    )
    with in_language(lang) as gettext:
        context = {
            "p": payload,
            "_": gettext,
            "headings": PHRASES,
            "kind": kind,
            "when": when,
            "first": first,
            "span": span,
            "br": Markup("<br>"),
            "status_word": lambda s: status_word(s, lang),
            "lang": lang,
            "subscriber_mail": kind not in STAFF_KINDS,
            # Staff-written text in the reader's language where staff gave it.
            "version": lambda original, versions: version_of(original or "", versions, lang),
            "original_note": ORIGINAL_NOTE,
        }
        subject = _env.get_template(f"{family}.subject.txt").render(context).strip()
        text = _env.get_template(f"{family}.txt").render(context).strip() + "\n"
        html = _env.get_template(f"{family}.html").render(context)
    return RenderedMail(
        subject=header_text(subject),
        text=text,
        html=html,
        attachments=(invite,) if invite else (),
    )
