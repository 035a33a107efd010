"""The signed links a subscriber is given: manage, unsubscribe and the personal calendar
(an HMAC over the subscriber's id and token version, per purpose), and the expiring tokens
of the confirmation and code pages (itsdangerous). None can be forged or guessed, and every
one dies when the subscriber's token version is raised (unsubscribing)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from functools import lru_cache
from typing import Any, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from statuspage.models import Subscriber
from statuspage.services.errors import NotFound

# A personal calendar's link has its own purpose: it is handed to calendar services, and
# whoever holds it can read the calendar but not manage the subscription.
LINK_PURPOSES = ("manage", "unsubscribe", "calendar")


class LinkHolder(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def token_version(self) -> int: ...


def _serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"subscriptions.{purpose}")


def make_token(secret: str, purpose: str, subscriber: Subscriber, **extra: Any) -> str:
    """A signed token naming the subscriber (and `extra`), for links with an expiry check."""
    return _serializer(secret, purpose).dumps(
        {"s": subscriber.id, "v": subscriber.token_version, **extra}
    )


@lru_cache(maxsize=32)
def _link_key(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"subscriptions.{purpose}\0{secret}".encode()).digest()


def _link_signature(secret: str, purpose: str, message: str) -> str:
    # hmac.digest is the one-shot C path: a notice signs two links per recipient.
    digest = hmac.digest(_link_key(secret, purpose), message.encode(), "sha256")
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def link_token(secret: str, purpose: str, subscriber: Subscriber | LinkHolder) -> str:
    """`id.version.signature` for manage and unsubscribe links: an HMAC-SHA256 over the
    subscriber's id and token version with a key derived per purpose.

    No payload to parse and cheap to make for every recipient of a notice.
    """
    message = f"{subscriber.id}.{subscriber.token_version}"
    return f"{message}.{_link_signature(secret, purpose, message)}"


def _check_link(secret: str, purpose: str, token: str) -> tuple[int, int]:
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) < 19 for p in parts[:2]):
        raise NotFound("token")
    expected = _link_signature(secret, purpose, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected, parts[2]):
        raise NotFound("token")
    return int(parts[0]), int(parts[1])


def _subscriber_from(session: Session, subscriber_id: Any, version: Any) -> Subscriber:
    if not isinstance(subscriber_id, int) or not 0 < subscriber_id < 2**63:
        raise NotFound("token")
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.token_version != version:
        raise NotFound("token")
    return subscriber


def read_token(
    session: Session,
    secret: str,
    purpose: str,
    token: str,
    *,
    max_age: timedelta | None = None,
) -> tuple[Subscriber, dict[str, Any]]:
    """The subscriber a token names, or NotFound for a forged, expired or stale token."""
    if purpose in LINK_PURPOSES:
        subscriber_id, version = _check_link(secret, purpose, token)
        return _subscriber_from(session, subscriber_id, version), {}
    try:
        data = _serializer(secret, purpose).loads(
            token, max_age=int(max_age.total_seconds()) if max_age else None
        )
    except (BadSignature, SignatureExpired):
        raise NotFound("token") from None
    if not isinstance(data, dict):
        raise NotFound("token")
    return _subscriber_from(session, data.get("s"), data.get("v")), data


def manage_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    return f"/subscriptions/manage/{link_token(secret, 'manage', subscriber)}"


def unsubscribe_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    return f"/subscriptions/unsubscribe/{link_token(secret, 'unsubscribe', subscriber)}"


def calendar_path(secret: str, subscriber: Subscriber | LinkHolder) -> str:
    """The subscriber's personal maintenance calendar; dies with the manage link."""
    return f"/subscriptions/calendar/{link_token(secret, 'calendar', subscriber)}.ics"
