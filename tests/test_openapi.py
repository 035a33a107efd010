"""The OpenAPI document covers both APIs, and every route in it answers as documented."""

from __future__ import annotations

import re
from datetime import date

import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance, staff
from tests.conftest import NOW


@pytest.fixture
def spec(client):  # type: ignore[no-untyped-def]
    return client.get("/api/openapi.json").get_json()


@pytest.fixture
def token(db, admin):  # type: ignore[no-untyped-def]
    plaintext, _ = staff.create_token(db, None, admin, now=NOW)
    incidents.create_incident(
        db, admin, title="Down", priority="P2", platform_statuses={"cisco": "major_outage"}, now=NOW
    )
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    return plaintext


def api_rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/v1/", "/api/v2/")):
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), rule


def test_every_api_route_is_documented_and_every_documented_path_exists(app, spec):
    served: dict[str, set[str]] = {}
    for path, rule in api_rules(app):
        served.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert set(served) == set(spec["paths"])
    for path, methods in served.items():
        assert {m.upper() for m in spec["paths"][path]} == methods, path


def validator(spec, schema):  # type: ignore[no-untyped-def]
    """A validator for a schema whose $refs point into the document's components."""
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(spec))
    return jsonschema.Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(node):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        return {k: ("urn:spec" + v if k == "$ref" else _rebase(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def test_every_documented_operation_answers_as_documented(client, spec, token):
    order = {"get": 0, "post": 1, "put": 2, "patch": 3, "delete": 4}
    for path, item in spec["paths"].items():
        for method, op in sorted(item.items(), key=lambda kv: order[kv[0]]):
            url = (
                path.replace("{page_id}", "calltower")
                .replace("{incident_id}", "1")
                .replace("{component_id}", "2")
                .replace("{subscriber_id}", "1")
            )
            kwargs = {}
            if op.get("security"):
                kwargs["headers"] = {"Authorization": f"OAuth {token}"}
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "example" in body:
                kwargs["json"] = body["example"]
            response = client.open(url, method=method.upper(), **kwargs)
            status = str(response.status_code)
            assert status in op["responses"], (method, url, status, response.get_json())
            schema = op["responses"][status]["content"]["application/json"]["schema"]
            validator(spec, schema).validate(response.get_json())
            if op.get("security"):
                anonymous = client.open(url, method=method.upper(), json=kwargs.get("json"))
                assert anonymous.status_code == 401
