"""Every staff route, for every role: anonymous, engineer, css, admin. Checked on the server.

The routes come from the app's URL map, so a new staff route without a role check (or
missing from EXPECTED) fails here.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest

from statuspage.models import ApiToken
from statuspage.seed.defaults import seed_series
from statuspage.services import PermissionDenied, incidents, maintenance, staff
from statuspage.services import platforms as platform_service
from statuspage.services.subscriptions import mpoc
from tests.helpers import NOW, csrf_of, login, make_user, master_case, token_headers

STAFF = {"admin", "css", "engineer"}
CSS = {"admin", "css"}
ADMIN = {"admin"}
EXPECTED = {
    "admin.dashboard": STAFF,
    "admin.new_incident": STAFF,
    "admin.incident": STAFF,
    "admin.edit_incident": STAFF,
    "admin.resolve_incident": STAFF,
    "admin.correct_update": STAFF,
    "admin.delete_incident": STAFF,
    "admin.designate_p1g": CSS,
    "admin.remove_p1g": CSS,
    "admin.platforms": ADMIN,
    "admin.platform": ADMIN,
    "admin.users": ADMIN,
    "admin.user": ADMIN,
    "admin.sign_out_everywhere": ADMIN,
    "admin.end_session": ADMIN,
    "admin.remove_authenticator": ADMIN,
    "admin.tokens": ADMIN,
    "admin.revoke_token": ADMIN,
    "admin.audit": ADMIN,
    "admin_maintenance.windows": STAFF,
    "admin_maintenance.new_unscheduled": STAFF,
    "admin_maintenance.window": STAFF,
    "admin_maintenance.window_status": STAFF,
    "admin_maintenance.release_notes": STAFF,
    "admin_maintenance.notices": STAFF,
    "admin_maintenance.notice": STAFF,
    "admin_maintenance.series": ADMIN,
    "admin_subscribers.import_subscribers": CSS,
    # staff pages (issue 8): cancelling a window is confirmed on its own page; the MPOC
    # import is previewed, then confirmed; its sample CSV
    "admin_maintenance.cancel_window": STAFF,
    "admin_subscribers.import_confirm": CSS,
    "admin_subscribers.import_sample": CSS,
    # webhooks and Teams/Slack channels (issue 9): any staff sees them, CSS lifts a quarantine
    "admin_subscribers.endpoints": STAFF,
    "admin_subscribers.unquarantine": CSS,
    # one's own account: sessions, authenticator, tokens (another's ids are not found)
    "account.index": STAFF,
    "account.create_token": STAFF,
    "account.revoke_token": STAFF,
    "account.end_session": STAFF,
    "account.authenticator": STAFF,
    "account.recovery_codes": STAFF,
    "account.remove_authenticator": STAFF,
    "admin_maintenance.release_held": CSS,
}


@pytest.fixture
def ids(app, db, admin):
    incident = incidents.create_incident(db, admin, title="X", priority="P3", now=NOW)
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    _, token = staff.create_token(db, None, admin, now=NOW)
    db.commit()
    window = maintenance.get_window(db, 1)
    return {
        "incident_id": incident.id,
        "update_id": incident.updates[0].id,
        "window_id": window.id,
        "series_id": 1,
        "platform_id": 1,
        "user_id": admin.id,
        "token_id": db.get(ApiToken, token.id).id,
        "notice_id": 1,
        "subscriber_id": 1,  # none: lifting answers "not found" (a 4xx), never a 5xx
        "session_id": login(app.test_client(), admin).id,
    }


def staff_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(
            ("admin.", "admin_maintenance.", "admin_subscribers.", "account.")
        ):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def test_every_staff_route_is_in_the_matrix(app):
    assert {rule.endpoint for rule, _ in staff_rules(app)} == set(EXPECTED)


@pytest.mark.parametrize("role", ["anonymous", "engineer", "css", "admin"])
def test_role_matrix(app, client, db, ids, role):
    if role != "anonymous":
        login(client, make_user(db, role, f"matrix-{role}@example.com"))
    page = client.get("/login" if role == "anonymous" else "/admin/incidents/new")
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
    )
    csrf = token.group(1) if token else ""
    for rule, method in staff_rules(app):
        path = rule.build(ids, append_unknown=False)[1]
        response = client.open(path, method=method, data={"csrf_token": csrf})
        code = response.status_code
        if role == "anonymous":
            assert code == 302 and "/login" in response.headers["Location"], (method, path, code)
        elif role in EXPECTED[rule.endpoint]:
            assert code not in (401, 403) and code < 500, (role, method, path, code)
        else:
            assert code == 403, (role, method, path, code)


# --- the same rules in the services, whatever the path -------------------------------

MPOC_CSV = "email,platforms\nm@example.com,cisco\n"
# What the master case of these tests holds.
HELD = {"cisco": "partial_outage"}


def _cisco(db):
    return platform_service.get_by_slug(db, "cisco")


def _save_series(db, user, case, ordinary):
    return maintenance.save_series(
        db,
        user,
        None,
        title="Matrix series",
        rule="FREQ=WEEKLY;BYDAY=TU",
        first_start=NOW + timedelta(days=7),
        duration_minutes=60,
        impact="none",
        platforms=["cisco"],
        tz_name="America/Denver",
        now=NOW,
    )


def _import(db, user, case, ordinary):
    rows = mpoc.read_csv(io.StringIO(MPOC_CSV))
    return mpoc.import_contacts(db, rows, actor=user, now=NOW)


SERVICE_ACTIONS = {
    "set the status of a platform a master case holds": (
        CSS,
        lambda db, user, case, ordinary: platform_service.set_status(
            db, user, _cisco(db), "major_outage", NOW
        ),
    ),
    "move a held platform through an ordinary incident": (
        CSS,
        lambda db, user, case, ordinary: incidents.post_update(
            db, user, ordinary, platform_statuses={"cisco": "major_outage"}, now=NOW
        ),
    ),
    "post an update to a master case": (
        CSS,
        lambda db, user, case, ordinary: incidents.post_update(
            db, user, case, body="Hourly update", now=NOW
        ),
    ),
    "resolve a master case": (
        CSS,
        lambda db, user, case, ordinary: incidents.resolve(db, user, case, body="Fixed", now=NOW),
    ),
    "designate a master case": (
        CSS,
        lambda db, user, case, ordinary: incidents.designate_p1g(
            db, user, ordinary, case_number="CS-9", now=NOW
        ),
    ),
    "save a maintenance series": (ADMIN, _save_series),
    "import MPOC contacts": (CSS, _import),
    "update an ordinary incident": (
        STAFF,
        lambda db, user, case, ordinary: incidents.post_update(
            db, user, ordinary, body="Still looking", now=NOW
        ),
    ),
}


@pytest.mark.parametrize("action", sorted(SERVICE_ACTIONS))
@pytest.mark.parametrize("role", ["engineer", "css", "admin"])
def test_service_role_matrix(db, role, action):
    css = make_user(db, "css", "matrix-case-owner@example.com")
    case = master_case(db, css, title="Global", platforms=HELD, impact="none", commit=False)
    ordinary = incidents.create_incident(db, css, title="Local", priority="P3", now=NOW)
    db.commit()
    user = css if role == "css" else make_user(db, role, f"matrix-{role}@example.com")
    allowed, act = SERVICE_ACTIONS[action]
    if role in allowed:
        act(db, user, case, ordinary)
    else:
        with pytest.raises(PermissionDenied):
            act(db, user, case, ordinary)
        db.rollback()
        assert _cisco(db).status == "partial_outage"


# --- every write path to a master case, walked as an engineer ------------------------------
# A master case is CSS's (SPEC sections 2 and 7): an engineer reads it and changes nothing
# of it, by any path. The walk is built from the code: a new service function taking an
# actor, a new staff form route on an incident or a new Manage API route writing incidents
# or components fails `test_the_walk_covers_...` until it is added here.

API = "/api/v1/pages/calltower"
LATER = NOW + timedelta(minutes=30)


def _case_world(db):
    """A master case holding Cisco (partial outage), an engineer's own incident, and an
    engineer with a form session and an API token."""
    css = make_user(db, "css", "walk-css@example.com")
    case = master_case(
        db, css, customer_case_numbers="A-1", platforms=HELD, impact="major", commit=False
    )
    engineer = make_user(db, "engineer", "walk-engineer@example.com")
    own = incidents.create_incident(db, engineer, title="Local", priority="P3", now=NOW)
    plaintext, _ = staff.create_token(db, None, engineer, now=NOW)
    db.commit()
    return case, own, engineer, plaintext


def _written(db) -> list[object]:
    """Everything a write to an incident or a platform changes."""
    from sqlalchemy import func, select

    from statuspage.models import (
        AuditEntry,
        Incident,
        IncidentPlatform,
        IncidentUpdate,
        Notice,
        Platform,
    )

    db.expire_all()
    rows: list[object] = [
        db.scalar(select(func.count()).select_from(model))
        for model in (Incident, IncidentUpdate, IncidentPlatform, AuditEntry, Notice)
    ]
    rows += list(
        db.execute(
            select(
                Incident.title,
                Incident.impact,
                Incident.priority,
                Incident.status,
                Incident.case_number,
                Incident.customer_case_numbers,
                Incident.title_translations,
                Incident.updated_at,
            ).order_by(Incident.id)
        ).all()
    )
    rows += list(
        db.execute(
            select(
                IncidentUpdate.body,
                IncidentUpdate.body_translations,
                IncidentUpdate.edited_at,
            ).order_by(IncidentUpdate.id)
        ).all()
    )
    rows += list(db.execute(select(IncidentPlatform.status).order_by(IncidentPlatform.id)).all())
    rows += list(db.execute(select(Platform.slug, Platform.status).order_by(Platform.id)).all())
    return rows


def _on_case(name, **kwargs):
    return lambda db, engineer, case, own: getattr(incidents, name)(
        db, engineer, case, now=LATER, **kwargs
    )


# service function -> the ways an engineer could use it on (or against) the master case
SERVICE_WRITES = {
    "create_incident": {
        "open a master case": lambda db, engineer, case, own: incidents.create_incident(
            db, engineer, title="Global 2", priority="P1G", case_number="CS-2", now=LATER
        ),
        "open an incident over the case's platform": (
            lambda db, engineer, case, own: incidents.create_incident(
                db, engineer, title="Worse", platform_statuses={"cisco": "major_outage"}, now=LATER
            )
        ),
    },
    "post_update": {
        "a plain text update": _on_case("post_update", body="An engineer's note"),
        "a status": _on_case("post_update", status="identified", body="Found it"),
        "its platforms": _on_case("post_update", platform_statuses={"cisco": "operational"}),
        "an ETR": _on_case("post_update", etr=NOW + timedelta(hours=3)),
        "no notice": _on_case("post_update", body="quiet", deliver_notifications=False),
        "the case's platform through the engineer's own incident": (
            lambda db, engineer, case, own: incidents.post_update(
                db, engineer, own, platform_statuses={"cisco": "major_outage"}, now=LATER
            )
        ),
    },
    "resolve": {"resolve it": _on_case("resolve", body="Fixed")},
    "edit_incident": {
        "its title": _on_case("edit_incident", title="Partially degraded"),
        "its title in Spanish": _on_case("edit_incident", title_translations={"es": "Caída"}),
        "its impact": _on_case("edit_incident", impact="minor"),
        "its priority": _on_case("edit_incident", priority="P2"),
        "its case number": _on_case("edit_incident", case_number="CS-9"),
        "its customer case numbers": _on_case("edit_incident", customer_case_numbers="B-2"),
        "the same title again": _on_case("edit_incident", title="Global outage"),
    },
    "designate_p1g": {"its case numbers": _on_case("designate_p1g", case_number="CS-9")},
    "correct_update": {
        "its text": lambda db, engineer, case, own: incidents.correct_update(
            db, engineer, case.updates[0], body="An engineer's wording", now=LATER
        ),
        "a version": lambda db, engineer, case, own: incidents.correct_update(
            db, engineer, case.updates[0], body_translations={"es": "Hola"}, now=LATER
        ),
        "and notify": lambda db, engineer, case, own: incidents.correct_update(
            db, engineer, case.updates[0], body="Again", notify=True, now=LATER
        ),
    },
    "remove_p1g": {"remove P1G": _on_case("remove_p1g", priority="P2")},
    "delete_incident": {
        "delete it": lambda db, engineer, case, own: incidents.delete_incident(
            db, engineer, case, LATER
        )
    },
    "platforms.set_status": {
        "the case's platform": lambda db, engineer, case, own: platform_service.set_status(
            db, engineer, _cisco(db), "operational", LATER
        )
    },
}


def test_the_walk_covers_every_incident_write_in_the_services():
    import inspect

    writers = {
        name
        for name, fn in inspect.getmembers(incidents, inspect.isfunction)
        if fn.__module__ == incidents.__name__
        and not name.startswith("_")
        and "actor" in inspect.signature(fn).parameters
    }
    assert writers == set(SERVICE_WRITES) - {"platforms.set_status"}


@pytest.mark.parametrize(
    "function, way", [(f, w) for f, ways in SERVICE_WRITES.items() for w in ways]
)
def test_engineer_is_refused_every_service_write_to_a_master_case(db, function, way):
    case, own, engineer, _ = _case_world(db)
    before = _written(db)
    with pytest.raises(PermissionDenied):
        SERVICE_WRITES[function][way](db, engineer, case, own)
    db.rollback()
    assert _written(db) == before


# staff form endpoint -> (path, form data, the answer) for each way to use it
def _form_writes(
    case_id: int, first_update: int = 1
) -> dict[str, list[tuple[str, dict[str, str], int]]]:
    case = f"/admin/incidents/{case_id}"
    update = {"status": "investigating", "body": "An engineer's note"}
    edit = {"title": "Global outage", "impact": "major", "priority": "P1G", "case_number": "CS-1"}
    opened = {"title": "Global 2", "impact": "major", "status": "investigating"}
    return {
        # P1G is not offered to an engineer: a forged choice is refused on the form (422).
        "admin.new_incident": [
            ("/admin/incidents/new", {**opened, "priority": "P1G", "case_number": "CS-2"}, 422),
            (
                "/admin/incidents/new",
                {**opened, "priority": "P1G", "case_number": "CS-2", "confirm": "yes"},
                422,
            ),
            (
                "/admin/incidents/new",
                {**opened, "priority": "P2", "platform-cisco": "major_outage", "confirm": "yes"},
                403,
            ),
        ],
        "admin.incident": [
            (case, update, 403),
            (case, {**update, "status": "resolved"}, 403),
            (case, {**update, "platform-cisco": "operational"}, 403),
            (case, {**update, "etr": "2026-11-20T12:00"}, 403),
        ],
        "admin.edit_incident": [
            (f"{case}/edit", {**edit, "title": "Partially degraded"}, 403),
            (f"{case}/edit", {**edit, "title_de": "Teilweise gestört"}, 403),
            (f"{case}/edit", {**edit, "impact": "minor"}, 403),
            (f"{case}/edit", {**edit, "case_number": "CS-9"}, 403),
            (f"{case}/edit", edit, 403),
        ],
        "admin.resolve_incident": [(f"{case}/resolve", {"body": "Fixed"}, 403)],
        "admin.correct_update": [
            (f"{case}/updates/{first_update}/correct", {"body": "Reworded"}, 403),
            (f"{case}/updates/{first_update}/correct", {"body_es": "Hola"}, 403),
            (f"{case}/updates/{first_update}/correct", {"body": "x", "notify": "y"}, 403),
        ],
        "admin.designate_p1g": [(f"{case}/p1g", {"p1g-case_number": "CS-9"}, 403)],
        "admin.remove_p1g": [
            (f"{case}/p1g/remove", {"rm-priority": "P2"}, 403),
            (f"{case}/p1g/remove", {"rm-priority": "P2", "rm-confirm": "yes"}, 403),
        ],
        "admin.delete_incident": [(f"{case}/delete", {"del-confirm": "yes"}, 403)],
    }


def _incident_form_endpoints(app):
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        and "POST" in rule.methods
        and ("incident_id" in rule.arguments or rule.endpoint == "admin.new_incident")
    }


def test_the_walk_covers_every_staff_form_that_writes_an_incident(app):
    assert _incident_form_endpoints(app) == set(_form_writes(1))


def test_engineer_is_refused_every_staff_form_write_to_a_master_case(client, db):
    case, _own, engineer, _ = _case_world(db)
    login(client, engineer)
    page = client.get("/admin/incidents/new").get_data(as_text=True)
    csrf = csrf_of(page)
    tokens = {f"{p}csrf_token": csrf for p in ("", "p1g-", "rm-", "del-")}
    before = _written(db)
    for endpoint, ways in _form_writes(case.id, case.updates[0].id).items():
        for path, data, expected in ways:
            response = client.post(path, data={**tokens, **data})
            body = response.get_data(as_text=True)
            assert response.status_code == expected, (endpoint, data, response.status_code)
            assert "<main" in body, (endpoint, data)  # a page that says why, not raw text
            assert _written(db) == before, (endpoint, data)


# Manage API route (endpoint, method) -> the bodies an engineer's token could send
def _api_writes(
    case_id: int, cisco_id: int, first_update: int = 1
) -> dict[tuple[str, str], list[tuple[str, dict]]]:
    case = f"{API}/incidents/{case_id}"
    component = f"{API}/components/{cisco_id}"
    updates = [
        {"name": "Partially degraded"},
        {"impact_override": "minor"},
        {"status": "resolved", "body": "Fixed"},
        {"body": "An engineer's note"},
        {"components": {str(cisco_id): "operational"}},
        {"component_ids": [str(cisco_id)], "body": "still affected"},
        {"priority": "P2"},
        {"case_number": "CS-9"},
        {"customer_case_numbers": ["B-2"]},
        {"etr": "2026-11-20T20:00:00Z"},
        {"clear_etr": True},
        {"name_translations": {"es": "Caída global"}},
        {"metadata": {"network_status": {"body_translations": {"de": "Notiz"}}}, "body": "x"},
    ]
    correction = f"{case}/incident_updates/{first_update}"
    return {
        ("api_v1.create_incident", "POST"): [
            (f"{API}/incidents", {"name": "Global 2", "priority": "P1G", "case_number": "CS-2"}),
            (f"{API}/incidents", {"name": "Worse", "components": {str(cisco_id): "major_outage"}}),
        ],
        ("api_v1.update_incident", "PATCH"): [(case, body) for body in updates],
        ("api_v1.update_incident", "PUT"): [(case, body) for body in updates],
        ("api_v1.delete_incident", "DELETE"): [(case, {})],
        ("api_v1.correct_incident_update", "PATCH"): [
            (correction, {"body": "Reworded"}),
            (correction, {"body_translations": {"es": "Hola"}}),
            (correction, {"body": "Again", "deliver_notifications": True}),
        ],
        ("api_v1.update_component", "PATCH"): [(component, {"status": "operational"})],
        ("api_v1.update_component", "PUT"): [(component, {"status": "major_outage"})],
    }


def _api_write_routes(app):
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_v1.")
        and ("/incidents" in rule.rule or "/components" in rule.rule)
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }


def test_the_walk_covers_every_manage_api_route_that_writes_incidents_or_components(app):
    assert _api_write_routes(app) == set(_api_writes(1, 1))


def test_engineer_token_is_refused_every_manage_api_write_to_a_master_case(client, db):
    case, _own, _engineer, plaintext = _case_world(db)
    headers = token_headers(plaintext)
    before = _written(db)
    writes = _api_writes(case.id, _cisco(db).id, case.updates[0].id)
    for (endpoint, method), ways in writes.items():
        for path, fields in ways:
            wrapper = "component" if endpoint.endswith("_component") else "incident"
            if endpoint.endswith("_incident_update"):
                wrapper = "incident_update"
            body = {wrapper: fields} if fields else None
            response = client.open(path, method=method, headers=headers, json=body)
            assert response.status_code == 403, (endpoint, method, fields, response.status_code)
            assert response.get_json()["error"].startswith(("only CSS", "Cisco is held"))
            assert _written(db) == before, (endpoint, method, fields)
