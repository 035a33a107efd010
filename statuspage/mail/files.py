"""The embedded default: each message written as an .eml file, one per recipient."""

from __future__ import annotations

import os
import tempfile
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from statuspage.mail import MailBatch, apply


class FileMailer:
    def __init__(self, directory: str) -> None:
        self.directory = directory

    def send(self, batch: MailBatch) -> None:
        batch.check()
        os.makedirs(self.directory, exist_ok=True)
        key = batch.batch_key or make_msgid().strip("<>").split("@")[0]
        for index, r in enumerate(batch.recipients):
            msg = EmailMessage()
            msg["From"] = formataddr((batch.from_name, batch.from_email))
            msg["To"] = formataddr((r.name, r.email)) if r.name else r.email
            msg["Subject"] = apply(batch.subject, r.substitutions)
            msg["Date"] = formatdate(localtime=False)
            msg["Message-ID"] = make_msgid(domain=batch.from_email.split("@")[-1])
            for name, value in r.headers.items():
                msg[name] = value
            for name, value in r.custom_args.items():
                msg[f"X-Custom-{name}"] = value
            msg.set_content(apply(batch.text, r.substitutions))
            msg.add_alternative(apply(batch.html, r.substitutions), subtype="html")
            name = f"{key}-{index:04d}.eml"
            fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(bytes(msg))
            os.replace(tmp, os.path.join(self.directory, name))
