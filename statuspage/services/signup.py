"""The public subscribe page's channels: a webhook, a Microsoft Teams or a Slack channel.

`subscriptions.subscribe_webhook` makes the subscriber (its URL checked against SSRF, one
subscriber per URL, a verification request or welcome card queued). The page asks a person
for more than the Manage API does, and this module applies it with the same rules as for an
address:
- every mistake of the form is reported in one round: the page's own choices (language,
  time zone, notice topics, platform slugs) together with the URL's and the platforms';
- nothing is written when anything is wrong (the subscriber is made inside a savepoint that
  is rolled back);
- the channel's cards come in the chosen language and show times in the chosen zone; its
  subscriptions carry the chosen topics (incidents, maintenance or both).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.i18n import N_
from statuspage.models import Platform
from statuspage.services import subscriptions, text
from statuspage.services.errors import Errors, ValidationError


class _Invalid(Exception):
    """Rolls the savepoint back when the page's own choices were wrong."""


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
    allow_loopback: bool = False,
    now: datetime,
) -> subscriptions.WebhookSubscription:
    """Subscribe a channel (`mode` "webhook", "teams" or "slack") from the public page.

    `platforms` are slugs. Raises ValidationError with every field error at once and writes
    nothing then; a URL already subscribed is refused by `subscribe_webhook` ("is already
    subscribed": a URL is not a mailbox, and its owner holds the manage link)."""
    errors = Errors()
    if not url.strip():
        errors.add("endpoint", N_("enter the URL"))
    subscriptions._check_language(errors, language)
    subscriptions._check_timezone(errors, timezone)
    topics = list(dict.fromkeys(text.bounded("topics", topics, 2, what="topics")))
    if any(t not in subscriptions.TOPICS for t in topics):
        errors.add("topics", N_("each must be one of incidents, maintenance"))
    known = {p.slug: p for p in session.scalars(select(Platform))}
    slugs = text.bounded("platforms", platforms, what="platforms")
    chosen = [known[s] for s in dict.fromkeys(slugs) if s in known]
    if len(chosen) != len(set(slugs)):
        errors.add("platforms", N_("unknown platform"))
    if incident_id is None and chosen and not topics:
        errors.add("topics", N_("choose incidents, maintenance or both"))
    try:
        with session.begin_nested():
            try:
                hook = subscriptions.subscribe_webhook(
                    session,
                    url=url,
                    # Only unknown slugs: "unknown platform" says it, not "choose at least one".
                    platforms=chosen or ([*known.values()] if slugs else []),
                    incident_id=incident_id,
                    mode=mode,
                    allow_loopback=allow_loopback,
                    now=now,
                )
            except ValidationError as exc:
                for name, message in exc.errors.items():
                    errors.add(name, message)
                raise _Invalid from None
            if errors.errors:
                raise _Invalid
            subscriber = hook.subscriber
            subscriber.language = language
            subscriber.timezone = timezone
            for sub in subscriber.subscriptions:
                if sub.platform_id is not None:
                    sub.incidents = "incidents" in topics
                    sub.maintenance = "maintenance" in topics
            session.flush()
    except _Invalid:
        errors.raise_if_any()
        raise
    return hook
