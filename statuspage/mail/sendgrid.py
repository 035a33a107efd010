"""SendGrid v3 Mail Send, one personalization per recipient, with a timeout on every request.

The library has no timeout by default and does not wrap network errors: both are handled
here. 429 and 5xx and no-answer are transient; other 4xx are permanent. A 400 whose errors
all point at personalizations ("personalizations.3.to.0.email") refused the request because
of those recipients: `RejectedRecipients` names them, so delivery sends the others.

Addresses go as ASCII: an internationalised domain as IDNA. One whose part before the @ is
not ASCII is refused before any request, as `RejectedRecipients` (SendGrid has no SMTPUTF8),
and never sent as an encoded-word.

Each `send` builds its own client (and connection), so delivery's sending threads can call
one mailer at once without sharing anything: that is how a pass keeps several requests in
flight (`DELIVERY_CONCURRENCY`).
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import time
import urllib.error
from collections.abc import Callable
from email.message import Message
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors

from statuspage.mail import (
    MailBatch,
    PermanentMailError,
    RejectedRecipients,
    TransientMailError,
    ascii_address,
)


def _sent_address(address: str) -> str:
    try:
        return ascii_address(address)
    except ValueError:
        return address  # `SendGridMailer.send` refuses it before any request


def undeliverable(batch: MailBatch) -> dict[int, str]:
    """{recipient index: reason} for addresses SendGrid cannot deliver to: a part before the
    @ that is not ASCII (no SMTPUTF8) or a domain with no ASCII form."""
    refused: dict[int, str] = {}
    for index, r in enumerate(batch.recipients):
        try:
            ascii_address(r.email)
        except ValueError as exc:
            refused[index] = f"Cannot be delivered: {exc}"
    return refused


def request_body(batch: MailBatch) -> dict[str, Any]:
    personalizations = []
    for r in batch.recipients:
        to = _sent_address(r.email)  # an internationalised domain as IDNA
        p: dict[str, Any] = {"to": [{"email": to, **({"name": r.name} if r.name else {})}]}
        if r.headers:
            p["headers"] = dict(r.headers)
        if r.substitutions:
            p["substitutions"] = dict(r.substitutions)
        if r.custom_args:
            p["custom_args"] = dict(r.custom_args)
        personalizations.append(p)
    body: dict[str, Any] = {
        "personalizations": personalizations,
        "from": {"email": batch.from_email, "name": batch.from_name},
        "subject": batch.subject,
        "content": [
            {"type": "text/plain", "value": batch.text},
            {"type": "text/html", "value": batch.html},
        ],
        # Tracking would rewrite the links, the one-click unsubscribe among them.
        "tracking_settings": {
            "click_tracking": {"enable": False, "enable_text": False},
            "open_tracking": {"enable": False},
        },
    }
    if batch.categories:
        body["categories"] = list(batch.categories)[:10]
    if batch.attachments:
        body["attachments"] = [
            {
                "content": base64.b64encode(a.content).decode("ascii"),
                "type": a.content_type,
                "filename": a.filename,
                "disposition": "attachment",
            }
            for a in batch.attachments
        ]
    return body


def _error_list(err: http_errors.HTTPError) -> list[dict[str, Any]]:
    try:
        data = json.loads(err.body or b"{}")
        errors = data.get("errors", [])
    except (ValueError, AttributeError):
        return []
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _errors(err: http_errors.HTTPError) -> str:
    return "; ".join(str(e.get("message", "")) for e in _error_list(err)) or str(err)


# "personalizations.3.to.0.email": the error is about the fourth recipient's part.
_PERSONALIZATION = re.compile(r"^personalizations\.(\d+)(?:\.|$)")


def _refused_recipients(err: http_errors.HTTPError, count: int) -> dict[int, str] | None:
    """{recipient index: reason} when every error of a 400 points at a personalization
    (the rest of the batch would be accepted); None when any is about the whole request."""
    errors = _error_list(err)
    if not errors:
        return None
    reasons: dict[int, str] = {}
    for e in errors:
        where = str(e.get("field") or "")
        if not where.startswith("personalizations"):
            return None
        found = _PERSONALIZATION.match(where)
        if found and int(found.group(1)) < count:
            index = int(found.group(1))
            message = f"{e.get('message', '')} ({where})"
            reasons[index] = f"{reasons[index]}; {message}" if index in reasons else message
    return reasons


class SendGridMailer:
    def __init__(
        self, api_key: str, host: str, timeout: float = 10.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.api_key = api_key
        self.host = host.rstrip("/")
        self.timeout = timeout
        self.clock = clock

    def _client(self) -> sendgrid.SendGridAPIClient:
        client = sendgrid.SendGridAPIClient(api_key=self.api_key, host=self.host)
        client.client.timeout = self.timeout  # none by default: a stuck request would hang
        return client

    def send(self, batch: MailBatch) -> None:
        batch.check()
        undelivered = undeliverable(batch)
        if undelivered:  # nothing sent: delivery fails these and sends the others
            raise RejectedRecipients(
                f"{len(undelivered)} recipient(s) refused: "
                + "; ".join(undelivered.values())[:500],
                undelivered,
            )
        try:
            self._client().client.mail.send.post(request_body=request_body(batch))
        except http_errors.HTTPError as err:
            status = err.status_code
            if status == 429:
                raise TransientMailError(
                    "rate limited", status=429, retry_after=self._retry_after(err)
                ) from None
            if status >= 500:
                raise TransientMailError(f"provider error {status}", status=status) from None
            refused = _refused_recipients(err, len(batch.recipients)) if status == 400 else None
            if refused is not None:
                raise RejectedRecipients(
                    f"{status}: {_errors(err)}", refused, status=status
                ) from None
            raise PermanentMailError(f"{status}: {_errors(err)}", status=status) from None
        except (
            urllib.error.URLError,
            TimeoutError,
            ConnectionError,
            http.client.HTTPException,
            OSError,
        ) as err:
            raise TransientMailError(f"no answer from the provider: {err}") from None

    def _retry_after(self, err: http_errors.HTTPError) -> float | None:
        headers: Message | dict[str, str] = err.headers or {}
        reset = headers.get("X-RateLimit-Reset")
        if reset is not None:
            try:
                return max(float(reset) - self.clock(), 1.0)
            except ValueError:
                pass
        after = headers.get("Retry-After")
        try:
            return max(float(after), 1.0) if after is not None else None
        except ValueError:
            return None
