"""The OpenAPI document is generated from the declared contract (`statuspage.contract`): it is
valid OpenAPI, covers every /api/ route, moves with the models that validate requests, and
describes what the endpoints really answer."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, get_args

import jsonschema
import pytest
from openapi_spec_validator import validate
from pydantic import Field, create_model
from sqlalchemy import func, select

from statuspage.contract import openapi
from statuspage.contract import responses as shapes
from statuspage.contract.operations import ATTRIBUTE
from statuspage.contract.requests import ComponentFields, ComponentRequest
from statuspage.models import AuditEntry, Platform
from statuspage.models.vocab import IMPACTS, INCIDENT_STATUSES, PLATFORM_STATUSES
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance, staff
from statuspage.services.subscriptions import staff_api
from tests.api.support import validator
from tests.helpers import NOW, master_case, token_headers

V1 = "/api/v1/pages/calltower"


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").get_json()


@pytest.fixture
def token(db, admin):
    plaintext, _ = staff.create_token(db, None, admin, now=NOW)
    opened = NOW - timedelta(minutes=5)
    words = {"title": "Down", "body": "Looking", "impact": "none"}
    cisco_down, cases = {"cisco": "major_outage"}, "C-1, C-2"
    master = master_case(
        db, admin, platforms=cisco_down, customer_case_numbers=cases, now=opened, **words
    )
    incidents.post_update(
        db, admin, master, status="identified", body="Found", etr=NOW + timedelta(hours=2), now=NOW
    )
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    staff_api.create_by_staff(
        db, admin, secret="s", email="noc@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    return plaintext


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), rule


def test_the_document_is_valid_openapi(spec):
    validate(spec)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["OAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`OAuth <token>` (or `Bearer <token>`)",
    }


def test_every_api_route_is_documented_and_every_documented_path_exists(app, spec):
    served: dict[str, set[str]] = {}
    for path, rule in api_rules(app):
        served.setdefault(path, set()).update(rule.methods - {"HEAD", "OPTIONS"})
    assert set(served) == set(spec["paths"])
    for path, methods in served.items():
        assert {m.upper() for m in spec["paths"][path]} == methods, path
    for path, item in spec["paths"].items():
        for op in item.values():
            # Only the Manage API needs a token, and every one of its operations does.
            assert bool(op.get("security")) == path.startswith("/api/v1/"), path


def test_every_api_view_declares_its_contract(app):
    undeclared = [
        rule.endpoint
        for _, rule in api_rules(app)
        if getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None) is None
    ]
    assert undeclared == []


def test_the_declared_vocabularies_are_the_models(app):
    assert get_args(shapes.PlatformStatus) == tuple(PLATFORM_STATUSES)
    assert get_args(shapes.IncidentStatus) == tuple(INCIDENT_STATUSES)
    assert get_args(shapes.Impact) == tuple(IMPACTS)


def test_request_bodies_and_query_parameters_come_from_the_models(spec):
    schemas = spec["components"]["schemas"]
    create = spec["paths"][f"{V1.replace('calltower', '{page_id}')}/incidents"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/NewIncidentRequest"}
    fields = schemas["NewIncidentFields"]
    assert "name" in fields["required"]
    assert {"justification", "urgency", "etr", "metadata", "scheduled_for"} <= set(
        fields["properties"]
    )
    extras = schemas["NetworkStatusExtras"]
    assert extras["additionalProperties"] is False
    listing = spec["paths"]["/api/v1/pages/{page_id}/subscribers"]["get"]["parameters"]
    limit = next(p for p in listing if p["name"] == "limit")
    assert limit["in"] == "query" and limit["schema"]["maximum"] == 100
    state = next(p for p in listing if p["name"] == "state")
    assert "unsubscribed" in state["schema"]["enum"]


def test_a_field_added_to_a_request_model_is_documented_and_validated(
    app, client, db, admin, monkeypatch
):
    """The document and the validation read one declaration: extend the model and both move.
    A hand-written document would not show the new field."""
    plaintext, _ = staff.create_token(db, None, admin, now=NOW)
    db.commit()
    headers = token_headers(plaintext)
    cisco = db.scalar(select(Platform.id).where(Platform.slug == "cisco"))
    path = f"{V1}/components/{cisco}"
    ticketed = {"component": {"status": "degraded_performance", "ticket": "nope"}}
    # Undeclared, the field is one of the many a client may send: ignored.
    assert client.patch(path, headers=headers, json=ticketed).status_code == 200

    fields = create_model(
        "TicketedComponentFields",
        __base__=ComponentFields,
        ticket=(
            Annotated[str | None, Field(pattern=r"^OPS-\d+$", description="a change ticket")],
            None,
        ),
    )
    wrapped = create_model(
        "TicketedComponentRequest", __base__=ComponentRequest, component=(fields, ...)
    )
    declared = getattr(app.view_functions["api_v1.update_component"], ATTRIBUTE)
    monkeypatch.setattr(declared, "body", wrapped)

    with app.app_context():
        document = openapi.document(app)
    validate(document)
    patch = document["paths"]["/api/v1/pages/{page_id}/components/{component_id}"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TicketedComponentRequest"
    }
    ticket = document["components"]["schemas"]["TicketedComponentFields"]["properties"]["ticket"]
    assert {"type": "string", "pattern": r"^OPS-\d+$"} in ticket["anyOf"]

    before = db.scalar(select(func.count()).select_from(AuditEntry))
    refused = client.patch(
        path, headers=headers, json={"component": {"status": "major_outage", "ticket": "nope"}}
    )
    assert refused.status_code == 422 and "ticket" in refused.get_json()["errors"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert db.get(Platform, cisco).status == "degraded_performance"
    accepted = client.patch(
        path, headers=headers, json={"component": {"status": "major_outage", "ticket": "OPS-7"}}
    )
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "major_outage"


def response_schema(spec, path, method="get", status="200"):
    op = spec["paths"][path][method]
    return op["responses"][status]["content"]["application/json"]["schema"]


def test_real_responses_match_the_documented_schemas(client, spec, token):
    headers = token_headers(token)
    summary = client.get("/api/v2/summary.json").get_json()
    validator(spec, response_schema(spec, "/api/v2/summary.json")).validate(summary)
    assert summary["incidents"][0]["incident_updates"][0]["etr"]  # the extras are described too
    assert summary["scheduled_maintenances"]
    v1 = "/api/v1/pages/{page_id}"
    for path, url in (
        (f"{v1}/incidents", f"{V1}/incidents"),
        (f"{v1}/incidents/scheduled", f"{V1}/incidents/scheduled"),
        (f"{v1}/components", f"{V1}/components"),
        (f"{v1}/subscribers", f"{V1}/subscribers"),
    ):
        body = client.get(url, headers=headers).get_json()
        assert body, url
        validator(spec, response_schema(spec, path)).validate(body)
    [incident] = client.get(f"{V1}/incidents", headers=headers).get_json()
    assert incident["customer_case_numbers"] == ["C-1", "C-2"]
    refused = client.get(f"{V1}/subscribers?limit=0", headers=headers)
    error = response_schema(spec, f"{v1}/subscribers", status="422")
    validator(spec, error).validate(refused.get_json())


def test_a_response_missing_a_declared_field_does_not_match(client, spec, token):
    """The schemas are strict enough to catch a serializer that drifts."""
    components = client.get("/api/v2/components.json").get_json()
    del components["components"][0]["slug"]
    schema = response_schema(spec, "/api/v2/components.json")
    with pytest.raises(jsonschema.ValidationError):
        validator(spec, schema).validate(components)


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
                kwargs["headers"] = token_headers(token)
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
