"""The public subscription forms as the tests fill them in: /subscribe with a reader's
usual choices, and a subscriber's manage page saved. Other modules import these from here."""

from __future__ import annotations

from tests.helpers import csrf_token

__all__ = ["csrf_token", "post_subscribe", "save_manage"]


def post_subscribe(client, **fields):
    """/subscribe posted in English, Denver's zone, incidents and maintenance: `fields`, the
    rest or instead."""
    data = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "language": "en",
        "timezone": "America/Denver",
        "incidents": "y",
        "maintenance": "y",
        **fields,
    }
    return client.post("/subscribe", data=data)


def save_manage(client, manage: str, language: str, timezone: str, *ticked: str):
    """Save the manage page at `manage` with `language`, `timezone` and the boxes `ticked`
    (such as "cisco:incidents")."""
    data = {"csrf_token": csrf_token(client, manage), "language": language, "timezone": timezone}
    return client.post(manage, data={**data, **dict.fromkeys(ticked, "on")})
