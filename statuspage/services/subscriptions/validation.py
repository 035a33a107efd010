"""What every way in (the subscribe page, the manage page, the Manage API, the MPOC import
on the web and at the command line) checks of a subscriber's fields: each mistake is a
field error in the one `Errors`, so all of them are reported in one round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage import channels
from statuspage.channels.base import AddressRefused, Channel
from statuspage.i18n import N_
from statuspage.models import Platform, Subscriber
from statuspage.services import addresses, text
from statuspage.services.errors import Errors

LANGUAGES = ("en", "es", "de")
TOPICS = ("incidents", "maintenance")
NAME_MAX = 120
ORGANISATION_MAX = 200


def check_language(errors: Errors, language: str) -> None:
    if language not in LANGUAGES:
        errors.add("language", N_("must be one of %(choices)s"), choices=", ".join(LANGUAGES))


def check_timezone(errors: Errors, tz: str) -> None:
    try:
        if not tz or len(tz) > 64:
            raise ZoneInfoNotFoundError(tz)
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add("timezone", N_("is not a known time zone"))


def checked_email(errors: Errors, value: str) -> str:
    """The address as stored (`addresses.deliverable`: canonical, and one mail can reach);
    a field error otherwise. Every way in (the subscribe page, the Manage API, the MPOC
    import on the web and at the command line) reads addresses through this."""
    try:
        return addresses.deliverable(value or "")
    except addresses.AddressError as exc:
        errors.add("email", exc.message)
        return ""


def checked_address(
    errors: Errors, channel: Channel, value: str, settings: Mapping[str, Any] | None
) -> str:
    """The address as the channel stores it; a field error (on the channel's address
    field) otherwise."""
    try:
        return channel.check_address(value or "", settings or {})
    except AddressRefused as exc:
        errors.add(channel.address_field, exc.message)
        return ""


def checked_channel(errors: Errors, name: str) -> Channel | None:
    """The channel `name`; a field error (`mode`) for none."""
    found = channels.find(name)
    if found is None:
        errors.add("mode", N_("must be one of %(choices)s"), choices=", ".join(channels.names()))
    return found


def channel_of(subscriber: Subscriber) -> Channel:
    return channels.get(subscriber.mode)


def platforms_by_slug(session: Session) -> dict[str, Platform]:
    return {p.slug: p for p in session.scalars(select(Platform))}


def chosen_platforms(session: Session, errors: Errors, slugs: Sequence[str]) -> list[Platform]:
    """The platforms of a form's slugs, each once; an unknown slug is a field error."""
    known = platforms_by_slug(session)
    chosen: list[Platform] = []
    for slug in text.bounded("platforms", slugs, what="platforms"):
        if slug not in known:
            errors.add("platforms", N_("unknown platform %(name)r"), name=str(slug)[:64])
        elif known[slug] not in chosen:
            chosen.append(known[slug])
    return chosen


def check_topics(errors: Errors, topics: Sequence[str]) -> list[str]:
    topics = text.bounded("topics", topics, len(TOPICS), what="topics")
    if any(t not in TOPICS for t in topics):
        errors.add("topics", N_("each must be one of %(choices)s"), choices=", ".join(TOPICS))
    return list(topics)
