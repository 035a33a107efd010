"""The OpenAPI 3.1 document of both APIs (public v2 and Manage v1), served at /api/openapi.json.

Nothing here describes a field: the document is generated from the routes the app serves and
the contract each view declares with `@operation` (`statuspage.contract`). Paths and path
parameters come from the URL rules, query parameters and request bodies from the pydantic
models that validate them, responses from the typed dicts the serializers build, and the
security requirement from the Manage API's token check.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import TypeAdapter

from statuspage.contract import responses as shapes
from statuspage.contract.operations import ATTRIBUTE, SECURED, Operation
from statuspage.contract.requests import METADATA_NAMESPACE

REF = "#/components/schemas/{model}"
METHODS = ("get", "post", "put", "patch", "delete")
TAGS = {"api_v1": "manage v1", "api_v2": "public v2", "api_docs": "document"}
PATH_PARAMETERS = {
    "page_id": "the page's id (STATUSPAGE_PAGE_ID)",
    "incident_id": "an incident id, or w<n> for a maintenance window",
    "component_id": "a component (platform) id, or its slug",
    "subscriber_id": "a subscriber id",
}
SECURED_ERRORS = {
    401: "missing or invalid API token",
    403: "the token lacks the operation's scope (`insufficient_scope`), or its owner's role may "
    "not do this (e.g. P1G, or adding or removing a subscriber, by an engineer)",
    404: "unknown page or id",
}
INPUT_ERRORS = {422: "field-by-field errors (`errors`: field -> message); nothing was written"}
BODY_ERRORS = {413: "the body is larger than this service accepts"}
# Any write: the present state refuses it, or another request won the race to the same row.
WRITE_ERRORS = {
    409: "the request is well formed but what is there now refuses it (an address that has "
    "already unsubscribed, a window that has completed, a URL already subscribed), or "
    "another request changed the same thing at the same time; `errors` names the field. "
    "Nothing was written",
    503: "the database could not save this; try again shortly",
}
WRITES = ("post", "put", "patch", "delete")
DESCRIPTION = (
    "Statuspage-compatible: the public API v2 (no auth, CORS open) and the Manage API v1 "
    "shape (`Authorization: OAuth <token>`). A request with only Statuspage's fields is never "
    "refused for lacking one of this product's extras (justification, urgency, priority, "
    "case_number, customer_case_numbers, etr), and fields a client sends that are not "
    "described here are ignored. The extras are top-level fields or sit inside Statuspage's "
    f"`metadata` object under the one namespace `{METADATA_NAMESPACE}`, e.g. "
    f'`"metadata": {{"{METADATA_NAMESPACE}": {{"justification": "..."}}}}`; a top-level '
    "field wins. Scheduling maintenance, `body` stands for the justification when none is "
    "given, and for the urgency of work inside 05:00-23:00 (the page's time zone) when the "
    "request carries neither. A token carries scopes, and each operation's security "
    "requirement names the one it needs: `read` (incidents, maintenance, components), "
    "`write` (changing them), `subscribers` (subscribers, who are personal data); a token "
    "without it is refused with 403 `insufficient_scope`. Any staff token with "
    "`subscribers` lists and reads subscribers; adding, unsubscribing and re-mailing them "
    "need a css or admin token. Tokens expire (90 days unless made otherwise) and die with "
    "their owner's access. Generated from the "
    "schemas that validate the requests and shape the responses."
)


def operations(
    app: Flask,
) -> list[tuple[str, str, str, Operation, str | None, list[dict[str, Any]]]]:
    """(path, method, endpoint, contract, the token scope it needs or None, path parameters)
    of every /api/ route.

    A route without a declared contract is left out, and the tests fail on it."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, ATTRIBUTE, None)
        if declared is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        params = [
            _path_parameter(app, name, converter)
            for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule.rule)
        ]
        for method in sorted(m.lower() for m in rule.methods or () if m.lower() in METHODS):
            secured = getattr(view, SECURED, None) or None
            found.append((path, method, rule.endpoint, declared, secured, params))
    return found


def _path_parameter(app: Flask, name: str, converter: str) -> dict[str, Any]:
    """A path parameter as the router takes it: the page's one id, or the converter's
    pattern (`<incident_id:incident_id>` is "12" or "w7"), so a value the document allows
    reaches its view."""
    schema: dict[str, Any] = {"type": "string"}
    if name == "page_id":
        schema["enum"] = [app.config["STATUSPAGE_PAGE_ID"]]
    elif converter:
        schema["pattern"] = f"^(?:{app.url_map.converters[converter].regex})$"
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": PATH_PARAMETERS.get(name, name),
    }


def _json(schema: Any, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _parameters(query_schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(query_schema.get("required", ()))
    params = []
    for name, prop in query_schema.get("properties", {}).items():
        schema = {k: v for k, v in prop.items() if k not in ("title", "description")}
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": schema,
        }
        if prop.get("description"):
            param["description"] = prop["description"]
        params.append(param)
    return params


def document(app: Flask, server_url: str = "") -> dict[str, Any]:
    """The whole document, from the app's routes and their declared contracts."""
    found = operations(app)
    # One pass over every shape, so shared ones (Component, Incident) are defined once.
    inputs: list[tuple[tuple[str, str], Any, TypeAdapter[Any]]] = [
        (("error", "response"), "serialization", TypeAdapter(shapes.Error))
    ]
    for path, method, _, declared, _, _ in found:
        key = f"{method} {path}"
        inputs.append(((key, "response"), "serialization", TypeAdapter(declared.response)))
        if declared.body is not None:
            inputs.append(((key, "body"), "validation", TypeAdapter(declared.body)))
    schemas, definitions = TypeAdapter.json_schemas(
        [(key, mode, adapter) for key, mode, adapter in inputs], ref_template=REF
    )
    error = schemas[(("error", "response"), "serialization")]

    paths: dict[str, dict[str, Any]] = {}
    for path, method, endpoint, declared, secured, params in found:
        key = f"{method} {path}"
        blueprint, _, name = endpoint.partition(".")
        several = sum(1 for p, _, e, *_ in found if p == path and e == endpoint) > 1
        op: dict[str, Any] = {
            "tags": [TAGS.get(blueprint, blueprint)],
            "summary": declared.summary,
            "operationId": f"{TAGS.get(blueprint, blueprint).split()[-1]}_{name}"
            + (f"_{method}" if several else ""),
            "parameters": list(params),
        }
        if declared.description:
            op["description"] = declared.description
        if declared.query is not None:
            # Query strings are flat: each field is a parameter, with its own schema.
            op["parameters"] += _parameters(declared.query.model_json_schema(ref_template=REF))
        if declared.body is not None:
            content: dict[str, Any] = {"schema": schemas[((key, "body"), "validation")]}
            if declared.example is not None:
                content["example"] = declared.example
            op["requestBody"] = {"required": True, "content": {"application/json": content}}
        responses = {
            str(declared.status): _json(schemas[((key, "response"), "serialization")], "OK")
        }
        errors: dict[int, str] = {}
        if secured:
            # The token scope the operation needs (OpenAPI 3.1 lets an apiKey requirement
            # name them).
            op["security"] = [{"OAuth": [secured]}]
            errors |= SECURED_ERRORS
        # Bad input, and for the Manage API a change the rules refuse (a 422 from a service).
        if secured or declared.body is not None or declared.query is not None:
            errors |= INPUT_ERRORS
        if declared.body is not None:
            errors |= BODY_ERRORS
        if method in WRITES:
            errors |= WRITE_ERRORS
        errors |= declared.errors
        if declared.rules:
            # What the schemas cannot say (a known id, an end after the start): in words,
            # and by field for tools that check a 422 against them.
            op["x-rules"] = dict(declared.rules)
            errors[422] = (
                errors.get(422, INPUT_ERRORS[422])
                + "; besides the schemas, "
                + ("; ".join(f"`{name}`: {rule}" for name, rule in declared.rules.items()))
            )
        for status, description in sorted(errors.items()):
            responses[str(status)] = _json(error, description)
        op["responses"] = responses
        paths.setdefault(path, {})[method] = op

    return {
        "openapi": "3.1.0",
        "info": {"title": "Network status page API", "version": "1.0", "description": DESCRIPTION},
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "OAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`OAuth <token>` (or `Bearer <token>`)",
                }
            },
        },
    }
