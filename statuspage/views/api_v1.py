"""Statuspage Manage API v1 shape, for staff automation: change only the host.

`Authorization: OAuth <token>`; bodies wrapped as Statuspage wraps them
(`{"incident": {...}}`, `{"component": {...}}`, `{"subscriber": {...}}`). An incident with
`status: scheduled` and `scheduled_for` / `scheduled_until` is a maintenance window (ids
"w<n>"). The same role rules as the forms apply: they live in the services.

Each view declares its contract with `@operation` (`statuspage.contract`): the request
models validate the body and query string before the view runs (field errors as a JSON
422, nothing written), and the same declarations generate /api/openapi.json. A request with
only Statuspage's fields is never refused for lacking one of this product's extras, which
ride at top level or inside `metadata.network_status` (`contract.requests.WithExtras`). For
maintenance, `body` stands for the justification when none is given, and, when the request
carries neither justification nor urgency (a client that knows only Statuspage's fields),
for the urgency of work inside 05:00-23:00 too (`services.maintenance`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from statuspage import clock, serializers, webhooks
from statuspage.contract import responses as shapes
from statuspage.contract.operations import SECURED, operation
from statuspage.contract.requests import (
    ComponentRequest,
    IncidentFields,
    IncidentListQuery,
    IncidentRequest,
    IncidentUpdateRequest,
    NewIncidentRequest,
    SubscriberListQuery,
    SubscriberRequest,
    UnsubscribeQuery,
)
from statuspage.extensions import csrf, db
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.queries import subscribers as subscriber_queries
from statuspage.services import (
    NotFound,
    incidents,
    maintenance,
    staff,
    subscriptions,
)
from statuspage.services import platforms as platform_service
from statuspage.services.errors import Errors, ValidationError
from statuspage.views.errors import json_error
from statuspage.views.helpers import commit

if TYPE_CHECKING:
    from statuspage.models import Incident, MaintenanceWindow, Platform, Subscriber, User

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1/pages/<page_id>")
csrf.exempt(bp)


class IncidentId(BaseConverter):
    """An incident's id ("12") or a window's ("w7"), and nothing else: so the named lists
    (`/incidents/scheduled`, ...) are not also taken for an incident, and `OPTIONS` or a
    405's `Allow` on them lists only what they answer (GET)."""

    regex = r"w?[0-9]+"


@bp.record_once
def _converters(state: BlueprintSetupState) -> None:
    # Before the blueprint's rules are added (deferred functions run in order).
    state.app.url_map.converters["incident_id"] = IncidentId


MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
INCIDENT_OR_WINDOW = shapes.Incident | shapes.ScheduledMaintenance

# The rules beyond the schemas, as the document states them (`@operation(rules=...)`): a
# request the schemas accept may still be refused with a 422 naming one of these fields.
KNOWN_COMPONENTS = {
    "components": "each key a known component id or slug",
    "component_ids": "each a known component id or slug; a window names at least one",
}
NEW_INCIDENT_RULES = {
    **KNOWN_COMPONENTS,
    "etr": "after now, on an open incident",
    "case_number": "a master case (priority P1G) needs one",
    "scheduled_for": "maintenance (status scheduled) needs it",
    "scheduled_until": "maintenance needs it: after scheduled_for, at most 48 hours later, "
    "and in the future",
    "body": "maintenance describes the work: not blank",
    "justification": "maintenance: not blank when given",
    "urgency": "maintenance inside 05:00-23:00 (the page's time zone) that gives a "
    "justification or an urgency needs an urgency that is not blank",
    "scheduled_auto_in_progress": "false is refused for maintenance",
    "scheduled_auto_completed": "false is refused for maintenance",
}
UPDATE_RULES = {
    **KNOWN_COMPONENTS,
    "status": "an incident takes an incident's status, a window (w<n>) a window's",
    "etr": "after now, on an open incident, and not with clear_etr",
    "case_number": "a master case (priority P1G) keeps one",
    "body": "an update that changes no status, component or ETR says what changed (its "
    "versions in other languages alone are no update)",
    "scheduled_for": "a window is not moved into the past",
    "scheduled_until": "after scheduled_for, at most 48 hours later, and in the future",
}
CORRECTION_RULES = {
    "body": "a correction changes the text (or a version of it), and does not empty a text "
    "that had words",
}
NEW_SUBSCRIBER_RULES = {
    "email": "required without an endpoint; an address that can receive mail",
    "endpoint": "required for type webhook, teams or slack; its host resolves to public "
    "addresses only",
    "component_ids": "each a known component id or slug",
}
# The services' names for what clients send under Statuspage's names.
SENT_AS = {
    "title": "name",
    "impact": "impact_override",
    "starts_at": "scheduled_for",
    "ends_at": "scheduled_until",
    "description": "body",
    "note": "body",
    "platforms": "component_ids",
    "title_es": "name_translations",
    "title_de": "name_translations",
    "title_translations": "name_translations",
    "body_es": "body_translations",
    "body_de": "body_translations",
}


@bp.url_value_preprocessor
def check_page(endpoint: str | None, values: dict[str, Any] | None) -> None:
    page_id = (values or {}).pop("page_id", None)
    if page_id != current_app.config["STATUSPAGE_PAGE_ID"]:
        raise NotFound(page_id)


@bp.url_defaults
def add_page(endpoint: str, values: dict[str, Any]) -> None:
    values.setdefault("page_id", current_app.config["STATUSPAGE_PAGE_ID"])


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """The token check, before anything of the request is read (a stranger learns nothing
    from field errors)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        user = None
        if scheme.lower() in ("oauth", "bearer") and token.strip():
            user = staff.authenticate_token(db.session, token.strip(), clock.now())
        if user is None:
            response = json_error(401, "a valid API token is required")
            response.headers["WWW-Authenticate"] = 'OAuth realm="statuspage"'
            return response
        g.api_user = user
        return view(*args, **kwargs)

    setattr(wrapped, SECURED, True)  # the document's security requirement
    return wrapped


def actor() -> User:
    return g.api_user  # type: ignore[no-any-return]


@contextmanager
def as_sent() -> Iterator[None]:
    """A service's field errors under the names the client sent (`ends_at` is
    `scheduled_until` here), so a 422 or 409 names a field of the request."""
    try:
        yield
    except ValidationError as exc:
        raise type(exc)({SENT_AS.get(k, k): v for k, v in exc.errors.items()}) from None


def _platform_statuses(errors: Errors, fields: IncidentFields) -> dict[str, str]:
    """Statuspage's `components` ({id: status}) and `component_ids` (affected, unchanged)."""
    result: dict[str, str] = {}
    for key in fields.component_ids or []:
        platform = _platform_or_none(str(key))
        if platform is None:
            errors.add("component_ids", f"unknown component {str(key)[:40]!r}")
        else:
            result[str(platform.id)] = platform.status
    result.update(fields.components or {})
    return result


def _platform_or_none(key: str) -> Platform | None:
    return platform_queries.by_key(db.session, key)


def _site() -> tuple[str, str]:
    return current_app.config["STATUSPAGE_PAGE_ID"], current_app.config["STATUSPAGE_URL"]


def _incident_json(item: Incident) -> shapes.Incident:
    return serializers.incident(item, *_site(), staff=True)


def _window_json(window: MaintenanceWindow) -> shapes.ScheduledMaintenance:
    return serializers.scheduled_maintenance(window, *_site())


def _window_for(incident_id: str) -> MaintenanceWindow | None:
    if incident_id.startswith("w"):
        return maintenance.get_window(db.session, incident_id[1:])
    return None


# --- incidents -----------------------------------------------------------------------


@bp.get("/incidents")
@authenticated
@operation("Incidents, newest first", list[shapes.Incident], query=IncidentListQuery)
def list_incidents(query: IncidentListQuery) -> Response:
    q = query.q.strip()[:200]
    items = incident_queries.search(db.session, q, query.page, query.limit)
    return jsonify([_incident_json(i) for i in items])


@bp.get("/incidents/unresolved")
@authenticated
@operation("Open incidents", list[shapes.Incident])
def unresolved() -> Response:
    return jsonify([_incident_json(i) for i in incident_queries.open_incidents(db.session)])


@bp.get("/incidents/upcoming")
@authenticated
@operation("Upcoming maintenance", list[shapes.ScheduledMaintenance])
def upcoming() -> Response:
    items = maintenance_queries.upcoming(db.session, clock.now(), days=None)
    return jsonify([_window_json(w) for w in items[:100]])


@bp.get("/incidents/scheduled")
@authenticated
@operation("Scheduled maintenance", list[shapes.ScheduledMaintenance])
def scheduled() -> Response:
    items = maintenance_queries.listed(db.session, clock.now(), limit=100)
    return jsonify([_window_json(w) for w in items])


@bp.get("/incidents/active_maintenance")
@authenticated
@operation("Maintenance in progress", list[shapes.ScheduledMaintenance])
def active_maintenance() -> Response:
    return jsonify([_window_json(w) for w in maintenance_queries.active(db.session)])


@bp.post("/incidents")
@authenticated
@operation(
    "Open an incident, or schedule maintenance (status: scheduled)",
    INCIDENT_OR_WINDOW,
    status=201,
    body=NewIncidentRequest,
    example={
        "incident": {
            "name": "Calls dropping",
            "status": "investigating",
            "impact_override": "minor",
            "body": "Looking",
            "components": {"1": "degraded_performance"},
        }
    },
    rules=NEW_INCIDENT_RULES,
)
def create_incident(body: NewIncidentRequest) -> Any:
    fields = body.incident
    if fields.status == "scheduled":
        return _create_window(fields)
    errors = Errors()
    statuses = _platform_statuses(errors, fields)
    errors.raise_if_any()
    with as_sent():
        created = incidents.create_incident(
            db.session,
            actor(),
            title=fields.name,
            body=fields.body or "",
            status=fields.status or "investigating",
            impact=fields.impact_override or "none",
            priority=fields.priority or "P3",
            platform_statuses=statuses,
            case_number=fields.case_number,
            customer_case_numbers=fields.customer_case_numbers,
            deliver_notifications=fields.deliver_notifications is not False,
            etr=fields.etr,
            title_translations=fields.name_translations,
            body_translations=fields.body_translations,
            now=clock.now(),
        )
    commit()
    return jsonify(_incident_json(created)), 201


def _create_window(fields: IncidentFields) -> Any:
    errors = Errors()
    for flag in ("scheduled_auto_in_progress", "scheduled_auto_completed"):
        if getattr(fields, flag) is False:
            errors.add(flag, "windows on this page always start and complete on time")
    statuses = _platform_statuses(errors, fields)
    if fields.scheduled_for is None:
        errors.add("scheduled_for", "is required")
    if fields.scheduled_until is None:
        errors.add("scheduled_until", "is required")
    if not (fields.body or "").strip():
        # Every notice and calendar entry describes the work; body also stands for the
        # justification, so it is the one field asked for.
        errors.add("body", "describe the work")
    errors.raise_if_any()
    assert fields.name is not None
    assert fields.scheduled_for is not None and fields.scheduled_until is not None
    with as_sent():
        window = maintenance.create_from_statuspage_fields(
            db.session,
            actor(),
            title=fields.name,
            starts_at=fields.scheduled_for,
            ends_at=fields.scheduled_until,
            platforms=list(statuses),
            body=fields.body or "",
            justification=fields.justification,
            urgency=fields.urgency,
            impact="none" if fields.impact_override == "none" else "maintenance",
            tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
            now=clock.now(),
        )
    commit()
    return jsonify(_window_json(window)), 201


@bp.get("/incidents/<incident_id:incident_id>")
@authenticated
@operation("One incident or window", INCIDENT_OR_WINDOW)
def get_incident(incident_id: str) -> Response:
    window = _window_for(incident_id)
    if window is not None:
        return jsonify(_window_json(window))
    return jsonify(_incident_json(incidents.get(db.session, incident_id)))


@bp.route("/incidents/<incident_id:incident_id>", methods=["PATCH", "PUT"])
@authenticated
@operation(
    "Update: a timeline entry and/or edits; a window (w<n>) is moved, renamed or advanced "
    "(PUT is the same as PATCH)",
    INCIDENT_OR_WINDOW,
    body=IncidentRequest,
    example={"incident": {"status": "identified", "body": "Found it"}},
    rules=UPDATE_RULES,
)
def update_incident(incident_id: str, body: IncidentRequest) -> Response:
    fields = body.incident
    window = _window_for(incident_id)
    if window is not None:
        return _update_window(window, fields)
    found = incidents.get(db.session, incident_id)
    errors = Errors()
    statuses = _platform_statuses(errors, fields)
    errors.raise_if_any()
    now = clock.now()
    edits = (
        fields.name,
        fields.impact_override,
        fields.priority,
        fields.case_number,
        fields.customer_case_numbers,
        fields.name_translations,
    )
    status = fields.status
    with as_sent():
        if any(v is not None for v in edits):
            incidents.edit_incident(
                db.session,
                actor(),
                found,
                title=fields.name,
                impact=fields.impact_override,
                priority=fields.priority,
                case_number=fields.case_number,
                customer_case_numbers=fields.customer_case_numbers,
                title_translations=fields.name_translations,
                now=now,
            )
        changes = (
            (status and status != found.status)
            or statuses
            or fields.etr is not None
            or fields.clear_etr
            or fields.body_translations
        )
        if fields.body or changes:
            incidents.post_update(
                db.session,
                actor(),
                found,
                status=status,
                body=fields.body or "",
                platform_statuses=statuses,
                deliver_notifications=fields.deliver_notifications is not False,
                etr=fields.etr,
                clear_etr=bool(fields.clear_etr),
                body_translations=fields.body_translations,
                now=now,
            )
    commit()
    return jsonify(_incident_json(found))


@bp.patch("/incidents/<incident_id:incident_id>/incident_updates/<update_id>")
@authenticated
@operation(
    "Correct a posted update's text (its status, time, ETR and components stay); the update "
    "shows as edited. deliver_notifications: true sends it to subscribers again",
    shapes.IncidentUpdate,
    body=IncidentUpdateRequest,
    example={"incident_update": {"body": "The carrier replaced the card."}},
    rules=CORRECTION_RULES,
)
def correct_incident_update(
    incident_id: str, update_id: str, body: IncidentUpdateRequest
) -> Response:
    """Statuspage's "update a previous incident update", for this page's incidents (a
    window's description is changed through the window)."""
    if incident_id.startswith("w"):
        raise NotFound(incident_id)
    found = incidents.get(db.session, incident_id)
    update = incidents.get_update(db.session, found, update_id)
    fields = body.incident_update
    with as_sent():
        incidents.correct_update(
            db.session,
            actor(),
            update,
            body=fields.body,
            body_translations=fields.body_translations,
            notify=fields.deliver_notifications is True,
            now=clock.now(),
        )
    commit()
    return jsonify(serializers.incident_update(update))


def _update_window(window: MaintenanceWindow, fields: IncidentFields) -> Response:
    errors = Errors()
    status = fields.status
    if status is not None and status not in (*MAINTENANCE_STATUSES, "cancelled"):
        errors.add("status", f"must be one of {', '.join(MAINTENANCE_STATUSES)} or cancelled")
    statuses = _platform_statuses(errors, fields)
    errors.raise_if_any()
    now = clock.now()
    starts, ends = fields.scheduled_for, fields.scheduled_until
    with as_sent():
        if any(v is not None for v in (starts, ends, fields.name, fields.body)) or statuses:
            maintenance.change_window(
                db.session,
                actor(),
                window,
                starts_at=starts,
                ends_at=ends,
                title=fields.name,
                note=fields.body,
                platforms=list(statuses) if statuses else None,
                now=now,
            )
        if status is not None and status not in ("scheduled", window.status):
            maintenance.set_window_status(db.session, actor(), window, status, now)
    commit()
    return jsonify(_window_json(window))


@bp.delete("/incidents/<incident_id:incident_id>")
@authenticated
@operation("Delete an incident (a window is cancelled)", INCIDENT_OR_WINDOW)
def delete_incident(incident_id: str) -> Response:
    window = _window_for(incident_id)
    if window is not None:
        maintenance.set_window_status(db.session, actor(), window, "cancelled", clock.now())
        commit()
        return jsonify(_window_json(window))
    found = incidents.get(db.session, incident_id)
    shown = _incident_json(found)
    incidents.delete_incident(db.session, actor(), found, clock.now())
    commit()
    return jsonify(shown)


# --- components ----------------------------------------------------------------------


def _component(component_id: str) -> Platform:
    platform = _platform_or_none(component_id)
    if platform is None:
        raise NotFound(component_id)
    return platform


@bp.get("/components")
@authenticated
@operation("Platforms", list[shapes.Component])
def list_components() -> Response:
    page_id, _ = _site()
    return jsonify(
        [serializers.component(p, page_id) for p in platform_queries.platforms(db.session)]
    )


@bp.get("/components/<component_id>")
@authenticated
@operation("One platform", shapes.Component)
def get_component(component_id: str) -> Response:
    return jsonify(serializers.component(_component(component_id), _site()[0]))


@bp.route("/components/<component_id>", methods=["PATCH", "PUT"])
@authenticated
@operation(
    "Set a platform's status; admins also rename, describe and order it (PUT is the same)",
    shapes.Component,
    body=ComponentRequest,
    example={"component": {"status": "degraded_performance"}},
)
def update_component(component_id: str, body: ComponentRequest) -> Response:
    platform = _component(component_id)
    fields = body.component
    now = clock.now()
    if any(v is not None for v in (fields.name, fields.description, fields.position)):
        platform_service.update_platform(
            db.session,
            actor(),
            platform,
            name=fields.name,
            description=fields.description,
            position=fields.position,
            now=now,
        )
    if fields.status is not None:
        platform_service.set_status(db.session, actor(), platform, fields.status, now)
    commit()
    return jsonify(serializers.component(platform, _site()[0]))


# --- subscribers ---------------------------------------------------------------------
# Email subscribers and channels: Statuspage's webhook, and (this product's extension of
# Statuspage's `type`) Microsoft Teams and Slack incoming webhooks. Statuspage's other types
# (sms, integration_partner) are reserved: listing them finds nobody, and the create body's
# `type` leaves them out. A channel is created with `endpoint` (its `email`, which Statuspage
# asks for as a contact, is not kept); the response carries its signing `secret`, the only
# time it is shown, and its endpoint masked, as every answer does (`serializers.subscriber`).

CHANNELS = ("webhook", "teams", "slack")


def _subscriber(subscriber_id: str) -> Subscriber:
    found = subscriber_queries.by_id(db.session, subscriber_id)
    if found is None:
        raise NotFound(subscriber_id)
    return found


@bp.get("/subscribers")
@authenticated
@operation("Subscribers of one type, by state", list[shapes.Subscriber], query=SubscriberListQuery)
def list_subscribers(query: SubscriberListQuery) -> Response:
    """Statuspage's list: `page` counts from 0 and skips page * limit subscribers; `limit`
    (or `per_page`) is at most 100; `state` defaults to active."""
    if query.type not in ("email", *CHANNELS):
        return jsonify([])
    items = subscriber_queries.listed(
        db.session,
        mode=query.type,
        state=query.state,
        q=query.q.strip()[:200],
        sort_field=query.sort_field,
        descending=query.sort_direction == "desc",
        limit=query.size,
        offset=query.page * query.size,
    )
    return jsonify([serializers.subscriber(s) for s in items])


@bp.post("/subscribers")
@authenticated
@operation(
    "Add an email subscriber, or a channel with `endpoint` (css or admin)",
    shapes.NewChannel | shapes.Subscriber,
    status=201,
    body=SubscriberRequest,
    example={
        "subscriber": {
            "email": "noc@example.com",
            "component_ids": ["1"],
            "skip_confirmation_notification": True,
        }
    },
    rules=NEW_SUBSCRIBER_RULES,
)
def create_subscriber(body: SubscriberRequest) -> Any:
    fields = body.subscriber
    errors = Errors()
    channel = fields.endpoint is not None or fields.type in CHANNELS
    if channel and fields.endpoint is None:
        errors.add("endpoint", f"a {fields.type} channel needs its https endpoint")
    if not channel and fields.email is None:
        errors.add("email", "is required")
    platforms: list[Platform] | None = None
    if fields.component_ids is not None:
        platforms = []
        for key in fields.component_ids:
            platform = _platform_or_none(str(key))
            if platform is None:
                errors.add("component_ids", f"unknown component {str(key)[:40]!r}")
                break
            platforms.append(platform)
    errors.raise_if_any()
    if fields.endpoint is not None:
        hook = subscriptions.subscribe_webhook(
            db.session,
            url=fields.endpoint,
            platforms=platform_queries.platforms(db.session) if platforms is None else platforms,
            mode=fields.type if fields.type in CHANNELS else "webhook",
            policy=webhooks.Policy.from_config(current_app.config),
            actor=actor(),
            now=clock.now(),
        )
        commit()
        created: shapes.NewChannel = {
            **serializers.subscriber(hook.subscriber),
            "secret": hook.secret,
        }
        return jsonify(created), 201
    subscriber = subscriptions.create_by_staff(
        db.session,
        actor(),
        secret=current_app.config["SECRET_KEY"],
        email=fields.email or "",
        platforms=platforms,
        skip_confirmation=bool(fields.skip_confirmation_notification),
        timezone=current_app.config["STATUSPAGE_TIMEZONE"],
        now=clock.now(),
    )
    commit()
    return jsonify(serializers.subscriber(subscriber)), 201


@bp.get("/subscribers/<subscriber_id>")
@authenticated
@operation("One subscriber", shapes.Subscriber)
def get_subscriber(subscriber_id: str) -> Response:
    return jsonify(serializers.subscriber(_subscriber(subscriber_id)))


@bp.delete("/subscribers/<subscriber_id>")
@authenticated
@operation(
    "Unsubscribe (css or admin): every subscription and every mailed link goes",
    shapes.Subscriber,
    query=UnsubscribeQuery,
)
def delete_subscriber(subscriber_id: str, query: UnsubscribeQuery) -> Response:
    """Unsubscribe. Statuspage's `skip_unsubscription_notification` is accepted and moot:
    no mail is sent on unsubscribing here."""
    found = _subscriber(subscriber_id)
    subscriptions.unsubscribe_by_staff(db.session, actor(), found, clock.now())
    commit()
    return jsonify(serializers.subscriber(found))


@bp.post("/subscribers/<subscriber_id>/resend_confirmation")
@authenticated
@operation(
    "Mail the opt-in again to an unconfirmed subscriber (css or admin)",
    shapes.Subscriber,
    status=201,
)
def resend_confirmation(subscriber_id: str) -> Any:
    found = _subscriber(subscriber_id)
    subscriptions.resend_confirmation(
        db.session, actor(), found, secret=current_app.config["SECRET_KEY"], now=clock.now()
    )
    commit()
    return jsonify(serializers.subscriber(found)), 201
