"""The OpenAPI 3.1 document of both APIs (public v2 and manage v1), served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

NULLABLE_STR = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
PLATFORM_STATUS = {
    "type": "string",
    "enum": [
        "operational",
        "under_maintenance",
        "degraded_performance",
        "partial_outage",
        "major_outage",
    ],
}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": required if required is not None else list(props),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Page": _obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "url": {"type": "string"},
            "time_zone": {"type": "string"},
            "updated_at": NULLABLE_TIME,
        }
    ),
    "Status": _obj(
        {
            "indicator": {
                "type": "string",
                "enum": ["none", "minor", "major", "critical", "maintenance"],
            },
            "description": {"type": "string"},
        }
    ),
    "Component": _obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "status": PLATFORM_STATUS,
            "created_at": TIME,
            "updated_at": TIME,
            "position": {"type": "integer"},
            "description": NULLABLE_STR,
            "showcase": {"type": "boolean"},
            "start_date": {"type": ["string", "null"]},
            "group_id": NULLABLE_STR,
            "page_id": {"type": "string"},
            "group": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "slug": {"type": "string", "description": "extra: the platform's slug"},
        },
        [
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "start_date",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        ],
    ),
    "AffectedComponent": _obj(
        {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "old_status": PLATFORM_STATUS,
            "new_status": PLATFORM_STATUS,
        }
    ),
    "IncidentUpdate": _obj(
        {
            "id": {"type": "string"},
            "status": {"type": "string"},
            "body": {"type": "string"},
            "incident_id": {"type": "string"},
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": {"type": "array", "items": _ref("AffectedComponent")},
            "deliver_notifications": {"type": "boolean"},
            "etr": {
                **NULLABLE_TIME,
                "description": "extra: the estimated time of resolution this update gave",
            },
        },
        [
            "id",
            "status",
            "body",
            "incident_id",
            "created_at",
            "updated_at",
            "display_at",
            "affected_components",
            "deliver_notifications",
        ],
    ),
    "Incident": _obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["investigating", "identified", "monitoring", "resolved", "postmortem"],
            },
            "impact": {"type": "string", "enum": ["none", "minor", "major", "critical"]},
            "created_at": TIME,
            "updated_at": TIME,
            "started_at": TIME,
            "monitoring_at": NULLABLE_TIME,
            "resolved_at": NULLABLE_TIME,
            "shortlink": {"type": "string"},
            "page_id": {"type": "string"},
            "components": {"type": "array", "items": _ref("Component")},
            "incident_updates": {"type": "array", "items": _ref("IncidentUpdate")},
            "priority": {
                "type": "string",
                "enum": ["P1G", "P1", "P2", "P3", "P4"],
                "description": "extra: the support plan's priority; P1G is a master case",
            },
            "master_case": {"type": "boolean", "description": "extra"},
            "case_number": {**NULLABLE_STR, "description": "extra: the support case number"},
            "customer_case_numbers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "extra, Manage API v1 (staff) only: customers' own case "
                "numbers are never public",
            },
            "next_update_due_at": {
                **NULLABLE_TIME,
                "description": "extra: when the next update is due (P1G hourly), or the "
                "newest update's ETR when it gave one",
            },
        },
        [
            "id",
            "name",
            "status",
            "impact",
            "created_at",
            "updated_at",
            "started_at",
            "monitoring_at",
            "resolved_at",
            "shortlink",
            "page_id",
            "components",
            "incident_updates",
        ],
    ),
    "ScheduledMaintenance": _obj(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "status": {
                "type": "string",
                "enum": ["scheduled", "in_progress", "verifying", "completed"],
            },
            "impact": {"type": "string", "enum": ["none", "maintenance"]},
            "created_at": TIME,
            "updated_at": TIME,
            "started_at": NULLABLE_TIME,
            "monitoring_at": NULLABLE_TIME,
            "resolved_at": NULLABLE_TIME,
            "shortlink": {"type": "string"},
            "scheduled_for": TIME,
            "scheduled_until": TIME,
            "page_id": {"type": "string"},
            "components": {"type": "array", "items": _ref("Component")},
            "incident_updates": {"type": "array", "items": _ref("IncidentUpdate")},
            "justification": {"type": "string", "description": "extra"},
        },
        [
            "id",
            "name",
            "status",
            "impact",
            "created_at",
            "updated_at",
            "scheduled_for",
            "scheduled_until",
            "page_id",
            "components",
            "incident_updates",
        ],
    ),
    "Subscriber": _obj(
        {
            "id": {"type": "string"},
            "mode": {"type": "string", "enum": ["email"]},
            "email": {"type": "string"},
            "endpoint": NULLABLE_STR,
            "phone_number": NULLABLE_STR,
            "phone_country": NULLABLE_STR,
            "display_phone_number": NULLABLE_STR,
            "obfuscated_channel_name": NULLABLE_STR,
            "workspace_name": NULLABLE_STR,
            "skip_confirmation_notification": {
                "type": "boolean",
                "description": "confirmed without its own opt-in (added with the flag, or "
                "imported from an MPOC list)",
            },
            "quarantined_at": {**NULLABLE_TIME, "description": "always null: nobody is"},
            "purge_at": NULLABLE_TIME,
            "components": {
                "type": "array",
                "items": {"type": "string"},
                "description": "ids of the platforms (components) subscribed to",
            },
            "page_access_user_id": NULLABLE_STR,
            "created_at": TIME,
            "state": {
                "type": "string",
                "enum": ["active", "unconfirmed", "unsubscribed"],
                "description": "extra",
            },
            "incident_ids": {
                "type": "array",
                "items": {"type": "string"},
                "description": "extra: the incidents subscribed to one by one",
            },
        },
        [
            "id",
            "mode",
            "email",
            "skip_confirmation_notification",
            "quarantined_at",
            "purge_at",
            "components",
            "created_at",
        ],
    ),
    "Error": _obj(
        {
            "error": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        ["error"],
    ),
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "401": _json(_ref("Error"), "missing or invalid API token"),
    "403": _json(
        _ref("Error"),
        "the token's role may not do this (e.g. P1G, or adding or removing a subscriber, by "
        "an engineer)",
    ),
    "404": _json(_ref("Error"), "unknown page or id"),
    "422": _json(_ref("Error"), "field-by-field errors; nothing was written"),
}


def _v2(name: str, key: str, schema: dict[str, Any], summary: str) -> dict[str, Any]:
    props = {"page": _ref("Page"), key: schema}
    return {
        "get": {
            "tags": ["public v2"],
            "summary": summary,
            "operationId": f"v2_{name}",
            "responses": {"200": _json(_obj(props))},
        }
    }


METADATA_NAMESPACE = "network_status"
EXTRAS_DOC = {
    "justification": {"type": "string", "description": "maintenance: why the work is needed"},
    "urgency": {
        "type": "string",
        "description": "maintenance: why unscheduled work inside 05:00-23:00 MT cannot wait",
    },
    "priority": {"type": "string", "description": "P1G needs a css or admin token"},
    "case_number": {"type": "string"},
    "customer_case_numbers": {"type": "array", "items": {"type": "string"}},
    "etr": {**TIME, "description": "incidents: estimated time of resolution (ISO 8601)"},
}
METADATA = {
    "type": "object",
    "description": f"Statuspage's metadata. This product's extras may sit under "
    f"`{METADATA_NAMESPACE}`; other keys are the client's own and are ignored.",
    "properties": {
        METADATA_NAMESPACE: {
            "type": "object",
            "properties": EXTRAS_DOC,
            "additionalProperties": False,
        }
    },
}
INCIDENT_BODY = {
    "type": "object",
    "required": ["incident"],
    "properties": {
        "incident": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "status": {"type": "string"},
                "impact_override": {"type": "string"},
                "body": {"type": "string"},
                "component_ids": {"type": "array", "items": {"type": "string"}},
                "components": {"type": "object", "additionalProperties": PLATFORM_STATUS},
                "deliver_notifications": {"type": "boolean"},
                "scheduled_for": TIME,
                "scheduled_until": TIME,
                "scheduled_auto_in_progress": {"type": "boolean"},
                "scheduled_auto_completed": {"type": "boolean"},
                "scheduled_remind_prior": {"type": "boolean"},
                "priority": {
                    "type": "string",
                    "description": "extra; P1G needs a css or admin token",
                },
                "case_number": {"type": "string", "description": "extra"},
                "customer_case_numbers": {"type": "array", "items": {"type": "string"}},
                "etr": {
                    **TIME,
                    "description": "extra: estimated time of resolution, given instead of "
                    "scheduled updates; the next update is due at it",
                },
                "justification": {
                    "type": "string",
                    "description": "extra, for maintenance; `body` stands for it when absent",
                },
                "urgency": {
                    "type": "string",
                    "description": "extra: why unscheduled work inside 05:00-23:00 MT cannot "
                    "wait; when neither it nor a justification is given, `body` stands for it",
                },
                "metadata": METADATA,
            },
        }
    },
}
COMPONENT_BODY = {
    "type": "object",
    "required": ["component"],
    "properties": {
        "component": {
            "type": "object",
            "properties": {
                "status": PLATFORM_STATUS,
                "name": {"type": "string"},
                "description": {"type": "string"},
                "position": {"type": "integer"},
            },
        }
    },
}
SUBSCRIBER_BODY = {
    "type": "object",
    "required": ["subscriber"],
    "properties": {
        "subscriber": {
            "type": "object",
            "required": ["email"],
            "properties": {
                "email": {"type": "string"},
                "component_ids": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "description": "the platforms; every platform when left out",
                },
                "skip_confirmation_notification": {
                    "type": "boolean",
                    "description": "true: a css or admin token vouches for the address, which "
                    "is confirmed at once with no mail; otherwise the opt-in mail goes out and "
                    "nothing else is sent until it is confirmed",
                },
            },
        }
    },
}
INCIDENT_OR_WINDOW = {"oneOf": [_ref("Incident"), _ref("ScheduledMaintenance")]}
SECURED = [{"OAuth": []}]
PAGE_PARAM = {"name": "page_id", "in": "path", "required": True, "schema": {"type": "string"}}
ID_PARAM = {
    "name": "incident_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "an incident id, or w<n> for a maintenance window",
}
SUBSCRIBER_PARAM = {
    "name": "subscriber_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema or {"type": "string"},
        "description": description,
    }


SUBSCRIBER_QUERY = [
    _query("q", "part of the address"),
    _query(
        "type",
        "email (the default); sms, webhook, slack, teams and integration_partner are "
        "reserved and list nobody",
        {
            "type": "string",
            "enum": ["email", "sms", "webhook", "slack", "teams", "integration_partner"],
        },
    ),
    _query(
        "state",
        "active (the default), unconfirmed, unsubscribed, quarantined (nobody) or all",
        {"type": "string", "enum": ["active", "unconfirmed", "quarantined", "unsubscribed", "all"]},
    ),
    _query("limit", "at most 100 (the default)", {"type": "integer", "minimum": 1, "maximum": 100}),
    _query("per_page", "same as limit", {"type": "integer", "minimum": 1, "maximum": 100}),
    _query(
        "page",
        "the page offset, from 0: skips page * limit subscribers",
        {"type": "integer", "minimum": 0},
    ),
    _query(
        "sort_field",
        "primary (the address) or created_at (the default); quarantined_at and relevance "
        "sort as created_at",
        {"type": "string", "enum": ["primary", "created_at", "quarantined_at", "relevance"]},
    ),
    _query(
        "sort_direction", "asc (the default) or desc", {"type": "string", "enum": ["asc", "desc"]}
    ),
]
COMPONENT_PARAM = {
    "name": "component_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
}


def _v1(
    method: str,
    op: str,
    summary: str,
    response: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    example: dict[str, Any] | None = None,
    status: str = "200",
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["manage v1"],
        "summary": summary,
        "operationId": op,
        "security": SECURED,
        "parameters": [PAGE_PARAM, *(params or [])],
        "responses": {status: _json(response), **ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body, "example": example or {}}},
        }
    return {method: operation}


def document(server_url: str = "") -> dict[str, Any]:
    v1 = "/api/v1/pages/{page_id}"
    incident_list = {"type": "array", "items": _ref("Incident")}
    window_list = {"type": "array", "items": _ref("ScheduledMaintenance")}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Network status page API",
            "version": "1.0",
            "description": "Statuspage-compatible: the public API v2 (no auth, CORS "
            "open) and the Manage API v1 shape (`Authorization: OAuth <token>`). A request "
            "with only Statuspage's fields is never refused for lacking one of this "
            "product's extras (justification, urgency, priority, case_number, "
            "customer_case_numbers). The extras are top-level fields or sit inside "
            f"Statuspage's `metadata` object under the one namespace `{METADATA_NAMESPACE}`, "
            f'e.g. `"metadata": {{"{METADATA_NAMESPACE}": {{"justification": "..."}}}}`; a '
            "top-level field wins. Scheduling maintenance, `body` stands for the "
            "justification when none is given, and for the urgency of work inside "
            "05:00-23:00 MT when the request carries neither. Any staff token lists and "
            "reads subscribers; adding, unsubscribing and re-mailing them need a css or "
            "admin token.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": {
            "/api/v2/summary.json": {
                "get": {
                    "tags": ["public v2"],
                    "summary": "Everything on the page",
                    "operationId": "v2_summary",
                    "responses": {
                        "200": _json(
                            _obj(
                                {
                                    "page": _ref("Page"),
                                    "components": {"type": "array", "items": _ref("Component")},
                                    "incidents": incident_list,
                                    "scheduled_maintenances": window_list,
                                    "status": _ref("Status"),
                                }
                            )
                        )
                    },
                }
            },
            "/api/v2/status.json": _v2("status", "status", _ref("Status"), "The indicator"),
            "/api/v2/components.json": _v2(
                "components",
                "components",
                {"type": "array", "items": _ref("Component")},
                "Platforms and their status",
            ),
            "/api/v2/incidents.json": _v2(
                "incidents", "incidents", incident_list, "The 50 newest incidents"
            ),
            "/api/v2/incidents/unresolved.json": _v2(
                "unresolved", "incidents", incident_list, "Open incidents, master cases first"
            ),
            "/api/v2/scheduled-maintenances.json": _v2(
                "maintenances", "scheduled_maintenances", window_list, "Recent and upcoming windows"
            ),
            "/api/v2/scheduled-maintenances/upcoming.json": _v2(
                "upcoming", "scheduled_maintenances", window_list, "Windows to come"
            ),
            "/api/v2/scheduled-maintenances/active.json": _v2(
                "active", "scheduled_maintenances", window_list, "Windows in progress"
            ),
            f"{v1}/incidents": {
                **_v1(
                    "get",
                    "v1_list_incidents",
                    "Incidents, newest first",
                    incident_list,
                    params=[
                        {"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                        for n in ("q", "limit", "page")
                    ],
                ),
                **_v1(
                    "post",
                    "v1_create_incident",
                    "Open an incident, or schedule maintenance (status: scheduled)",
                    INCIDENT_OR_WINDOW,
                    body=INCIDENT_BODY,
                    status="201",
                    example={
                        "incident": {
                            "name": "Calls dropping",
                            "status": "investigating",
                            "impact_override": "minor",
                            "body": "Looking",
                            "components": {"1": "degraded_performance"},
                        }
                    },
                ),
            },
            f"{v1}/incidents/unresolved": _v1(
                "get", "v1_unresolved", "Open incidents", incident_list
            ),
            f"{v1}/incidents/upcoming": _v1(
                "get", "v1_upcoming", "Upcoming maintenance", window_list
            ),
            f"{v1}/incidents/scheduled": _v1(
                "get", "v1_scheduled", "Scheduled maintenance", window_list
            ),
            f"{v1}/incidents/active_maintenance": _v1(
                "get", "v1_active", "Maintenance in progress", window_list
            ),
            f"{v1}/incidents/{{incident_id}}": {
                **_v1(
                    "get",
                    "v1_get_incident",
                    "One incident or window",
                    INCIDENT_OR_WINDOW,
                    params=[ID_PARAM],
                ),
                **_v1(
                    "patch",
                    "v1_update_incident",
                    "Update: a timeline entry and/or edits",
                    INCIDENT_OR_WINDOW,
                    body=INCIDENT_BODY,
                    params=[ID_PARAM],
                    example={"incident": {"status": "identified", "body": "Found it"}},
                ),
                **_v1(
                    "put",
                    "v1_replace_incident",
                    "Same as PATCH",
                    INCIDENT_OR_WINDOW,
                    body=INCIDENT_BODY,
                    params=[ID_PARAM],
                    example={"incident": {"body": "Still on it"}},
                ),
                **_v1(
                    "delete",
                    "v1_delete_incident",
                    "Delete an incident (a window is cancelled)",
                    INCIDENT_OR_WINDOW,
                    params=[ID_PARAM],
                ),
            },
            f"{v1}/subscribers": {
                **_v1(
                    "get",
                    "v1_list_subscribers",
                    "Email subscribers, by state",
                    {"type": "array", "items": _ref("Subscriber")},
                    params=SUBSCRIBER_QUERY,
                ),
                **_v1(
                    "post",
                    "v1_create_subscriber",
                    "Add an email subscriber (css or admin)",
                    _ref("Subscriber"),
                    body=SUBSCRIBER_BODY,
                    status="201",
                    example={
                        "subscriber": {
                            "email": "noc@example.com",
                            "component_ids": ["1"],
                            "skip_confirmation_notification": True,
                        }
                    },
                ),
            },
            f"{v1}/subscribers/{{subscriber_id}}": {
                **_v1(
                    "get",
                    "v1_get_subscriber",
                    "One subscriber",
                    _ref("Subscriber"),
                    params=[SUBSCRIBER_PARAM],
                ),
                **_v1(
                    "delete",
                    "v1_delete_subscriber",
                    "Unsubscribe (css or admin): every subscription and every mailed link goes",
                    _ref("Subscriber"),
                    params=[
                        SUBSCRIBER_PARAM,
                        _query(
                            "skip_unsubscription_notification",
                            "accepted; no mail is sent on unsubscribing here",
                        ),
                    ],
                ),
            },
            f"{v1}/subscribers/{{subscriber_id}}/resend_confirmation": _v1(
                "post",
                "v1_resend_confirmation",
                "Mail the opt-in again to an unconfirmed subscriber (css or admin)",
                _ref("Subscriber"),
                status="201",
                params=[SUBSCRIBER_PARAM],
            ),
            f"{v1}/components": _v1(
                "get", "v1_components", "Platforms", {"type": "array", "items": _ref("Component")}
            ),
            f"{v1}/components/{{component_id}}": {
                **_v1(
                    "get",
                    "v1_get_component",
                    "One platform",
                    _ref("Component"),
                    params=[COMPONENT_PARAM],
                ),
                **_v1(
                    "patch",
                    "v1_update_component",
                    "Set a platform's status",
                    _ref("Component"),
                    body=COMPONENT_BODY,
                    params=[COMPONENT_PARAM],
                    example={"component": {"status": "degraded_performance"}},
                ),
                **_v1(
                    "put",
                    "v1_replace_component",
                    "Same as PATCH",
                    _ref("Component"),
                    body=COMPONENT_BODY,
                    params=[COMPONENT_PARAM],
                    example={"component": {"status": "operational"}},
                ),
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "OAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`OAuth <token>` (or `Bearer`)",
                }
            },
        },
    }
