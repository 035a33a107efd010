"""Statuspage-compatible public API v2 (GET, CORS open).

Existing Statuspage clients and widgets read these by changing only the host. Every
response is rendered once per data change and minute, with validators (`views.caching`).
Each answer is one of the documents declared in `statuspage.contract.responses`; the
OpenAPI document at /api/openapi.json is generated from those declarations.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from statuspage import clock
from statuspage.contract import openapi
from statuspage.contract import responses as shapes
from statuspage.contract.operations import operation
from statuspage.extensions import csrf, db
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.renderers import serializers
from statuspage.views.caching import published

bp = Blueprint("api_v2", __name__, url_prefix="/api/v2")
csrf.exempt(bp)


@bp.after_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


def _page() -> shapes.Page:
    return serializers.page(current_app.config, platform_queries.last_change(db.session))


def _ids() -> tuple[str, str]:
    return current_app.config["STATUSPAGE_PAGE_ID"], current_app.config["STATUSPAGE_URL"]


def _components() -> list[shapes.Component]:
    page_id, _ = _ids()
    return [serializers.component(p, page_id) for p in platform_queries.platforms(db.session)]


def _incidents(items: list[Any]) -> list[shapes.Incident]:
    page_id, base = _ids()
    return [serializers.incident(i, page_id, base) for i in items]


def _windows(items: list[Any]) -> list[shapes.ScheduledMaintenance]:
    page_id, base = _ids()
    return [serializers.scheduled_maintenance(w, page_id, base) for w in items]


def _status() -> shapes.Status:
    found = platform_queries.page_status(db.session, clock.now())
    return serializers.status(found.indicator, found.description)


@bp.get("/summary.json")
@operation("Everything on the page", shapes.SummaryDocument)
@published(by_language=False)
def summary() -> Response:
    now = clock.now()
    upcoming = maintenance_queries.upcoming(db.session, now, days=60)
    active = maintenance_queries.active(db.session)
    document: shapes.SummaryDocument = {
        "page": _page(),
        "components": _components(),
        "incidents": _incidents(incident_queries.open_incidents(db.session)),
        "scheduled_maintenances": _windows(active + upcoming),
        "status": _status(),
    }
    return jsonify(document)


@bp.get("/status.json")
@operation("The page's indicator", shapes.StatusDocument)
@published(by_language=False)
def status() -> Response:
    document: shapes.StatusDocument = {"page": _page(), "status": _status()}
    return jsonify(document)


@bp.get("/components.json")
@operation("Platforms and their status", shapes.ComponentsDocument)
@published(by_language=False)
def components() -> Response:
    document: shapes.ComponentsDocument = {"page": _page(), "components": _components()}
    return jsonify(document)


def _incidents_document(items: list[Any]) -> Response:
    document: shapes.IncidentsDocument = {"page": _page(), "incidents": _incidents(items)}
    return jsonify(document)


def _windows_document(items: list[Any]) -> Response:
    document: shapes.MaintenancesDocument = {
        "page": _page(),
        "scheduled_maintenances": _windows(items),
    }
    return jsonify(document)


@bp.get("/incidents.json")
@operation("The 50 newest incidents", shapes.IncidentsDocument)
@published(by_language=False)
def incidents() -> Response:
    return _incidents_document(incident_queries.recent_incidents(db.session))


@bp.get("/incidents/unresolved.json")
@operation("Open incidents, master cases first", shapes.IncidentsDocument)
@published(by_language=False)
def unresolved() -> Response:
    return _incidents_document(incident_queries.open_incidents(db.session))


@bp.get("/scheduled-maintenances.json")
@operation("Recent and upcoming windows", shapes.MaintenancesDocument)
@published(by_language=False)
def scheduled_maintenances() -> Response:
    return _windows_document(maintenance_queries.listed(db.session, clock.now()))


@bp.get("/scheduled-maintenances/upcoming.json")
@operation("Windows to come (60 days)", shapes.MaintenancesDocument)
@published(by_language=False)
def upcoming() -> Response:
    return _windows_document(maintenance_queries.upcoming(db.session, clock.now(), days=60))


@bp.get("/scheduled-maintenances/active.json")
@operation("Windows in progress", shapes.MaintenancesDocument)
@published(by_language=False)
def active() -> Response:
    return _windows_document(maintenance_queries.active(db.session))


docs = Blueprint("api_docs", __name__)


@docs.get("/api/openapi.json")
@operation("This document: both APIs, generated from their declared shapes", dict[str, Any])
@published(by_minute=False, by_language=False)
def openapi_document() -> Response:
    document = openapi.document(current_app, current_app.config["STATUSPAGE_URL"])
    response = jsonify(document)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
