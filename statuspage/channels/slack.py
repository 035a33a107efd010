"""Slack channels: a Block Kit message posted to the channel's incoming webhook.

`{"text": fallback, "blocks": [header, section (fields), section..., actions, context]}`,
within Block Kit's limits: header 150 characters, section text 3000, section fields 10 of
2000, context 10 elements, button text 75, 50 blocks. `&`, `<` and `>` are escaped in every
mrkdwn text (so `<!channel>`, `<@U1>` and `<http://x|y>` are shown, never parsed),
`@channel`/`@here`/`@everyone` are broken with a word joiner, and the header's plain text
has no angle brackets.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask_babel import lazy_gettext as _l

from statuspage import endpoints
from statuspage.channels.base import Setting
from statuspage.channels.chat import ChatChannel, Links, Summary, cut
from statuspage.i18n import N_

# Block Kit's limits (Slack's reference for blocks and composition objects).
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
BLOCKS_MAX = 50
BUTTON_TEXT_MAX = 75
URL_MAX = 3000
# Slack's incoming webhooks.
HOSTS = ("hooks.slack.com",)
# Broken wherever they start a word ("@everyone1" too: a cut could end it there).
_BROADCAST = re.compile(r"@(channel|here|everyone)", re.IGNORECASE)


def escape(text: str) -> str:
    """Text for a mrkdwn field: the three control characters escaped as Slack asks, and the
    broadcast words broken, so nothing in it is read as a link, a mention or a command."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060\\1", escaped)


def _escaped_cut(text: str, limit: int) -> str:
    """Escape, then cut to `limit` without splitting an entity."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    head = escaped[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]  # never half an entity
    return head.rstrip() + "…"


def _plain(text: str, limit: int) -> str:
    """A `plain_text` object's text: never parsed by Slack, and without angle brackets."""
    return cut(text.replace("<", "\u2039").replace(">", "\u203a"), limit)


def _url(url: str) -> str:
    """A link for `<url|label>`: the characters that would end it are percent-encoded."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")[:URL_MAX]


def message(content: Summary, links: Links) -> dict[str, Any]:
    """A Slack Block Kit message for an incoming webhook: `text` (the notification's and
    screen readers' fallback) and `blocks`."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _plain(f"{content.heading}: {content.title}", HEADER_MAX),
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
                        "text": f"*{escape(label)}*\n"
                        + _escaped_cut(value, FIELD_MAX - len(escape(label)) - 4),
                    }
                    for label, value in content.facts[:FIELDS_MAX]
                ],
            }
        )
    for label, text in content.sections[: BLOCKS_MAX - 4]:
        head = f"*{escape(label)}*\n" if label else ""
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": head + _escaped_cut(text, SECTION_MAX - len(head)),
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
                        "text": _plain(content.details_label, BUTTON_TEXT_MAX),
                    },
                    "url": _url(links.details),
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
                    "text": f"<{_url(links.manage)}|{escape(content.manage_label)}>",
                }
            ],
        }
    )
    fallback = _escaped_cut(f"{content.heading}: {content.title}", SECTION_MAX)
    return {"text": fallback, "blocks": blocks}


class Slack(ChatChannel):
    name = "slack"
    position = 30
    label = _l("Slack channel")
    choice = _l("Slack channel")
    staff_label = _l("Slack")
    form_field = "slack_url"
    field_label = _l("Slack incoming webhook URL")
    service = "Slack"
    hosts_setting = "SLACK_WEBHOOK_HOSTS"
    wrong_choice = N_("this is a Slack incoming webhook: choose “Slack channel”")
    settings = (Setting(hosts_setting, HOSTS, endpoints.host_list),)

    def message(self, content: Summary, links: Links) -> dict[str, Any]:
        return message(content, links)


CHANNEL = Slack()
