"""SendGrid v3 Mail Send, one personalization per recipient, with a timeout on every request.

The library has no timeout by default and does not wrap network errors: both are handled
here. 429 and 5xx and no-answer are transient; other 4xx are permanent.

Each `send` builds its own client (and connection), so delivery's sending threads can call
one mailer at once without sharing anything: that is how a pass keeps several requests in
flight (`DELIVERY_CONCURRENCY`).
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
from collections.abc import Callable
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors

from statuspage.mail import MailBatch, PermanentMailError, TransientMailError


def request_body(batch: MailBatch) -> dict[str, Any]:
    personalizations = []
    for r in batch.recipients:
        p: dict[str, Any] = {"to": [{"email": r.email, **({"name": r.name} if r.name else {})}]}
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
    return body


def _errors(err: http_errors.HTTPError) -> str:
    try:
        data = json.loads(err.body or b"{}")
        return "; ".join(e.get("message", "") for e in data.get("errors", [])) or str(err)
    except (ValueError, AttributeError):
        return str(err)


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
        headers = err.headers or {}
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
