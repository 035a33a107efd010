"""Microsoft Teams channels: an Adaptive Card posted to the channel's incoming webhook (or a
Workflows "post to a channel when a webhook request is received" URL).

`{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
"content": {AdaptiveCard 1.4}}]}`. Staff text goes only into `TextRun`s, which Adaptive Cards
never read as Markdown, and `{{` is broken so no template function (`{{DATE(...)}}`) is
evaluated; mentions in Teams need an explicit entity, which a card never carries.
"""

from __future__ import annotations

import json
from typing import Any

from flask_babel import lazy_gettext as _l

from statuspage import endpoints
from statuspage.channels.base import Setting
from statuspage.channels.chat import ChatChannel, Links, Summary, cut
from statuspage.i18n import N_

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_VERSION = "1.4"  # what Teams incoming webhooks and Workflows render
# Adaptive Cards have no per-field limit; a Teams message must stay under about 28 KB, so a
# card is kept under 24 KB of JSON (UTF-8) by cutting its longest texts.
TEXT_MAX = 5000
LINE_MAX = 500
BYTES_MAX = 24_000
# Teams' incoming webhooks (the Office 365 connectors' webhook.office.com) and the Workflows
# app's "Post to a channel when a webhook request is received" (Power Automate:
# logic.azure.com, and environment.api.powerplatform.com for newer flows).
HOSTS = ("*.webhook.office.com", "*.logic.azure.com", "*.environment.api.powerplatform.com")


def _teams_text(text: str) -> str:
    # Adaptive Card templating reads `{{...}}` (DATE, TIME) in text: never let it.
    return text.replace("{{", "{\u200b{").replace("}}", "}\u200b}")


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": _teams_text(text), **style}


def card(content: Summary, links: Links) -> dict[str, Any]:
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
                    cut(content.title, LINE_MAX),
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
                    _run(cut(value, LINE_MAX * 4)),
                ],
            }
        )
    for label, text in content.sections:
        block: dict[str, Any] = {"type": "RichTextBlock", "separator": True, "inlines": []}
        if label:
            block["inlines"].append(_run(f"{label}\n", weight="Bolder"))
        block["inlines"].append(_run(cut(text, TEXT_MAX)))
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
        "attachments": [{"contentType": CONTENT_TYPE, "content": card}],
    }
    runs = [run for block in body for run in block["inlines"]]
    while len(json.dumps(message, ensure_ascii=False).encode()) > BYTES_MAX:
        longest = max(runs, key=lambda run: len(run["text"].encode()))
        if len(longest["text"]) <= 1:
            break  # nothing left to cut (cannot happen with the card's few fixed parts)
        longest["text"] = cut(longest["text"], len(longest["text"]) // 2)
    return message


class Teams(ChatChannel):
    name = "teams"
    position = 20
    label = _l("Microsoft Teams channel")
    choice = _l("Microsoft Teams channel")
    staff_label = _l("Microsoft Teams")
    form_field = "teams_url"
    field_label = _l("Microsoft Teams incoming webhook URL")
    service = "Microsoft Teams"
    hosts_setting = "TEAMS_WEBHOOK_HOSTS"
    wrong_choice = N_("this is a Microsoft Teams URL: choose “Microsoft Teams channel”")
    settings = (Setting(hosts_setting, HOSTS, endpoints.host_list),)

    def message(self, content: Summary, links: Links) -> dict[str, Any]:
        return card(content, links)


CHANNEL = Teams()
