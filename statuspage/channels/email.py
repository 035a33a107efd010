"""Email: SendGrid's v3 Mail Send (or .eml files with no API key), up to 1,000 recipients a
request, each with their own manage and unsubscribe links and RFC 8058 one-click
List-Unsubscribe headers. Confirmed by a link mailed to the address (double opt-in)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from statuspage.channels.base import (
    POSSIBLY_DUPLICATED,
    AddressRefused,
    Channel,
    Prepared,
    Receipt,
    Recipient,
    Sending,
)
from statuspage.mail import MAX_RECIPIENTS, MailBatch, Mailer, MailRecipient, mailer_from_config
from statuspage.renderers.mail import render_notice
from statuspage.services import addresses


@dataclass(frozen=True)
class EmailRequest:
    """One SendGrid request: a mail to up to 1,000 recipients."""

    mail: MailBatch

    def part(self, indexes: Iterable[int]) -> EmailRequest:
        """The same mail to some of its recipients (by index), under its own batch key."""
        keep = sorted(indexes)
        recipients = [self.mail.recipients[i] for i in keep]
        first = recipients[0].custom_args.get("delivery_id", "")
        return EmailRequest(
            dataclasses.replace(
                self.mail,
                recipients=recipients,
                batch_key=f"{self.mail.batch_key.split('-d')[0]}-d{first}",
            )
        )


def recipient(r: Recipient, notice_id: int) -> MailRecipient:
    """One recipient's copy: their links as substitutions, and one-click unsubscribe headers.
    Staff alerts have no subscription behind them: no links, no List-Unsubscribe (their
    templates carry no footer either)."""
    substitutions: dict[str, str] = {}
    headers: dict[str, str] = {}
    if r.manage_url is not None and r.unsubscribe_url is not None:
        substitutions = {"-manage_url-": r.manage_url, "-unsubscribe_url-": r.unsubscribe_url}
        headers = {
            "List-Unsubscribe": f"<{r.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    if r.possibly_duplicated:
        # Sent again after a sender stopped with the request in flight: the recipient's
        # tools can tell, as a webhook's or a card's receiver can (docs/channels.md).
        headers[POSSIBLY_DUPLICATED] = "true"
    return MailRecipient(
        email=r.address,
        name=r.name,
        substitutions=substitutions,
        headers=headers,
        custom_args={"delivery_id": str(r.delivery_id), "notice_id": str(notice_id)},
    )


class Email(Channel):
    name = "email"
    position = 0
    label = _l("Email")
    choice = _l("Email")
    staff_label = _l("Email")
    form_field = "email"
    field_label = _l("Email address")
    input_type = "email"
    address_field = "email"
    api_fields = ("email",)
    api_rules = {"email": "required without an endpoint; an address that can receive mail"}
    confirmation = "link"
    batch_size = MAX_RECIPIENTS
    shared_provider = True
    staff_page = False

    def check_address(self, value: str, settings: Mapping[str, Any]) -> str:
        """`addresses.deliverable`: canonical, and one mail can reach."""
        try:
            return addresses.deliverable(value or "")
        except addresses.AddressError as exc:
            raise AddressRefused(exc.message) from None  # type: ignore[arg-type]

    def mailbox(self, address: str) -> str:
        return addresses.mailbox_key(address)

    def api_view(self, address: str) -> dict[str, str | None]:
        return {"email": address}

    def transport(self, settings: Mapping[str, Any], instance_path: str) -> Mailer:
        return mailer_from_config(settings, instance_path)

    def prepare(self, recipients: Sequence[Recipient], sending: Sending) -> Prepared:
        """One mail in the batch's language and zone; a recipient whose own part (links,
        headers) cannot be made is refused alone."""
        settings = sending.settings
        rendered = render_notice(
            sending.payload,
            sending.language,
            sending.timezone,
            provider_tz=sending.provider_tz,
            site_url=sending.base_url,
            organizer_email=settings["MAIL_FROM"],
            organizer_name=settings["STATUSPAGE_NAME"],
        )
        copies: list[MailRecipient] = []
        kept: list[int] = []
        refused: dict[int, str] = {}
        for index, r in enumerate(recipients):
            try:
                copies.append(recipient(r, sending.notice_id))
                kept.append(index)
            except Exception as exc:  # this recipient's links or headers, not the notice
                refused[index] = f"render: {type(exc).__name__}: {exc}"
        first = recipients[kept[0]].delivery_id if kept else 0
        mail = MailBatch(
            from_email=settings["MAIL_FROM"],
            from_name=settings["STATUSPAGE_NAME"],
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            recipients=copies,
            categories=[sending.kind],
            batch_key=f"n{sending.notice_id}-d{first}",
            attachments=rendered.attachments,
        )
        return Prepared(EmailRequest(mail), kept, refused)

    def send(self, transport: Mailer, outgoing: EmailRequest) -> Receipt | None:  # type: ignore[override]
        transport.send(outgoing.mail)
        return None


CHANNEL = Email()
