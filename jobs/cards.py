"""Notices as chat cards: a Microsoft Teams Adaptive Card, a Slack Block Kit message.

Pure functions of a notice's payload (the one the email is made from, links made absolute)
and of the reader's language: no database, no HTTP. `jobs.delivery` posts the result to the
channel's incoming webhook through the same outbox as mail and webhooks.

What a card says, for incidents and every maintenance notice the email has: the heading of
the notice and its title, the status, the priority (and the master case with its support
case number), the affected platforms, the times in the provider's zone (MT) and UTC, the
latest update's text or the window's description, a link to the incident or maintenance
page, and a link to manage (or leave) the subscription. A channel's welcome card (its
confirmation: an incoming webhook cannot echo a token, so a welcome card answered 2xx
confirms it) says what the channel will receive.

Text from staff (titles, update text, platform names) can never break a card or ping a
channel:
- Markdown is rendered and sanitised, then reduced to plain text (`markdown.plain`): no HTML
  or script survives; control characters, bidirectional overrides and zero-width characters
  are removed; one-line fields lose their line breaks; everything is cut to the tool's limits;
- Slack: `&`, `<` and `>` are escaped in every mrkdwn text (so `<!channel>`, `<@U1>` and
  `<http://x|y>` are shown, never parsed), `@channel`/`@here`/`@everyone` are broken with a
  word joiner, and the header's plain text has no angle brackets; limits are Block Kit's:
  header 150 characters, section text 3000, section fields 10 of 2000, context 10 elements,
  button text 75, 50 blocks;
- Teams: staff text goes only into `TextRun`s, which Adaptive Cards never read as Markdown,
  and `{{` is broken so no template function (`{{DATE(...)}}`) is evaluated; mentions in
  Teams need an explicit entity, which a card never carries.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import nh3

from statuspage import markdown
from statuspage.i18n import ORIGINAL_NOTE, version_of
from statuspage.i18n import language as in_language
from statuspage.mail.render import three_zones
from statuspage.mail.wording import PHRASES, status_word

TEAMS_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_VERSION = "1.4"  # what Teams incoming webhooks and Workflows render
WELCOME_KIND = "webhook_verification"

# Block Kit's limits (Slack's reference for blocks and composition objects).
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
SLACK_FIELD_MAX = 2000
SLACK_FIELDS_MAX = 10
SLACK_BLOCKS_MAX = 50
SLACK_BUTTON_TEXT_MAX = 75
SLACK_URL_MAX = 3000
# Adaptive Cards have no per-field limit; a Teams message must stay under about 28 KB, so a
# card is kept under 24 KB of JSON (UTF-8) by cutting its longest texts.
TEAMS_TEXT_MAX = 5000
TEAMS_LINE_MAX = 500
TEAMS_BYTES_MAX = 24_000

# Control characters (but tab and newline), DEL and C1, line/paragraph separators, zero-width
# characters, bidirectional overrides and isolates, lone surrogates (not encodable) and
# specials and non-characters at the end of the BMP.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\uffff]"
)
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Broken wherever they start a word ("@everyone1" too: a cut could end it there).
_BROADCAST = re.compile(r"@(channel|here|everyone)", re.IGNORECASE)


def clean_text(value: str | None, limit: int) -> str:
    """Staff Markdown as plain text: sanitised, visible characters and line breaks only."""
    # Invisible characters go first: a lone surrogate cannot even be rendered.
    text = markdown.plain(_INVISIBLE.sub("", value or ""))
    # Markdown keeps raw HTML as text; a card shows no HTML, so tags (and scripts) go.
    text = html.unescape(nh3.clean(text, tags=set())) if "<" in text else text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.replace("\t", " "))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n")))
    return _cut(text.strip(), limit)


def clean_line(value: str | None, limit: int) -> str:
    """A one-line field (a title, a name): no line breaks, no invisible characters."""
    text = _INVISIBLE.sub("", _SPACES.sub(" ", str(value or "")))
    return _cut(text.strip(), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


@dataclass(frozen=True)
class Links:
    """Absolute links of one card: the page of the incident or window, and the subscriber's
    manage page (where the channel is unsubscribed too)."""

    details: str
    manage: str


@dataclass(frozen=True)
class Summary:
    """What a card says, in the reader's language, as plain text (not yet escaped)."""

    heading: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    # (label or "", text) paragraphs: the update's text, the window's description...
    sections: list[tuple[str, str]] = field(default_factory=list)
    details_label: str = ""
    manage_label: str = ""
    attention: bool = False


def _when(value: str, provider_tz: str, lang: str) -> str:
    return three_zones(value, provider_tz, "UTC", lang)


def summary(
    payload: Mapping[str, Any],
    *,
    language: str,
    provider_tz: str,
    topics: Sequence[str] = (),
    site_name: str = "",
) -> Summary:
    """The card's content for a notice `payload` (`kind` says which), or for the welcome card
    (kind `webhook_verification`; `topics` names what the channel will receive)."""
    kind = str(payload.get("kind") or "")
    lang = language if language in ("en", "es", "de") else "en"
    with in_language(lang) as _:
        labels = {
            "details": _("Details"),
            "manage": _("Manage your subscription"),
        }
        if kind == WELCOME_KIND:
            names = ", ".join(clean_line(t, 200) for t in topics) or "-"
            return Summary(
                heading=_("Channel subscribed"),
                title=clean_line(site_name, 200),
                sections=[
                    (
                        "",
                        _(
                            "This channel will receive the notices of %(topics)s: incidents "
                            "and maintenance, as they are published.",
                            topics=names,
                        ),
                    )
                ],
                details_label=labels["details"],
                manage_label=labels["manage"],
            )
        if kind not in PHRASES:
            raise ValueError(f"no card for notice kind {kind!r}")
        heading = _(PHRASES[kind])
        if kind.startswith("incident"):
            return _incident(payload, kind, heading, labels, lang, provider_tz, _)
        if kind.startswith("maintenance"):
            return _maintenance(payload, kind, heading, labels, lang, provider_tz, _)
        raise ValueError(f"no card for notice kind {kind!r}")


def _incident(
    payload: Mapping[str, Any],
    kind: str,
    heading: str,
    labels: Mapping[str, str],
    lang: str,
    provider_tz: str,
    _: Any,
) -> Summary:
    incident = payload["incident"]
    update = payload["update"]
    facts = [(_("Status"), status_word(str(update.get("status", "")), lang))]
    priority = clean_line(incident.get("priority"), 20)
    if incident.get("is_master_case"):
        case = clean_line(incident.get("case_number"), 60)
        master = _("Master case P1G")
        priority = f"{master} · {_('Case number')} {case}" if case else master
    if priority:
        facts.append((_("Priority"), priority))
    facts.append((_("Date and time"), _when(update["at"], provider_tz, lang)))
    if update.get("etr"):
        facts.append((_("Estimated time of resolution"), _when(update["etr"], provider_tz, lang)))
    platforms = [clean_line(p, 120) for p in payload.get("platforms") or []]
    if platforms:
        facts.append((_("Platforms affected"), ", ".join(platforms)))
    # Staff-written text in the reader's language where staff gave it, else the original
    # marked as such.
    title, title_original = version_of(
        str(incident.get("title") or ""), incident.get("title_translations"), lang
    )
    text, text_original = version_of(
        str(update.get("body") or ""), update.get("body_translations"), lang
    )
    if title_original:
        title = f"{title} {_(ORIGINAL_NOTE)}"
    body = clean_text(text, TEAMS_TEXT_MAX)
    if body and text_original:
        body = f"{_(ORIGINAL_NOTE)}\n{body}"
    if payload.get("correction"):
        heading = f"{_('Correction')}: {heading}"
    return Summary(
        heading=heading,
        title=clean_line(title, 300),
        facts=facts,
        sections=[("", body)] if body else [],
        details_label=labels["details"],
        manage_label=labels["manage"],
        attention=kind != "incident_resolved",
    )


def _maintenance(
    payload: Mapping[str, Any],
    kind: str,
    heading: str,
    labels: Mapping[str, str],
    lang: str,
    provider_tz: str,
    _: Any,
) -> Summary:
    window = payload["window"]

    def when(value: str) -> str:
        return _when(value, provider_tz, lang)

    facts = [(_("Status"), heading)]
    span = f"{when(window['starts_at'])} – {when(window['ends_at'])}"
    if kind == "maintenance_completion":
        facts += [
            (_("Started"), when(window["starts_at"])),
            (_("Completed"), when(window["ends_at"])),
        ]
    else:
        facts.append((_("Date and time"), span))
    if window.get("previous_starts_at"):
        before = f"{when(window['previous_starts_at'])} – {when(window['previous_ends_at'])}"
        facts.append((_("Previously"), before))
    platforms = [clean_line(p, 120) for p in window.get("platforms") or []]
    facts.append((_("Platforms affected"), ", ".join(platforms) or "-"))
    if window.get("removed_platforms"):
        removed = ", ".join(clean_line(p, 120) for p in window["removed_platforms"])
        facts.append((_("No longer affected"), removed))
    sections: list[tuple[str, str]] = []
    if kind == "maintenance_release_notes" and window.get("release_notes"):
        sections.append(
            (_("Added features and functionality"), clean_text(window["release_notes"], 2500))
        )
    for key, label in (
        ("description", _("Description of the work")),
        ("justification", _("Justification")),
        ("urgency", _("Why it cannot wait")),
        ("note", _("Note")),
    ):
        text = clean_text(window.get(key), 2500)
        if text:
            sections.append((label, text))
    if window.get("impact") == "none":
        sections.append(("", _("No customer impact is expected.")))
    return Summary(
        heading=heading,
        title=clean_line(window.get("title"), 300),
        facts=facts,
        sections=sections,
        details_label=labels["details"],
        manage_label=labels["manage"],
    )


# --- Microsoft Teams ----------------------------------------------------------------


def _teams_text(text: str) -> str:
    # Adaptive Card templating reads `{{...}}` (DATE, TIME) in text: never let it.
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": _teams_text(text), **style}


def teams_card(content: Summary, links: Links) -> dict[str, Any]:
    """A Teams message with one Adaptive Card attachment (what incoming webhooks and
    Workflows take). Staff text is only ever in `TextRun`s, which are not Markdown."""
    body: list[dict[str, Any]] = [
        {
            "type": "RichTextBlock",
            "inlines": [_run(content.heading, weight="Bolder", color="Accent")],
        },
        {
            "type": "RichTextBlock",
            "inlines": [
                _run(
                    _cut(content.title, TEAMS_LINE_MAX),
                    weight="Bolder",
                    size="Large",
                    color="Attention" if content.attention else "Default",
                )
            ],
        },
    ]
    for label, value in content.facts:
        body.append(
            {
                "type": "RichTextBlock",
                "spacing": "Small",
                "inlines": [
                    _run(f"{label}: ", weight="Bolder"),
                    _run(_cut(value, TEAMS_LINE_MAX * 4)),
                ],
            }
        )
    for label, text in content.sections:
        block: dict[str, Any] = {"type": "RichTextBlock", "separator": True, "inlines": []}
        if label:
            block["inlines"].append(_run(f"{label}\n", weight="Bolder"))
        block["inlines"].append(_run(_cut(text, TEAMS_TEXT_MAX)))
        body.append(block)
    actions = [
        {"type": "Action.OpenUrl", "title": content.details_label, "url": links.details},
        {"type": "Action.OpenUrl", "title": content.manage_label, "url": links.manage},
    ]
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": ADAPTIVE_CARD_VERSION,
        "body": body,
        "actions": actions,
    }
    message = {
        "type": "message",
        "attachments": [{"contentType": TEAMS_CONTENT_TYPE, "content": card}],
    }
    runs = [run for block in body for run in block["inlines"]]
    while len(json.dumps(message, ensure_ascii=False).encode()) > TEAMS_BYTES_MAX:
        longest = max(runs, key=lambda run: len(run["text"].encode()))
        if len(longest["text"]) <= 1:
            break  # nothing left to cut (cannot happen with the card's few fixed parts)
        longest["text"] = _cut(longest["text"], len(longest["text"]) // 2)
    return message


# --- Slack --------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text for a mrkdwn field: the three control characters escaped as Slack asks, and the
    broadcast words broken, so nothing in it is read as a link, a mention or a command."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def _escaped_cut(text: str, limit: int) -> str:
    """Escape, then cut to `limit` without splitting an entity."""
    escaped = slack_escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]  # never half an entity
    return cut.rstrip() + "…"


def _plain(text: str, limit: int) -> str:
    """A `plain_text` object's text: never parsed by Slack, and without angle brackets."""
    return _cut(text.replace("<", "\u2039").replace(">", "\u203a"), limit)


def _slack_url(url: str) -> str:
    """A link for `<url|label>`: the characters that would end it are percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")[:SLACK_URL_MAX]


def slack_message(content: Summary, links: Links) -> dict[str, Any]:
    """A Slack Block Kit message for an incoming webhook: `text` (the notification's and
    screen readers' fallback) and `blocks`."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _plain(f"{content.heading}: {content.title}", SLACK_HEADER_MAX),
                "emoji": False,
            },
        }
    ]
    if content.facts:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": f"*{slack_escape(label)}*\n"
                        + _escaped_cut(value, SLACK_FIELD_MAX - len(slack_escape(label)) - 4),
                    }
                    for label, value in content.facts[:SLACK_FIELDS_MAX]
                ],
            }
        )
    for label, text in content.sections[: SLACK_BLOCKS_MAX - 4]:
        head = f"*{slack_escape(label)}*\n" if label else ""
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": head + _escaped_cut(text, SLACK_SECTION_MAX - len(head)),
                },
            }
        )
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {
                        "type": "plain_text",
                        "text": _plain(content.details_label, SLACK_BUTTON_TEXT_MAX),
                    },
                    "url": _slack_url(links.details),
                },
            ],
        }
    )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"<{_slack_url(links.manage)}|{slack_escape(content.manage_label)}>",
                }
            ],
        }
    )
    fallback = _escaped_cut(f"{content.heading}: {content.title}", SLACK_SECTION_MAX)
    return {"text": fallback, "blocks": blocks}


def build(
    mode: str,
    payload: Mapping[str, Any],
    *,
    language: str,
    provider_tz: str,
    links: Links,
    topics: Sequence[str] = (),
    site_name: str = "",
) -> dict[str, Any]:
    """The message for a channel subscriber of `mode` ("teams" or "slack")."""
    content = summary(
        payload, language=language, provider_tz=provider_tz, topics=topics, site_name=site_name
    )
    if mode == "teams":
        return teams_card(content, links)
    if mode == "slack":
        return slack_message(content, links)
    raise ValueError(f"no card for mode {mode!r}")
