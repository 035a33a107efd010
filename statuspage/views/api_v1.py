"""Statuspage Manage API v1 shape, for staff automation: change only the host.

`Authorization: OAuth <token>`; bodies wrapped as Statuspage wraps them
(`{"incident": {...}}`, `{"component": {...}}`, `{"subscriber": {...}}`). An incident with
`status: scheduled` and `scheduled_for` / `scheduled_until` is a maintenance window (ids
"w<n>"). The same role rules as the forms apply: they live in the services.

A request with only Statuspage's fields is never refused for lacking one of this product's
extras. The extras (justification, urgency, priority, case_number, customer_case_numbers,
etr: an incident update's estimated time of resolution, ISO 8601) are accepted as
top-level fields or inside Statuspage's `metadata` object under the one namespace
`network_status` (`"metadata": {"network_status": {"justification": ...}}`); a
top-level field wins. For maintenance, `body` stands for the justification when none is
given, and, when the request carries neither justification nor urgency (a client that
knows only Statuspage's fields), for the urgency of work inside 05:00-23:00 too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from statuspage import clock, serializers
from statuspage.extensions import csrf, db
from statuspage.models.vocab import PLATFORM_STATUSES
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.queries import subscribers as subscriber_queries
from statuspage.services import (
    NotFound,
    ValidationError,
    incidents,
    maintenance,
    staff,
    subscriptions,
    text,
)
from statuspage.services import platforms as platform_service
from statuspage.services.errors import Errors
from statuspage.views.errors import json_error
from statuspage.views.helpers import commit

if TYPE_CHECKING:
    from statuspage.models import Incident, MaintenanceWindow, Platform, Subscriber, User

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1/pages/<page_id>")
csrf.exempt(bp)

MAINTENANCE_STATUSES = ("scheduled", "in_progress", "verifying", "completed")
# Where this product's extras may sit inside Statuspage's `metadata` object.
METADATA_NAMESPACE = "network_status"
EXTRAS = ("justification", "urgency", "priority", "case_number", "customer_case_numbers", "etr")


@bp.url_value_preprocessor
def check_page(endpoint: str | None, values: dict[str, Any] | None) -> None:
    page_id = (values or {}).pop("page_id", None)
    if page_id != current_app.config["STATUSPAGE_PAGE_ID"]:
        raise NotFound(page_id)


@bp.url_defaults
def add_page(endpoint: str, values: dict[str, Any]) -> None:
    values.setdefault("page_id", current_app.config["STATUSPAGE_PAGE_ID"])


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
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

    return wrapped


def actor() -> User:
    return g.api_user  # type: ignore[no-any-return]


def _body(wrapper: str) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get(wrapper), dict):
        raise ValidationError({wrapper: f'send a JSON object {{"{wrapper}": {{...}}}}'})
    return data[wrapper]  # type: ignore[no-any-return]


def _typed(
    errors: Errors, body: dict[str, Any], name: str, kind: type | tuple[type, ...], label: str
) -> Any:
    """The field's value if it has the expected JSON type (None if absent), else an error.

    JSON true/false is never accepted where a number or string is expected.
    """
    value = body.get(name)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        errors.add(name, f"must be {label}")
        return None
    return value


def _with_extras(errors: Errors, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with the extras under `metadata.network_status` added where the top level has
    none. Other keys of `metadata` belong to the client and are left alone."""
    metadata = body.get("metadata")
    if metadata is None:
        return body
    if not isinstance(metadata, dict):
        errors.add("metadata", "must be an object")
        return body
    ours = metadata.get(METADATA_NAMESPACE)
    if ours is None:
        return body
    where = f"metadata.{METADATA_NAMESPACE}"
    if not isinstance(ours, dict):
        errors.add(where, "must be an object")
        return body
    unknown = [str(k)[:40] for k in ours if k not in EXTRAS]
    if unknown:
        errors.add(where, f"unknown field {unknown[0]!r}; known: {', '.join(EXTRAS)}")
    merged = dict(body)
    for name in EXTRAS:
        if body.get(name) is None and ours.get(name) is not None:
            merged[name] = ours[name]
    return merged


def _moment(errors: Errors, body: dict[str, Any], name: str) -> datetime | None:
    value = _typed(errors, body, name, str, "an ISO 8601 date-time")
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        errors.add(name, "must be an ISO 8601 date-time")
        return None
    if moment.tzinfo is None:
        errors.add(name, "needs a time zone offset")
        return None
    return moment


def _platform_statuses(errors: Errors, body: dict[str, Any]) -> dict[str, str]:
    """Statuspage's `components` ({id: status}) and `component_ids` (affected, unchanged)."""
    components = _typed(errors, body, "components", dict, "an object of component id: status")
    ids = _typed(errors, body, "component_ids", list, "a list of component ids")
    # Each id is looked up: bound the count before reading any.
    for name, given in (("components", components), ("component_ids", ids)):
        if given is not None and len(given) > text.LIST_MAX:
            errors.add(name, f"at most {text.LIST_MAX} components")
            return {}
    result: dict[str, str] = {}
    for key in ids or []:
        if not isinstance(key, str | int) or isinstance(key, bool):
            errors.add("component_ids", "must be a list of component ids")
            break
        platform = _platform_or_none(str(key))
        if platform is None:
            errors.add("component_ids", f"unknown component {str(key)[:40]!r}")
        else:
            result[str(platform.id)] = platform.status
    for key, status in (components or {}).items():
        if not isinstance(status, str):
            errors.add("components", "each status must be a string")
        else:
            result[str(key)] = status
    return result


def _platform_or_none(key: str) -> Platform | None:
    return platform_queries.by_key(db.session, key)


def _site() -> tuple[str, str]:
    return current_app.config["STATUSPAGE_PAGE_ID"], current_app.config["STATUSPAGE_URL"]


def _incident_json(item: Incident) -> dict[str, Any]:
    return serializers.incident(item, *_site(), staff=True)


def _window_json(window: MaintenanceWindow) -> dict[str, Any]:
    return serializers.scheduled_maintenance(window, *_site())


def _window_for(incident_id: str) -> MaintenanceWindow | None:
    if incident_id.startswith("w"):
        return maintenance.get_window(db.session, incident_id[1:])
    return None


# --- incidents -----------------------------------------------------------------------


@bp.get("/incidents")
@authenticated
def list_incidents() -> Response:
    errors = Errors()
    limit = request.args.get("limit", "100")
    page = request.args.get("page", "1")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        errors.add("limit", "must be a whole number from 1 to 100")
    if not page.isdigit() or not 1 <= int(page) <= 100_000:
        errors.add("page", "must be a whole number from 1")
    errors.raise_if_any()
    q = request.args.get("q", "").strip()[:200]
    items = incident_queries.search(db.session, q, int(page), int(limit))
    return jsonify([_incident_json(i) for i in items])


@bp.get("/incidents/unresolved")
@authenticated
def unresolved() -> Response:
    return jsonify([_incident_json(i) for i in incident_queries.open_incidents(db.session)])


@bp.get("/incidents/upcoming")
@authenticated
def upcoming() -> Response:
    items = maintenance_queries.upcoming(db.session, clock.now(), days=None)
    return jsonify([_window_json(w) for w in items[:100]])


@bp.get("/incidents/scheduled")
@authenticated
def scheduled() -> Response:
    items = maintenance_queries.listed(db.session, clock.now(), limit=100)
    return jsonify([_window_json(w) for w in items])


@bp.get("/incidents/active_maintenance")
@authenticated
def active_maintenance() -> Response:
    return jsonify([_window_json(w) for w in maintenance_queries.active(db.session)])


@bp.post("/incidents")
@authenticated
def create_incident() -> Any:
    body = _body("incident")
    if body.get("status") == "scheduled":
        return _create_window(body)
    errors = Errors()
    body = _with_extras(errors, body)
    name = _typed(errors, body, "name", str, "a string")
    status = _typed(errors, body, "status", str, "a string")
    impact = _typed(errors, body, "impact_override", str, "a string")
    message = _typed(errors, body, "body", str, "a string")
    priority = _typed(errors, body, "priority", str, "a string")
    case_number = _typed(errors, body, "case_number", str, "a string")
    cases = _typed(errors, body, "customer_case_numbers", (list, str), "a list of strings")
    notify = _typed(errors, body, "deliver_notifications", bool, "true or false")
    etr = _moment(errors, body, "etr")
    statuses = _platform_statuses(errors, body)
    if name is None and "name" not in errors.errors:
        errors.add("name", "is required")
    if isinstance(cases, list) and not all(isinstance(c, str) for c in cases):
        errors.add("customer_case_numbers", "must be a list of strings")
    errors.raise_if_any()
    created = incidents.create_incident(
        db.session,
        actor(),
        title=name,
        body=message or "",
        status=status or "investigating",
        impact=impact or "none",
        priority=priority or "P3",
        platform_statuses=statuses,
        case_number=case_number,
        customer_case_numbers=cases,
        deliver_notifications=True if notify is None else notify,
        etr=etr,
        now=clock.now(),
    )
    commit()
    return jsonify(_incident_json(created)), 201


def _create_window(body: dict[str, Any]) -> Any:
    errors = Errors()
    body = _with_extras(errors, body)
    name = _typed(errors, body, "name", str, "a string")
    message = _typed(errors, body, "body", str, "a string")
    justification = _typed(errors, body, "justification", str, "a string")
    urgency = _typed(errors, body, "urgency", str, "a string")
    impact = _typed(errors, body, "impact_override", str, "a string")
    starts, ends = _moment(errors, body, "scheduled_for"), _moment(errors, body, "scheduled_until")
    for flag in (
        "scheduled_auto_in_progress",
        "scheduled_auto_completed",
        "auto_transition_to_maintenance_state",
        "auto_transition_to_operational_state",
        "scheduled_remind_prior",
        "auto_transition_deliver_notifications_at_start",
        "auto_transition_deliver_notifications_at_end",
        "deliver_notifications",
    ):
        _typed(errors, body, flag, bool, "true or false")
    for flag in ("scheduled_auto_in_progress", "scheduled_auto_completed"):
        if body.get(flag) is False:
            errors.add(flag, "windows on this page always start and complete on time")
    statuses = _platform_statuses(errors, body)
    if name is None and "name" not in errors.errors:
        errors.add("name", "is required")
    if starts is None and "scheduled_for" not in errors.errors:
        errors.add("scheduled_for", "is required")
    if ends is None and "scheduled_until" not in errors.errors:
        errors.add("scheduled_until", "is required")
    if not (message or "").strip() and "body" not in errors.errors:
        # Every notice and calendar entry describes the work; body also stands for the
        # justification, so it is the one field asked for.
        errors.add("body", "describe the work")
    errors.raise_if_any()
    assert starts is not None and ends is not None
    window = maintenance.create_from_statuspage_fields(
        db.session,
        actor(),
        title=name,
        starts_at=starts,
        ends_at=ends,
        platforms=list(statuses),
        body=message or "",
        justification=justification,
        urgency=urgency,
        impact="none" if impact == "none" else "maintenance",
        tz_name=current_app.config["STATUSPAGE_TIMEZONE"],
        now=clock.now(),
    )
    commit()
    return jsonify(_window_json(window)), 201


@bp.get("/incidents/<incident_id>")
@authenticated
def get_incident(incident_id: str) -> Response:
    window = _window_for(incident_id)
    if window is not None:
        return jsonify(_window_json(window))
    return jsonify(_incident_json(incidents.get(db.session, incident_id)))


@bp.route("/incidents/<incident_id>", methods=["PATCH", "PUT"])
@authenticated
def update_incident(incident_id: str) -> Response:
    body = _body("incident")
    window = _window_for(incident_id)
    if window is not None:
        return _update_window(window, body)
    found = incidents.get(db.session, incident_id)
    errors = Errors()
    body = _with_extras(errors, body)
    name = _typed(errors, body, "name", str, "a string")
    status = _typed(errors, body, "status", str, "a string")
    impact = _typed(errors, body, "impact_override", str, "a string")
    message = _typed(errors, body, "body", str, "a string")
    priority = _typed(errors, body, "priority", str, "a string")
    case_number = _typed(errors, body, "case_number", str, "a string")
    cases = _typed(errors, body, "customer_case_numbers", (list, str), "a list of strings")
    notify = _typed(errors, body, "deliver_notifications", bool, "true or false")
    etr = _moment(errors, body, "etr")
    statuses = _platform_statuses(errors, body)
    errors.raise_if_any()
    now = clock.now()
    if any(v is not None for v in (name, impact, priority, case_number, cases)):
        incidents.edit_incident(
            db.session,
            actor(),
            found,
            title=name,
            impact=impact,
            priority=priority,
            case_number=case_number,
            customer_case_numbers=cases,
            now=now,
        )
    if message or (status and status != found.status) or statuses or etr is not None:
        incidents.post_update(
            db.session,
            actor(),
            found,
            status=status,
            body=message or "",
            platform_statuses=statuses,
            deliver_notifications=True if notify is None else notify,
            etr=etr,
            now=now,
        )
    commit()
    return jsonify(_incident_json(found))


def _update_window(window: MaintenanceWindow, body: dict[str, Any]) -> Response:
    errors = Errors()
    status = _typed(errors, body, "status", str, "a string")
    name = _typed(errors, body, "name", str, "a string")
    message = _typed(errors, body, "body", str, "a string")
    starts, ends = _moment(errors, body, "scheduled_for"), _moment(errors, body, "scheduled_until")
    if status is not None and status not in (*MAINTENANCE_STATUSES, "cancelled"):
        errors.add("status", f"must be one of {', '.join(MAINTENANCE_STATUSES)} or cancelled")
    statuses = _platform_statuses(errors, body)
    errors.raise_if_any()
    now = clock.now()
    if any(v is not None for v in (starts, ends, name, message)) or statuses:
        maintenance.change_window(
            db.session,
            actor(),
            window,
            starts_at=starts,
            ends_at=ends,
            title=name,
            note=message,
            platforms=list(statuses) if statuses else None,
            now=now,
        )
    if status is not None and status not in ("scheduled", window.status):
        maintenance.set_window_status(db.session, actor(), window, status, now)
    commit()
    return jsonify(_window_json(window))


@bp.delete("/incidents/<incident_id>")
@authenticated
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
def list_components() -> Response:
    page_id, _ = _site()
    return jsonify(
        [serializers.component(p, page_id) for p in platform_queries.platforms(db.session)]
    )


@bp.get("/components/<component_id>")
@authenticated
def get_component(component_id: str) -> Response:
    return jsonify(serializers.component(_component(component_id), _site()[0]))


@bp.route("/components/<component_id>", methods=["PATCH", "PUT"])
@authenticated
def update_component(component_id: str) -> Response:
    platform = _component(component_id)
    body = _body("component")
    errors = Errors()
    status = _typed(errors, body, "status", str, "a string")
    name = _typed(errors, body, "name", str, "a string")
    description = _typed(errors, body, "description", str, "a string")
    position = _typed(errors, body, "position", int, "a whole number")
    if status is not None and status not in PLATFORM_STATUSES:
        errors.add("status", f"must be one of {', '.join(PLATFORM_STATUSES)}")
    errors.raise_if_any()
    now = clock.now()
    if any(v is not None for v in (name, description, position)):
        platform_service.update_platform(
            db.session,
            actor(),
            platform,
            name=name,
            description=description,
            position=position,
            now=now,
        )
    if status is not None:
        platform_service.set_status(db.session, actor(), platform, status, now)
    commit()
    return jsonify(serializers.component(platform, _site()[0]))


# --- subscribers ---------------------------------------------------------------------
# Email and webhook subscribers; Statuspage's other types (sms, slack, teams,
# integration_partner) are reserved: listing them finds nobody, creating one is refused.
# A webhook is created with `endpoint` (its `email`, which Statuspage asks for as a contact,
# is not kept); the response carries its signing `secret`, the only time it is shown.

SUBSCRIBER_TYPES = ("email", "sms", "webhook", "slack", "teams", "integration_partner")


def _subscriber(subscriber_id: str) -> Subscriber:
    found = subscriber_queries.by_id(db.session, subscriber_id)
    if found is None:
        raise NotFound(subscriber_id)
    return found


def _whole(errors: Errors, name: str, default: str, low: int, high: int) -> int:
    value = request.args.get(name, default)
    if not value.isdigit() or not low <= int(value) <= high:
        errors.add(name, f"must be a whole number from {low} to {high}")
        return low
    return int(value)


def _one_of(errors: Errors, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        errors.add(name, f"must be one of {', '.join(allowed)}")
    return value


@bp.get("/subscribers")
@authenticated
def list_subscribers() -> Response:
    """Statuspage's list: `page` counts from 0 and skips page * limit subscribers; `limit`
    (or `per_page`) is at most 100; `state` defaults to active."""
    errors = Errors()
    per_page = request.args.get("per_page")
    limit = _whole(errors, "limit" if per_page is None else "per_page", "100", 1, 100)
    page = _whole(errors, "page", "0", 0, 100_000)
    kind = _one_of(errors, "type", "email", SUBSCRIBER_TYPES)
    state = _one_of(errors, "state", "active", subscriber_queries.STATES)
    sort_field = _one_of(errors, "sort_field", "created_at", subscriber_queries.SORT_FIELDS)
    direction = _one_of(errors, "sort_direction", "asc", ("asc", "desc"))
    errors.raise_if_any()
    if kind not in ("email", "webhook"):
        return jsonify([])
    items = subscriber_queries.listed(
        db.session,
        mode=kind,
        state=state,
        q=request.args.get("q", "").strip()[:200],
        sort_field=sort_field,
        descending=direction == "desc",
        limit=limit,
        offset=page * limit,
    )
    return jsonify([serializers.subscriber(s) for s in items])


@bp.post("/subscribers")
@authenticated
def create_subscriber() -> Any:
    body = _body("subscriber")
    errors = Errors()
    email = _typed(errors, body, "email", str, "a string")
    skip = _typed(errors, body, "skip_confirmation_notification", bool, "true or false")
    ids = _typed(errors, body, "component_ids", list, "a list of component ids")
    endpoint = _typed(errors, body, "endpoint", str, "a string")
    if body.get("phone_number") is not None:
        errors.add("phone_number", "SMS subscribers are not offered; subscribe an email address")
    if email is None and endpoint is None and "email" not in errors.errors:
        errors.add("email", "is required")
    platforms: list[Platform] | None = None
    if ids is not None:
        if len(ids) > text.LIST_MAX:
            errors.add("component_ids", f"at most {text.LIST_MAX} components")
            ids = []
        platforms = []
        for key in ids:
            if not isinstance(key, str | int) or isinstance(key, bool):
                errors.add("component_ids", "must be a list of component ids")
                break
            platform = _platform_or_none(str(key))
            if platform is None:
                errors.add("component_ids", f"unknown component {str(key)[:40]!r}")
                break
            platforms.append(platform)
    errors.raise_if_any()
    if endpoint is not None:
        hook = subscriptions.subscribe_webhook(
            db.session,
            url=endpoint,
            platforms=platform_queries.platforms(db.session) if platforms is None else platforms,
            allow_loopback=bool(current_app.config.get("WEBHOOK_ALLOW_LOOPBACK")),
            actor=actor(),
            now=clock.now(),
        )
        commit()
        return jsonify({**serializers.subscriber(hook.subscriber), "secret": hook.secret}), 201
    created = subscriptions.create_by_staff(
        db.session,
        actor(),
        secret=current_app.config["SECRET_KEY"],
        email=email or "",
        platforms=platforms,
        skip_confirmation=bool(skip),
        timezone=current_app.config["STATUSPAGE_TIMEZONE"],
        now=clock.now(),
    )
    commit()
    return jsonify(serializers.subscriber(created)), 201


@bp.get("/subscribers/<subscriber_id>")
@authenticated
def get_subscriber(subscriber_id: str) -> Response:
    return jsonify(serializers.subscriber(_subscriber(subscriber_id)))


@bp.delete("/subscribers/<subscriber_id>")
@authenticated
def delete_subscriber(subscriber_id: str) -> Response:
    """Unsubscribe. Statuspage's `skip_unsubscription_notification` is accepted and moot:
    no mail is sent on unsubscribing here."""
    found = _subscriber(subscriber_id)
    subscriptions.unsubscribe_by_staff(db.session, actor(), found, clock.now())
    commit()
    return jsonify(serializers.subscriber(found))


@bp.post("/subscribers/<subscriber_id>/resend_confirmation")
@authenticated
def resend_confirmation(subscriber_id: str) -> Any:
    found = _subscriber(subscriber_id)
    subscriptions.resend_confirmation(
        db.session, actor(), found, secret=current_app.config["SECRET_KEY"], now=clock.now()
    )
    commit()
    return jsonify(serializers.subscriber(found)), 201
