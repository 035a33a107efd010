"""The API keeps its own document: what /api/openapi.json says is what the endpoints do.

A 405 names the methods an address takes; the named incident lists are not taken for an
incident; a request the present state refuses is a 409; the constraints the services apply
are in the document; no JSON body, however deep or odd its keys, makes a 500; a channel's URL
is masked as the staff page masks it. tests/api/test_schemathesis.py runs Schemathesis against
the whole document.
"""

from __future__ import annotations

import re
import sys
from typing import get_args

import pytest
from sqlalchemy import func, select

from statuspage.contract import requests as contract
from statuspage.endpoints import masked_url as masked
from statuspage.models import AuditEntry, Incident, MaintenanceWindow, Platform, Subscriber
from statuspage.models.vocab import IMPACTS, INCIDENT_STATUSES, PRIORITIES, WINDOW_STATUSES
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance, text
from statuspage.services.subscriptions import channel_signup
from tests.api.support import BASE, token_for, validator
from tests.helpers import NOW, count, login, make_user
from tests.webhook_receiver import LOOPBACK

NAMED_LISTS = ("unresolved", "upcoming", "scheduled", "active_maintenance")


def allowed(response) -> set[str]:
    return {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}


# --- 405 and Allow ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, methods",
    [
        ("TRACE", "/api/v2/status.json", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/api/v2/summary.json", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", f"{BASE}/components", {"GET", "HEAD", "OPTIONS"}),
        ("PUT", f"{BASE}/subscribers", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("POST", "/", {"GET", "HEAD", "OPTIONS"}),
    ],
)
def test_a_405_names_the_methods_the_address_takes(client, db, method, path, methods):
    """RFC 9110: a 405 carries `Allow`, in the API's JSON answers and on pages alike."""
    response = client.open(path, method=method, headers=token_for(db, "css"))
    assert response.status_code == 405
    assert allowed(response) == methods


@pytest.mark.parametrize("name", NAMED_LISTS)
def test_the_named_incident_lists_are_not_taken_for_an_incident(client, db, name):
    """`/incidents/scheduled` is a list, not the incident "scheduled": it answers GET only,
    and says so."""
    headers = token_for(db, "css")
    path = f"{BASE}/incidents/{name}"
    assert allowed(client.options(path, headers=headers)) == {"GET", "HEAD", "OPTIONS"}
    for method in ("PATCH", "PUT", "DELETE"):
        response = client.open(path, method=method, headers=headers, json={"incident": {}})
        assert response.status_code == 405 and allowed(response) == {"GET", "HEAD", "OPTIONS"}
    assert client.get(path, headers=headers).status_code == 200


# --- 409: the present state refuses a well-formed request ---------------------------------


def _window(db, css):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=NOW.date())
    maintenance.expand_series(db, NOW)
    db.commit()
    return db.scalar(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.status == "scheduled")
        .order_by(MaintenanceWindow.starts_at)
    )


def test_a_window_that_cannot_move_on_is_a_409_conflict(client, db, css):
    headers = token_for(db, "css")
    window = _window(db, css)
    path = f"{BASE}/incidents/w{window.id}"
    assert client.delete(path, headers=headers).status_code == 200  # cancelled
    before = count(db, AuditEntry)
    again = client.delete(path, headers=headers)
    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"] == "conflict" and "status" in again.get_json()["errors"]
    moved = client.patch(
        path, headers=headers, json={"incident": {"scheduled_until": "2026-12-30T10:00:00Z"}}
    )
    assert moved.status_code == 409 and "scheduled_for" in moved.get_json()["errors"]
    assert count(db, AuditEntry) == before


def test_postmortem_before_resolution_is_a_409_conflict(client, db, css):
    headers = token_for(db, "css")
    found = incidents.create_incident(db, css, title="Calls dropping", now=NOW)
    db.commit()
    response = client.patch(
        f"{BASE}/incidents/{found.id}", headers=headers, json={"incident": {"status": "postmortem"}}
    )
    assert response.status_code == 409 and "status" in response.get_json()["errors"]


def test_the_document_declares_409_with_its_error_body_on_every_write(client):
    document = client.get("/api/openapi.json").get_json()
    writes = [
        op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("post", "put", "patch", "delete")
    ]
    assert writes
    for op in writes:
        conflict = op["responses"]["409"]["content"]["application/json"]["schema"]
        assert conflict == {"$ref": "#/components/schemas/Error"}


# --- the services' constraints are in the document -----------------------------------------


def _fields(document, name):
    return document["components"]["schemas"][name]["properties"]


@pytest.mark.parametrize(
    "schema, body, field",
    [
        ("NewIncidentRequest", {"incident": {"name": "Down", "priority": ""}}, "priority"),
        ("NewIncidentRequest", {"incident": {"name": "   "}}, "name"),
        ("NewIncidentRequest", {"incident": {"name": "x" * 201}}, "name"),
        ("NewIncidentRequest", {"incident": {"name": "a\nb"}}, "name"),
        ("NewIncidentRequest", {"incident": {"name": "x", "status": "postmortem"}}, "status"),
        ("NewIncidentRequest", {"incident": {"name": "x", "case_number": "-1"}}, "case_number"),
        ("NewIncidentRequest", {"incident": {"name": "x", "body": "a\x00"}}, "body"),
        ("IncidentRequest", {"incident": {"impact_override": "apocalyptic"}}, "impact_override"),
        (
            "IncidentRequest",
            {"incident": {"customer_case_numbers": ["a b"]}},
            "customer_case_numbers",
        ),
        ("SubscriberRequest", {"subscriber": {"type": "integration_partner"}}, "type"),
        ("SubscriberRequest", {"subscriber": {"type": "fax"}}, "type"),
        ("SubscriberRequest", {"subscriber": {"phone_number": "call me"}}, "phone_number"),
        ("SubscriberRequest", {"subscriber": {"endpoint": "ftp://x.example"}}, "endpoint"),
        ("SubscriberRequest", {"subscriber": {"endpoint": "https://u:p@x.example"}}, "endpoint"),
        ("ComponentRequest", {"component": {"position": -1}}, "position"),
        ("ComponentRequest", {"component": {"name": ""}}, "name"),
    ],
)
def test_what_the_services_refuse_the_document_refuses_too(client, db, schema, body, field):
    """Each of these the services refuse; the document says so, and the request is refused
    as the document says (a 422 naming the field, before anything is looked up)."""
    document = client.get("/api/openapi.json").get_json()
    check = validator(document, {"$ref": f"#/components/schemas/{schema}"})
    assert not check.is_valid(body), body
    path = {
        "NewIncidentRequest": ("POST", f"{BASE}/incidents"),
        "IncidentRequest": ("PATCH", f"{BASE}/incidents/1"),
        "SubscriberRequest": ("POST", f"{BASE}/subscribers"),
        "ComponentRequest": ("PATCH", f"{BASE}/components/1"),
    }[schema]
    if schema == "IncidentRequest":
        incidents.create_incident(db, make_user(db, "css", "owner@example.com"), title="x", now=NOW)
        db.commit()
    headers = token_for(db, "admin")
    before = count(db, AuditEntry)
    response = client.open(path[1], method=path[0], headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert count(db, AuditEntry) == before


def test_the_request_vocabularies_are_the_models():
    assert list(get_args(contract.Priority)) == list(PRIORITIES)
    assert list(get_args(contract.Impact)) == IMPACTS
    assert list(get_args(contract.UpdateStatus)) == INCIDENT_STATUSES + WINDOW_STATUSES
    new = [s for s in INCIDENT_STATUSES if s != "postmortem"] + ["scheduled"]
    assert list(get_args(contract.NewStatus)) == new


def test_the_documented_text_patterns_are_the_services_rule():
    """The document's character classes refuse exactly what `services.text` refuses, and
    its spaces are exactly what str.strip() strips, for every character (surrogates aside:
    no JSON string the validator takes holds one)."""
    line, multi = re.compile(contract.LINE_PATTERN), re.compile(contract.TEXT_PATTERN)
    space = re.compile(f"[{contract.SPACE}]")
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        assert bool(line.fullmatch(char)) == text.is_clean(char), hex(code)
        # A multi-line field turns CR into LF first.
        assert bool(multi.fullmatch(char)) == text.is_clean(
            char.replace("\r", "\n"), multiline=True
        ), hex(code)
        assert bool(space.fullmatch(char)) == char.isspace(), hex(code)


def test_the_documented_case_number_patterns_are_the_services_rule():
    cases = re.compile(contract.CASES_PATTERN)
    one = re.compile(contract.CASE_PATTERN)
    assert one.fullmatch(" CS-1/a.b_c ") and one.fullmatch("") and not one.fullmatch("-1")
    listed = ", ".join(f"C-{n}" for n in range(contract.CUSTOMER_CASES_MAX))
    assert cases.fullmatch(f" ;{listed}; ") and incidents.parse_case_numbers(f" ;{listed}; ")
    too_many = listed + ", C-X"
    assert not cases.fullmatch(too_many)
    with pytest.raises(Exception, match="at most"):
        incidents.parse_case_numbers(too_many)


def test_the_documented_endpoint_pattern_takes_what_the_channel_check_takes():
    from statuspage import endpoints

    pattern = re.compile(contract.ENDPOINT_PATTERN)
    for url in (
        "https://outlook.office.com/webhook/abc?x=1",
        "https://hooks.slack.com:443/services/T/B/x",
        "http://127.0.0.1:9/hook",
        "https://[2001:db8::1]/x",
    ):
        assert pattern.fullmatch(url), url
        endpoints.encode_url(url)  # the channel check's own parse takes it too
    for url in ("ftp://x.example/", "https://u:p@x.example/", "https://x.example/#f", "https://"):
        assert not pattern.fullmatch(url), url


# --- no JSON makes a 500 ---------------------------------------------------------------------


def test_a_body_nested_past_the_depth_limit_is_a_422_and_writes_nothing(client, db):
    headers = {**token_for(db, "css"), "Content-Type": "application/json"}
    deep = '{"incident": {"name": "x", "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    response = client.post(f"{BASE}/incidents", headers=headers, data=deep)
    assert response.status_code == 422, response.status_code
    assert "deeper than" in response.get_json()["errors"]["incident"]
    assert count(db, Incident) == 0
    # Within the limit, an odd client's metadata is ignored as always.
    shallow = {"incident": {"name": "x", "metadata": {"a": [[[[{"b": [1]}]]]]}}}
    assert client.post(f"{BASE}/incidents", headers=headers, json=shallow).status_code == 201


@pytest.mark.parametrize("key", ["²", "١", "\ud800", "\ud83d", "99999999999", "0", "-1"])
def test_a_component_key_that_is_no_id_is_a_field_error_not_a_500(client, db, css, key):
    """Unicode digits ("²" is a digit to str.isdigit(), not to int()), unpaired surrogates and
    ids past the database's integers name no component."""
    headers = {**token_for(db, "css"), "Content-Type": "application/json"}
    found = incidents.create_incident(db, css, title="Calls dropping", now=NOW)
    db.commit()
    quoted = '"' + "".join(c if c.isascii() else f"\\u{ord(c):04x}" for c in key) + '"'
    for method, path in (("POST", "/incidents"), ("PATCH", f"/incidents/{found.id}")):
        for body in (
            '{"incident": {"name": "x", "components": {' + quoted + ': "major_outage"}}}',
            '{"incident": {"name": "x", "component_ids": [' + quoted + "]}}",
        ):
            response = client.open(f"{BASE}{path}", method=method, headers=headers, data=body)
            assert response.status_code == 422, (method, body, response.status_code)
            assert set(response.get_json()["errors"]) <= {"components", "component_ids"}
    assert client.get(f"{BASE}/subscribers/%C2%B9", headers=headers).status_code == 404
    assert client.get(f"{BASE}/components/%C2%B2", headers=headers).status_code == 404
    assert count(db, Incident) == 1


# --- a channel's URL is masked as the staff page masks it -----------------------------------

SECRET_URL = "http://127.0.0.1:9/webhookb2/0123-secret-path/IncomingWebhook/abcd"


def test_a_channel_url_is_masked_in_the_api_exactly_as_on_the_staff_page(app, client, db, css):
    hook = channel_signup.subscribe_channel(
        db,
        address=SECRET_URL,
        platforms=list(db.scalars(select(Platform))),
        channel="teams",
        settings=LOOPBACK,
        now=NOW,
    )
    db.commit()
    shown = masked(SECRET_URL)
    assert "secret-path" not in shown
    headers = token_for(db, "engineer")  # any staff token
    one = client.get(f"{BASE}/subscribers/{hook.subscriber.id}", headers=headers)
    listed = client.get(f"{BASE}/subscribers?type=teams&state=all", headers=headers)
    for response in (one, listed):
        assert "secret-path" not in response.get_data(as_text=True)
    assert one.get_json()["endpoint"] == shown
    assert [s["endpoint"] for s in listed.get_json()] == [shown]
    login(client, css)
    page = client.get("/admin/subscribers/").get_data(as_text=True)
    assert shown in page and "secret-path" not in page


def test_a_channel_made_through_the_api_answers_masked_but_delivers_to_the_whole_url(
    app, client, db
):
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    headers = token_for(db, "css")
    made = client.post(
        f"{BASE}/subscribers",
        headers=headers,
        json={"subscriber": {"type": "teams", "endpoint": SECRET_URL}},
    )
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["endpoint"] == masked(SECRET_URL) and made.get_json()["secret"]
    assert db.get(Subscriber, int(made.get_json()["id"])).address == SECRET_URL


def test_a_channel_url_cannot_be_read_back_through_search_or_sort(client, db):
    for n, url in enumerate((SECRET_URL, "http://127.0.0.1:9/aaaa-first/hook")):
        channel_signup.subscribe_channel(
            db,
            address=url,
            platforms=list(db.scalars(select(Platform)))[:1],
            settings=LOOPBACK,
            now=NOW.replace(minute=n),
        )
    db.commit()
    headers = token_for(db, "css")
    listing = f"{BASE}/subscribers?type=webhook&state=all"
    # A piece of the secret path matches nothing, and "primary" orders by creation.
    assert client.get(f"{listing}&q=secret-path", headers=headers).get_json() == []
    assert client.get(f"{listing}&q=127.0.0.1", headers=headers).get_json() == []
    by_address = client.get(f"{listing}&sort_field=primary", headers=headers).get_json()
    assert [s["endpoint"] for s in by_address] == [
        masked(SECRET_URL),
        masked("http://127.0.0.1:9/aaaa-first/hook"),
    ]
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 2
