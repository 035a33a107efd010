"""Outgoing mail: the Mailer protocol, its message types, and the configured mailer.

No Flask here: a mailer is built from a configuration mapping and used by the delivery job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import idna

from statuspage.channels.base import PermanentFailure, TransientFailure
from statuspage.channels.base import RejectedRecipients as RejectedRecipients

MAX_RECIPIENTS = 1000  # SendGrid's personalizations per request

_NOT_IN_HEADER = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]+")


def header_text(value: str) -> str:
    """`value` fit for a header (subject, display name): one line, no control characters,
    whatever a stored row holds. A line break would start a header of the sender's choosing."""
    return " ".join(_NOT_IN_HEADER.sub(" ", value).split())


def ascii_address(address: str) -> str:
    """`address` as it is sent: an internationalised domain in its ASCII (IDNA) form, the
    rest as it is. A part before the @ that is not ASCII raises ValueError with the reason:
    SendGrid has no SMTPUTF8, so such an address cannot be delivered, and it is never sent
    as an RFC 2047 encoded-word (which names another, non-existent mailbox)."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    if not local.isascii():
        raise ValueError(
            "the part before the @ is not ASCII: no SMTPUTF8 at the mail provider, "
            "so it cannot be delivered"
        )
    if domain.isascii():
        return address
    try:
        return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"the domain has no ASCII (IDNA) form: {exc}") from None


@dataclass(frozen=True)
class MailRecipient:
    email: str
    name: str = ""
    # Values replacing tags such as "-manage_url-" in this recipient's copy.
    substitutions: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    custom_args: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", header_text(self.name))


@dataclass(frozen=True)
class Attachment:
    """A file sent with every copy of a batch, e.g. a maintenance window's invite.ics."""

    filename: str
    content_type: str  # with its parameters: "text/calendar; method=PUBLISH; charset=UTF-8"
    content: bytes


@dataclass(frozen=True)
class MailBatch:
    """One message to up to 1,000 recipients, each with their own links and headers."""

    from_email: str
    from_name: str
    subject: str
    text: str
    html: str
    recipients: Sequence[MailRecipient]
    categories: Sequence[str] = ()
    batch_key: str = ""
    attachments: Sequence[Attachment] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", header_text(self.subject))
        object.__setattr__(self, "from_name", header_text(self.from_name))

    def check(self) -> None:
        if not 1 <= len(self.recipients) <= MAX_RECIPIENTS:
            raise ValueError(
                f"a batch has 1 to {MAX_RECIPIENTS} recipients, not {len(self.recipients)}"
            )


# A mailer's failures are every channel's (`statuspage.channels.base`): what they mean to the
# outbox is the same whatever sends.
TransientMailError = TransientFailure
PermanentMailError = PermanentFailure


class Mailer(Protocol):
    """Sends one batch per call. Delivery calls `send` from several threads at once (one
    request each), so an implementation shares no unguarded state between calls.

    A batch is all or nothing: `send` returns when every recipient's message was accepted;
    it raises `TransientMailError` (try again), `RejectedRecipients` (refused because of
    these recipients: nothing sent) or `PermanentMailError` (refused as a whole). Anything
    else is a bug, with no knowing what was sent."""

    def send(self, batch: MailBatch) -> None: ...


def apply(text: str, substitutions: Mapping[str, str]) -> str:
    for tag, value in substitutions.items():
        text = text.replace(tag, value)
    return text


def mailer_from_config(config: Mapping[str, Any], instance_path: str) -> Mailer:
    """SendGrid when an API key is configured; otherwise .eml files in the instance folder."""
    if config.get("SENDGRID_API_KEY"):
        from statuspage.mail.sendgrid import SendGridMailer

        return SendGridMailer(
            api_key=config["SENDGRID_API_KEY"],
            host=config.get("SENDGRID_HOST") or "https://api.sendgrid.com",
            timeout=float(config.get("SENDGRID_TIMEOUT", 10)),
        )
    from statuspage.mail.files import FileMailer

    return FileMailer(os.path.join(instance_path, "mail"))
