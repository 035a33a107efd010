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

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import BaseConverter

from statuspage import channels, clock
from statuspage.channels.base import Channel
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
from statuspage.renderers import serializers
from statuspage.services import (
    NotFound,
    incidents,
    maintenance,
    staff,
)
from statuspage.services import platforms as platform_service
from statuspage.services.errors import Errors, ValidationError
from statuspage.services.subscriptions import channel_signup, staff_api
from statuspage.views.errors import json_error
from statuspage.views.helpers import commit

if TYPE_CHECKING:
    from statuspage.models import Incident, MaintenanceWindow, Platform, Subscriber, User

P = ParamSpec("P")
R = TypeVar("R")

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


def _subscriber_rules() -> dict[str, str]:
    """What a new subscriber's address fields must be, beyond their schemas: each as the
    channel that takes it says (`Channel.api_rules`); a field no channel takes is refused."""
    rules: dict[str, str] = {}
    for channel in channels.all_channels():
        rules.update(channel.api_rules)
    rules["type"] = "the channel's address field is given"
    rules["component_ids"] = "each a known component id or slug"
    return rules


NEW_SUBSCRIBER_RULES = _subscriber_rules()


def _texts(versions: Mapping[Any, str | None] | None) -> dict[str, str | None] | None:
    """A request's versions of a text as the services take them ({language: text})."""
    return None if versions is None else {str(k): text for k, text in versions.items()}


CORRECTION_RULES = {
    "body": "a correction changes the text (or a version of it), and does not empty a text "
    "that had words",
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


def authenticated(scope: str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """The token check, before anything of the request is read (a stranger learns nothing
    from field errors): a working token (not revoked, not expired, its owner active) that
    carries `scope` (`read`, `write` or `subscribers`), declared on each route next to its
    `@operation`. A token without the scope is refused with 403 and `insufficient_scope`.
    A token's use is noted on it; a read commits that note, a write commits it with the
    change."""
    if scope not in staff.TOKEN_SCOPES:
        raise ValueError(f"unknown token scope {scope!r}")

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            header = request.headers.get("Authorization", "")
            kind, _, plaintext = header.partition(" ")
            token = None
            if kind.lower() in ("oauth", "bearer") and plaintext.strip():
                token = staff.token_for(db.session, plaintext.strip(), clock.now())
            if token is None:
                db.session.rollback()
                response = json_error(401, "a valid API token is required")
                response.headers["WWW-Authenticate"] = 'OAuth realm="statuspage"'
                return response
            if scope not in token.scope_list:
                commit()  # the use is noted even when refused
                response = json_error(403, f"this token lacks the {scope} scope")
                response.headers["WWW-Authenticate"] = (
                    f'OAuth realm="statuspage", error="insufficient_scope", scope="{scope}"'
                )
                return response
            if request.method in ("GET", "HEAD", "OPTIONS") and (
                db.session.dirty or db.session.new
            ):
                commit()
            g.api_user = token.user
            g.api_token = token
            return view(*args, **kwargs)

        setattr(wrapped, SECURED, scope)  # the document's security requirement
        return wrapped

    return decorate


def actor() -> User:
    user: User = g.api_user
    return user


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
@authenticated("read")
@operation("Incidents, newest first", list[shapes.Incident], query=IncidentListQuery)
def list_incidents(query: IncidentListQuery) -> Response:
    q = query.q.strip()[:200]
    items = incident_queries.search(db.session, q, query.page, query.limit)
    return jsonify([_incident_json(i) for i in items])


@bp.get("/incidents/unresolved")
@authenticated("read")
@operation("Open incidents", list[shapes.Incident])
def unresolved() -> Response:
    return jsonify([_incident_json(i) for i in incident_queries.open_incidents(db.session)])


@bp.get("/incidents/upcoming")
@authenticated("read")
@operation("Upcoming maintenance", list[shapes.ScheduledMaintenance])
def upcoming() -> Response:
    items = maintenance_queries.upcoming(db.session, clock.now(), days=None)
    return jsonify([_window_json(w) for w in items[:100]])


@bp.get("/incidents/scheduled")
@authenticated("read")
@operation("Scheduled maintenance", list[shapes.ScheduledMaintenance])
def scheduled() -> Response:
    items = maintenance_queries.listed(db.session, clock.now(), limit=100)
    return jsonify([_window_json(w) for w in items])


@bp.get("/incidents/active_maintenance")
@authenticated("read")
@operation("Maintenance in progress", list[shapes.ScheduledMaintenance])
def active_maintenance() -> Response:
    return jsonify([_window_json(w) for w in maintenance_queries.active(db.session)])


@bp.post("/incidents")
@authenticated("write")
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
            title_translations=_texts(fields.name_translations),
            body_translations=_texts(fields.body_translations),
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
@authenticated("read")
@operation("One incident or window", INCIDENT_OR_WINDOW)
def get_incident(incident_id: str) -> Response:
    window = _window_for(incident_id)
    if window is not None:
        return jsonify(_window_json(window))
    return jsonify(_incident_json(incidents.get(db.session, incident_id)))


@bp.route("/incidents/<incident_id:incident_id>", methods=["PATCH", "PUT"])
@authenticated("write")
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
                title_translations=_texts(fields.name_translations),
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
                body_translations=_texts(fields.body_translations),
                now=now,
            )
    commit()
    return jsonify(_incident_json(found))


@bp.patch("/incidents/<incident_id:incident_id>/incident_updates/<update_id>")
@authenticated("write")
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
            body_translations=_texts(fields.body_translations),
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
@authenticated("write")
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
@authenticated("read")
@operation("Platforms", list[shapes.Component])
def list_components() -> Response:
    page_id, _ = _site()
    return jsonify(
        [serializers.component(p, page_id) for p in platform_queries.platforms(db.session)]
    )


@bp.get("/components/<component_id>")
@authenticated("read")
@operation("One platform", shapes.Component)
def get_component(component_id: str) -> Response:
    return jsonify(serializers.component(_component(component_id), _site()[0]))


@bp.route("/components/<component_id>", methods=["PATCH", "PUT"])
@authenticated("write")
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
# Subscribers of every channel (`statuspage.channels`): Statuspage's email, webhook and
# sms, and this product's Microsoft Teams and Slack incoming webhooks. A Statuspage type no
# channel is (integration_partner) lists nobody. A channel is chosen by `type`, or by the
# address field given (`Channel.api_fields`: `endpoint`, `phone_number`...); a webhook's
# `email` (Statuspage asks for it as a contact) is not kept. A channel that signs what it
# sends answers with its signing `secret`, the only time it is shown; a secret address (a
# channel's URL) is masked in every answer (`serializers.subscriber`).


# Statuspage's type of a subscriber whose body names none and gives no other channel's
# address (an `email` alone; a webhook's `email` is only its contact).
DEFAULT_TYPE = "email"


def _channel_of(fields: Any) -> tuple[Channel | None, Errors]:
    """The channel a create body names (`type`), or the one whose address field it gives
    (email when none)."""
    errors = Errors()
    if fields.type is not None:
        return channels.get(fields.type), errors
    given = {name for name, value in fields.model_dump().items() if value is not None}
    default = channels.get(DEFAULT_TYPE)
    for channel in channels.all_channels():
        if channel is not default and given & set(channel.api_fields):
            return channel, errors
    return default, errors


def _subscriber(subscriber_id: str) -> Subscriber:
    found = subscriber_queries.by_id(db.session, subscriber_id)
    if found is None:
        raise NotFound(subscriber_id)
    return found


@bp.get("/subscribers")
@authenticated("subscribers")
@operation("Subscribers of one type, by state", list[shapes.Subscriber], query=SubscriberListQuery)
def list_subscribers(query: SubscriberListQuery) -> Response:
    """Statuspage's list: `page` counts from 0 and skips page * limit subscribers; `limit`
    (or `per_page`) is at most 100; `state` defaults to active."""
    if channels.find(query.type) is None:
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
@authenticated("subscribers")
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
    channel, errors = _channel_of(fields)
    assert channel is not None
    settings = current_app.config
    address = channel.address_from_api(fields.model_dump(), settings)
    if not address.strip():
        errors.add(channel.address_field, "is required")
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
    made = channel_signup.subscribe_channel(
        db.session,
        channel=channel.name,
        address=address,
        platforms=platform_queries.platforms(db.session) if platforms is None else platforms,
        settings=settings,
        secret=settings["SECRET_KEY"],
        actor=actor(),
        skip_confirmation=bool(fields.skip_confirmation_notification),
        timezone=settings["STATUSPAGE_TIMEZONE"] if channel.owned_address else "UTC",
        now=clock.now(),
    )
    commit()
    if made.secret is not None:
        created: shapes.NewChannel = {
            **serializers.subscriber(made.subscriber),
            "secret": made.secret,
        }
        return jsonify(created), 201
    return jsonify(serializers.subscriber(made.subscriber)), 201


@bp.get("/subscribers/<subscriber_id>")
@authenticated("subscribers")
@operation("One subscriber", shapes.Subscriber)
def get_subscriber(subscriber_id: str) -> Response:
    return jsonify(serializers.subscriber(_subscriber(subscriber_id)))


@bp.delete("/subscribers/<subscriber_id>")
@authenticated("subscribers")
@operation(
    "Unsubscribe (css or admin): every subscription and every mailed link goes",
    shapes.Subscriber,
    query=UnsubscribeQuery,
)
def delete_subscriber(subscriber_id: str, query: UnsubscribeQuery) -> Response:
    """Unsubscribe. Statuspage's `skip_unsubscription_notification` is accepted and moot:
    no mail is sent on unsubscribing here."""
    found = _subscriber(subscriber_id)
    staff_api.unsubscribe_by_staff(db.session, actor(), found, clock.now())
    commit()
    return jsonify(serializers.subscriber(found))


@bp.post("/subscribers/<subscriber_id>/resend_confirmation")
@authenticated("subscribers")
@operation(
    "Mail the opt-in again to an unconfirmed subscriber (css or admin)",
    shapes.Subscriber,
    status=201,
)
def resend_confirmation(subscriber_id: str) -> Any:
    found = _subscriber(subscriber_id)
    staff_api.resend_confirmation(
        db.session, actor(), found, secret=current_app.config["SECRET_KEY"], now=clock.now()
    )
    commit()
    return jsonify(serializers.subscriber(found)), 201
