"""The public subscribe page's channels: a webhook, a Microsoft Teams or a Slack channel.

The page names platforms by slug; `subscriptions.subscribe_webhook` takes the rest of the
page's choices (language, time zone, topics) and reports every mistake, the slugs' too, in
one round, writing nothing then.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from statuspage import webhooks
from statuspage.services import subscriptions
from statuspage.services.errors import Errors


def subscribe_channel(
    session: Session,
    *,
    mode: str,
    url: str,
    platforms: Sequence[str] = (),
    topics: Sequence[str] = subscriptions.TOPICS,
    incident_id: int | None = None,
    language: str = "en",
    timezone: str = "America/Denver",
    policy: webhooks.Policy | None = None,
    now: datetime,
) -> subscriptions.WebhookSubscription:
    """Subscribe a channel (`mode` "webhook", "teams" or "slack") from the public page;
    `platforms` are slugs. A URL already subscribed is refused ("is already subscribed": a URL
    is not a mailbox, and its owner holds the manage link). `policy` is the operator's rules
    for endpoints (`webhooks.Policy.from_config`)."""
    errors = Errors()
    return subscriptions.subscribe_webhook(
        session,
        url=url,
        platforms=subscriptions._chosen_platforms(session, errors, platforms),
        incident_id=incident_id,
        mode=mode,
        language=language,
        timezone=timezone,
        topics=topics,
        policy=policy,
        now=now,
        errors=errors,
    )
