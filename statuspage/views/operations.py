"""What operators' machines read: `/readyz` and the Prometheus metrics (`/metrics`).

`/healthz` (views.public) says the app is alive and reaches its database; `/readyz` that
the whole service works (docs/operations.md). Neither needs a sign-in, neither is cached,
and neither says more than one word per check.

`/metrics` answers 404, as for any unknown path, unless METRICS_TOKEN is set; then only a
request carrying it (`Authorization: Bearer <token>`) is answered, any other 401.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from statuspage import clock, metrics, readiness
from statuspage.extensions import db

bp = Blueprint("operations", __name__)

NO_STORE = "no-store"


@bp.get("/readyz")
def readyz() -> Response:
    state = readiness.check(db.session, clock.now())
    response = jsonify(status="ok" if state.ready else "error", checks=state.as_dict())
    response.status_code = 200 if state.ready else 503
    response.headers["Cache-Control"] = NO_STORE
    return response


def _authorised(token: str) -> bool:
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    given = given.strip()
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


@bp.get("/metrics")
def metrics_endpoint() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        raise NotFound()
    if not _authorised(str(token)):
        refused = current_app.response_class(
            "unauthorized\n", status=401, content_type="text/plain; charset=utf-8"
        )
        refused.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        refused.headers["Cache-Control"] = NO_STORE
        return refused
    body = metrics.exposition(db.session, clock.now())
    response = current_app.response_class(body, content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = NO_STORE
    return response
