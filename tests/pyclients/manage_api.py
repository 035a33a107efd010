"""Drive the service's Manage API v1 with the published Statuspage client, host changed only.

usage: python manage_api.py BASE_URL PAGE_ID TOKEN COMPONENT_ID
Lists, creates, reads and deletes subscribers and schedules maintenance with Statuspage's
fields only, through the client's own models; prints what the client returned, as JSON.
Run with tests/pyclients/.venv/bin/python (the client pins its own dependencies).
"""

from __future__ import annotations

import json
import sys

import atlassian_statuspage as sp


def main(base: str, page_id: str, token: str, component_id: str) -> None:
    config = sp.Configuration()
    config.host = f"{base}/api/v1"
    config.api_key["Authorization"] = token
    config.api_key_prefix["Authorization"] = "OAuth"
    client = sp.ApiClient(config)
    subscribers = sp.SubscribersApi(client)
    incidents = sp.IncidentsApi(client)
    out: dict[str, object] = {}

    out["listed_before"] = [s.to_dict() for s in subscribers.get_pages_page_id_subscribers(page_id)]
    confirmed = subscribers.post_pages_page_id_subscribers(
        sp.PostPagesPageIdSubscribers(
            subscriber=sp.PostPagesPageIdSubscribersSubscriber(
                email="noc@customer.example",
                component_ids=[component_id],
                skip_confirmation_notification=True,
            )
        ),
        page_id,
    )
    pending = subscribers.post_pages_page_id_subscribers(
        sp.PostPagesPageIdSubscribers(
            subscriber=sp.PostPagesPageIdSubscribersSubscriber(email="ops@customer.example")
        ),
        page_id,
    )
    out["created"] = [confirmed.to_dict(), pending.to_dict()]
    out["shown"] = subscribers.get_pages_page_id_subscribers_subscriber_id(
        page_id, confirmed.id
    ).to_dict()
    out["listed_all"] = [
        s.to_dict()
        for s in subscribers.get_pages_page_id_subscribers(
            page_id, state="all", limit=1, page=1, sort_field="primary"
        )
    ]
    try:
        subscribers.post_pages_page_id_subscribers_subscriber_id_resend_confirmation(
            page_id, pending.id
        )
        out["resent"] = {"status": 201}
    except sp.rest.ApiException as exc:
        out["resent"] = {"status": exc.status, "body": json.loads(exc.body)}
    out["deleted"] = subscribers.delete_pages_page_id_subscribers_subscriber_id(
        page_id, confirmed.id
    ).to_dict()
    out["listed_after"] = [s.to_dict() for s in subscribers.get_pages_page_id_subscribers(page_id)]
    try:
        subscribers.get_pages_page_id_subscribers_subscriber_id(page_id, "999999")
        out["unknown"] = 200
    except sp.rest.ApiException as exc:
        out["unknown"] = exc.status

    window = incidents.post_pages_page_id_incidents(
        sp.PostPagesPageIdIncidents(
            incident=sp.PostPagesPageIdIncidentsIncident(
                name="SBC firmware",
                status="scheduled",
                body="Upgrading the SBCs to the vendor's fixed release.",
                scheduled_for="2026-11-22T19:00:00Z",
                scheduled_until="2026-11-22T20:00:00Z",
                scheduled_remind_prior=True,
                scheduled_auto_in_progress=True,
                scheduled_auto_completed=True,
                component_ids=[component_id],
            )
        ),
        page_id,
    )
    out["window"] = window.to_dict()
    json.dump(out, sys.stdout, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:5])
