"""The embedded default: each message written as an .eml file, one per recipient.

The headers are the ones SendGrid would send: `List-Unsubscribe` as `<https://...>`, plain
(a mail client cannot use an RFC 2047-encoded one), and only non-ASCII text encoded; the
recipient's address is ASCII (an internationalised domain as IDNA; an address whose part
before the @ is not ASCII is refused, as it cannot be delivered). Like
SendGrid, a batch is all or nothing: every message is built first, and a recipient whose
message cannot be made (an address SendGrid would refuse, a header that does not fit) is
refused with the reason before any file is written (`RejectedRecipients`).
"""

from __future__ import annotations

import os
import tempfile
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from email_validator import EmailNotValidError, validate_email

from statuspage.mail import MailBatch, MailRecipient, RejectedRecipients, apply, ascii_address

# RFC 5322's line limit: headers are not folded (nor encoded to be folded) before it.
POLICY = policy.SMTP.clone(max_line_length=998)


def address_problem(address: str) -> str | None:
    """Why SendGrid would refuse `address` as a recipient (or could not deliver to it: a
    part before the @ that is not ASCII), or None."""
    try:
        validate_email(address, check_deliverability=False)
        ascii_address(address)
    except EmailNotValidError as exc:
        return f"Does not contain a valid address: {exc}"
    except ValueError as exc:
        return f"Cannot be delivered: {exc}"
    return None


class FileMailer:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def send(self, batch: MailBatch) -> None:
        batch.check()
        key = batch.batch_key or make_msgid().strip("<>").split("@")[0]
        messages: list[bytes] = []
        refused: dict[int, str] = {}
        for index, r in enumerate(batch.recipients):
            problem = address_problem(r.email)
            if problem is None:
                try:
                    messages.append(bytes(self._message(batch, r)))
                except Exception as exc:  # this recipient's message, not the batch's
                    problem = f"the message could not be made: {type(exc).__name__}: {exc}"
            if problem is not None:
                refused[index] = problem
        if refused:
            raise RejectedRecipients(
                f"{len(refused)} recipient(s) refused: " + "; ".join(refused.values())[:500],
                refused,
            )
        os.makedirs(self.directory, exist_ok=True)
        for index, raw in enumerate(messages):
            name = f"{key}-{index:04d}.eml"
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.replace(tmp, os.path.join(self.directory, name))

    def _message(self, batch: MailBatch, r: MailRecipient) -> EmailMessage:
        msg = EmailMessage(policy=POLICY)
        msg["From"] = formataddr((batch.from_name, batch.from_email))
        # The address as SendGrid is sent it (the domain in ASCII): never an encoded-word.
        to = ascii_address(r.email)
        msg["To"] = formataddr((r.name, to)) if r.name else to
        msg["Subject"] = apply(batch.subject, r.substitutions)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=batch.from_email.split("@")[-1])
        for name, value in r.headers.items():
            msg[name] = value
        for name, value in r.custom_args.items():
            msg[f"X-Custom-{name}"] = value
        msg.set_content(apply(batch.text, r.substitutions))
        msg.add_alternative(apply(batch.html, r.substitutions), subtype="html")
        for a in batch.attachments:
            kind, *params = (part.strip() for part in a.content_type.split(";"))
            maintype, subtype = kind.split("/")
            msg.add_attachment(
                a.content,
                maintype=maintype,
                subtype=subtype,
                filename=a.filename,
                params=dict(p.split("=", 1) for p in params if "=" in p),
            )
        return msg
