"""Webhooks: an endpoint of the subscriber's own, sent Statuspage's envelope, signed.

The body is Statuspage's webhook envelope: `meta` (`unsubscribe`: the subscriber's signed
one-click unsubscribe URL, `documentation`, `generated_at`), `page` (`id`,
`status_indicator`, `status_description`) and then what happened: `incident` in the shape
of /api/v2 (an incident, or a maintenance window as Statuspage's scheduled maintenance),
or, for a platform's status change, `component_update` (`created_at`, `new_status`,
`old_status`, `id`, `component_id`) and `component` (the platform as /api/v2's component,
as it stood after the change). A verification request carries `verification` (`token`)
instead, which the endpoint echoes: that confirms the subscriber.

Headers: `X-Statuspage-Timestamp` (Unix seconds) and `X-Statuspage-Signature`
(`v1=` + hex HMAC-SHA256 over `timestamp + "." + body`, keyed by the subscriber's secret),
and `X-Statuspage-Delivery` (the delivery's id: the same on a resend, so a receiver can
drop a duplicate) with `X-Statuspage-Possibly-Duplicated` when this may be a resend.

The envelope is a pure function of the notice's payload, what the public API says now of
its subject (`Sending.snapshot`, read by delivery) and the recipient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from statuspage import endpoints
from statuspage.channels.base import (
    POSSIBLY_DUPLICATED,
    Channel,
    Prepared,
    Receipt,
    Recipient,
    Sending,
)
from statuspage.contract import payloads

DOCUMENTATION = "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/"
SIGNATURE_HEADER = "X-Statuspage-Signature"
TIMESTAMP_HEADER = "X-Statuspage-Timestamp"
USER_AGENT = "statuspage-webhooks"


class NotForWebhooks(ValueError):
    """A notice with nothing to say to a webhook."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed by the subscriber's secret, of
    `timestamp + "." + body`: the value of the signature header."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def ts(moment: datetime) -> str:
    """Statuspage's timestamps: ISO 8601 in UTC with milliseconds and Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(sending: Sending) -> dict[str, Any]:
    """What happened, as the envelope's last part."""
    payload = sending.payload
    snapshot = sending.snapshot
    if payload["kind"] == payloads.VERIFICATION_KIND:
        return {"verification": {"token": payload["token"]}}
    if payload["kind"] == payloads.COMPONENT_UPDATE_KIND:
        change = payload["component_update"]
        if snapshot is None or snapshot["component"] is None:
            raise NotForWebhooks("the platform of this component update is gone")
        component = dict(snapshot["component"])
        component.update(status=change["new_status"], updated_at=change["created_at"])
        return {
            "component_update": {
                "created_at": change["created_at"],
                "new_status": change["new_status"],
                "old_status": change["old_status"],
                "id": str(sending.notice_id),
                "component_id": change["component_id"],
            },
            "component": component,
        }
    if snapshot is not None and snapshot["incident"] is not None:
        return {"incident": snapshot["incident"]}
    raise NotForWebhooks(f"{payload['kind']} has no incident or maintenance to send")


def envelope(sending: Sending, unsubscribe_url: str) -> dict[str, Any]:
    page = sending.snapshot["page"] if sending.snapshot is not None else None
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": DOCUMENTATION,
            "generated_at": ts(sending.now),
        },
        "page": page,
        **event(sending),
    }


class Webhook(Channel):
    name = "webhook"
    position = 10
    label = _l("Webhook")
    choice = _l("Webhook (a URL of your own system)")
    staff_label = _l("Webhook")
    form_field = "webhook_url"
    field_label = _l("Webhook URL (https)")
    input_type = "url"
    address_field = "endpoint"
    api_fields = ("endpoint",)
    api_rules = {
        "endpoint": "required for type webhook, teams or slack; its host resolves to public "
        "addresses only"
    }
    confirmation = "echo"
    secret_address = True
    signs = True
    needs_snapshot = True

    def takes(self, kind: str) -> bool:
        return True  # every notice, a platform's status changes too

    def check_address(self, value: str, settings: Mapping[str, Any]) -> str:
        """An https URL whose host's every address is public (`endpoints.check_url`), as
        stored: encoded."""
        return endpoints.check_url(
            value, endpoints.Policy.from_config(settings), hosts=self.hosts(settings)
        ).url

    def hosts(self, settings: Mapping[str, Any]) -> endpoints.HostRule | None:
        """Where its endpoints may be: any public host."""
        return None

    def masked(self, address: str) -> str:
        return endpoints.masked_url(address)

    def api_view(self, address: str) -> dict[str, str | None]:
        return {"endpoint": endpoints.masked_url(address)}

    def transport(self, settings: Mapping[str, Any], instance_path: str) -> Any:
        return endpoints.EndpointSender.from_config(settings)

    def prepare(self, recipients: Sequence[Recipient], sending: Sending) -> Prepared:
        """The signed request of one delivery."""
        (r,) = recipients
        if not r.secret or r.unsubscribe_url is None:
            raise ValueError("a webhook delivery needs its subscriber's secret and links")
        body = json.dumps(
            envelope(sending, r.unsubscribe_url), separators=(",", ":"), ensure_ascii=False
        ).encode()
        timestamp = str(int(sending.now.timestamp()))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(r.secret, timestamp, body),
            "X-Statuspage-Delivery": str(r.delivery_id),
            "User-Agent": USER_AGENT,
        }
        if r.possibly_duplicated:
            headers[POSSIBLY_DUPLICATED] = "true"
        payload = sending.payload
        echo = payload["token"] if payload["kind"] == payloads.VERIFICATION_KIND else ""
        request = endpoints.EndpointRequest(
            url=r.address, body=body, headers=headers, expect_echo=echo
        )
        return Prepared(request, [0])

    def send(self, transport: Any, outgoing: Any) -> Receipt | None:
        transport.send(outgoing)
        return None

    def quarantines(self, error: BaseException | None) -> bool:
        return True  # an endpoint that fails for good is paused until staff lift it


CHANNEL = Webhook()
