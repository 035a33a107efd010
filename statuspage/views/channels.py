"""A channel's own routes (`Channel.routes`): `/channels/<channel>/<path>`, such as a
provider's inbound-message and status webhooks.

The channel answers the request (it checks the provider's signature itself: these routes
carry no CSRF token and no session) and says what to record (`Reply.actions`): a recipient
who said stop or start, a message's delivery status. This view records them through the
services and commits once.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from statuspage import channels, clock
from statuspage.channels.base import DeliveryStatus, Inbound, Start, Stop
from statuspage.extensions import csrf, db, limiter
from statuspage.queries import subscribers as subscriber_queries
from statuspage.services.subscriptions import pauses
from statuspage.views.helpers import commit

bp = Blueprint("channels", __name__, url_prefix="/channels")


@bp.route("/<name>/<path:path>", methods=["GET", "POST"])
@csrf.exempt  # type: ignore[untyped-decorator]  # a provider signs its requests
@limiter.limit("600 per minute")
def route(name: str, path: str) -> Any:
    channel = channels.find(name)
    found = next((r for r in channel.routes if r.path == path), None) if channel else None
    if channel is None or found is None:
        abort(404)
    if request.method not in found.methods:
        abort(405)
    base = str(current_app.config["STATUSPAGE_URL"]).rstrip("/")
    query = request.query_string.decode("latin-1")
    inbound = Inbound(
        url=f"{base}{request.path}" + (f"?{query}" if query else ""),
        form={key: request.form.getlist(key) for key in request.form},
        headers=dict(request.headers),
        language_of=lambda address: subscriber_queries.language_at(db.session, name, address),
    )
    reply = found.handler(inbound, current_app.config)
    now = clock.now()
    for action in reply.actions:
        if isinstance(action, Stop):
            pauses.stop(db.session, name, action.address, now)
        elif isinstance(action, Start):
            pauses.start(db.session, name, action.address, now)
        elif isinstance(action, DeliveryStatus):
            pauses.record_delivery_status(
                db.session,
                name,
                action.provider_id,
                action.status,
                detail=action.detail,
                address_failed=action.address_failed,
                now=now,
            )
    if reply.actions:
        commit()
    return Response(reply.body, status=reply.status, content_type=reply.content_type)
