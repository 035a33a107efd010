"""Statuspage-compatible public API v2 (GET, CORS open).

Existing Statuspage clients and widgets read these by changing only the host. Every
response is rendered once per data change and minute, with validators (`views.caching`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from statuspage import clock, openapi, serializers
from statuspage.extensions import csrf, db
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.views.caching import published

bp = Blueprint("api_v2", __name__, url_prefix="/api/v2")
csrf.exempt(bp)


@bp.after_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _page() -> dict[str, Any]:
    return serializers.page(current_app.config, platform_queries.last_change(db.session))


def _ids() -> tuple[str, str]:
    return current_app.config["STATUSPAGE_PAGE_ID"], current_app.config["STATUSPAGE_URL"]


def _components() -> list[dict[str, Any]]:
    page_id, _ = _ids()
    return [serializers.component(p, page_id) for p in platform_queries.platforms(db.session)]


def _incidents(items: list[Any]) -> list[dict[str, Any]]:
    page_id, base = _ids()
    return [serializers.incident(i, page_id, base) for i in items]


def _windows(items: list[Any]) -> list[dict[str, Any]]:
    page_id, base = _ids()
    return [serializers.scheduled_maintenance(w, page_id, base) for w in items]


def _status() -> dict[str, str]:
    found = platform_queries.page_status(db.session, clock.now())
    return serializers.status(found.indicator, found.description)


@bp.get("/summary.json")
@published(by_language=False)
def summary() -> Response:
    now = clock.now()
    upcoming = maintenance_queries.upcoming(db.session, now, days=60)
    active = maintenance_queries.active(db.session)
    return jsonify(
        page=_page(),
        components=_components(),
        incidents=_incidents(incident_queries.open_incidents(db.session)),
        scheduled_maintenances=_windows(active + upcoming),
        status=_status(),
    )


@bp.get("/status.json")
@published(by_language=False)
def status() -> Response:
    return jsonify(page=_page(), status=_status())


@bp.get("/components.json")
@published(by_language=False)
def components() -> Response:
    return jsonify(page=_page(), components=_components())


@bp.get("/incidents.json")
@published(by_language=False)
def incidents() -> Response:
    return jsonify(
        page=_page(), incidents=_incidents(incident_queries.recent_incidents(db.session))
    )


@bp.get("/incidents/unresolved.json")
@published(by_language=False)
def unresolved() -> Response:
    return jsonify(page=_page(), incidents=_incidents(incident_queries.open_incidents(db.session)))


@bp.get("/scheduled-maintenances.json")
@published(by_language=False)
def scheduled_maintenances() -> Response:
    items = maintenance_queries.listed(db.session, clock.now())
    return jsonify(page=_page(), scheduled_maintenances=_windows(items))


@bp.get("/scheduled-maintenances/upcoming.json")
@published(by_language=False)
def upcoming() -> Response:
    items = maintenance_queries.upcoming(db.session, clock.now(), days=60)
    return jsonify(page=_page(), scheduled_maintenances=_windows(items))


@bp.get("/scheduled-maintenances/active.json")
@published(by_language=False)
def active() -> Response:
    return jsonify(
        page=_page(), scheduled_maintenances=_windows(maintenance_queries.active(db.session))
    )


docs = Blueprint("api_docs", __name__)


@docs.get("/api/openapi.json")
@published(by_minute=False, by_language=False)
def openapi_document() -> Response:
    response = jsonify(openapi.document(current_app.config["STATUSPAGE_URL"]))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
