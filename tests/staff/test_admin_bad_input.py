"""Every staff form refuses malformed or hostile input with a clear 4xx and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from statuspage.models import (
    ApiToken,
    AuditEntry,
    Incident,
    MaintenanceSeries,
    MaintenanceWindow,
    Platform,
    User,
)
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.helpers import NOW, csrf_of, login


@pytest.fixture
def world(db, admin, css):
    incident = incidents.create_incident(db, css, title="Down", priority="P2", now=NOW)
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    return {
        "incident": incident.id,
        "update": incident.updates[0].id,
        "window": 1,
        "user": css.id,
        "platform": 1,
    }


def snapshot(db):
    rows = [
        db.scalar(select(func.count()).select_from(m))
        for m in (Incident, MaintenanceWindow, MaintenanceSeries, User, ApiToken, AuditEntry)
    ]
    rows += list(db.execute(select(Platform.name, Platform.position)).all())
    rows += list(db.execute(select(Incident.title, Incident.priority, Incident.impact)).all())
    rows += list(db.execute(select(User.role, User.active)).all())
    rows += list(
        db.execute(
            select(MaintenanceWindow.status, MaintenanceWindow.release_notes)
            .order_by(MaintenanceWindow.id)
            .limit(3)
        ).all()
    )
    return rows


CASES = [
    ("/admin/incidents/{incident}/edit", {"title": "", "impact": "minor"}, 422),
    ("/admin/incidents/{incident}/edit", {"title": "ok", "impact": "<script>"}, 422),
    ("/admin/incidents/{incident}", {"status": "postmortem", "body": "x"}, 422),
    ("/admin/incidents/{incident}", {"status": "identified", "body": "x" * 20_001}, 422),
    ("/admin/incidents/{incident}/p1g", {"p1g-case_number": ""}, 422),
    ("/admin/incidents/{incident}/p1g", {"p1g-case_number": "<script>x</script>"}, 422),
    ("/admin/incidents/{incident}/p1g/remove", {"rm-priority": "P1G"}, 422),
    ("/admin/platforms/{platform}", {"name": "", "position": "1"}, 422),
    ("/admin/platforms/{platform}", {"name": "Cisco", "position": "first"}, 422),
    ("/admin/platforms/{platform}", {"name": "Cisco", "position": "-5"}, 422),
    ("/admin/users", {"email": "not-an-email", "role": "css", "password": "long enough"}, 422),
    ("/admin/users", {"email": "a@example.com", "role": "root", "password": "long enough"}, 422),
    ("/admin/users", {"email": "a@example.com", "role": "css", "password": "short"}, 422),
    ("/admin/users/{user}", {"role": "overlord", "active": "y"}, 422),
    ("/admin/tokens", {"user_id": "999999", "name": "x"}, 422),
    ("/admin/tokens", {"user_id": "abc", "name": "x"}, 422),
    # A status the window may not take is refused on its page (no redirect, nothing preset).
    ("/admin/maintenance/{window}/status", {"s-status": "exploded"}, 422),
    ("/admin/maintenance/{window}/status", {"s-status": "completed"}, 422),
    ("/admin/maintenance/{window}/status", {"s-status": ""}, 422),
    ("/admin/maintenance/{window}/release-notes", {"r-release_notes": "too early"}, 303),
    (
        "/admin/maintenance/{window}",
        {"w-starts_at": "soon", "w-ends_at": "later", "w-platforms": ["cisco"]},
        422,
    ),
    # Dangerous actions without their confirmation (issue 8) are refused and write nothing.
    ("/admin/incidents/{incident}/delete", {}, 422),
    ("/admin/incidents/{incident}/delete", {"del-confirm": "no"}, 422),
    ("/admin/incidents/{incident}/delete", {"del-confirm": "<script>x</script>"}, 422),
    ("/admin/maintenance/{window}/cancel", {"cx-confirm": ""}, 422),
    ("/admin/maintenance/{window}/status", {"s-status": "cancelled"}, 303),
    # A change that notifies subscribers, with a confirmation other than "yes".
    ("/admin/maintenance/{window}/status", {"s-status": "in_progress", "s-confirm": "no"}, 422),
    ("/admin/incidents/{incident}/p1g/remove", {"rm-priority": "P3", "rm-confirm": "yes"}, 422),
    # An MPOC import confirmation without a preview it can find.
    ("/admin/subscribers/import/confirm", {"upload": "../../etc/passwd"}, 422),
    ("/admin/subscribers/import/confirm", {}, 422),
]


@pytest.mark.parametrize("path, data, status", CASES)
def test_bad_staff_input_writes_nothing(client, db, admin, world, path, data, status):
    login(client, admin)
    page = client.get("/admin/incidents/new").get_data(as_text=True)
    token = csrf_of(page)
    before = snapshot(db)
    fields = {**data}
    for prefix in ("", "p1g-", "rm-", "s-", "r-", "w-", "del-", "cx-"):
        fields[f"{prefix}csrf_token"] = token
    response = client.post(path.format(**world), data=fields)
    assert response.status_code == status, (path, response.status_code)
    if status == 422:
        body = response.get_data(as_text=True)
        assert 'class="error"' in body and "<script>x</script>" not in body
    db.expire_all()
    assert snapshot(db) == before


def post_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods
    ]


def test_every_staff_post_without_csrf_is_refused_and_writes_nothing(app, client, db, admin, world):
    signed_in = login(client, admin)
    ids = {
        "incident_id": world["incident"],
        "update_id": world["update"],
        "platform_id": world["platform"],
        "user_id": world["user"],
        "token_id": 1,
        "session_id": signed_in.id,
    }
    before = snapshot(db)
    rules = post_rules(app)
    assert rules
    for rule in rules:
        path = rule.build(ids, append_unknown=False)[1]
        response = client.post(path, data={"title": "x", "name": "x", "role": "admin"})
        assert response.status_code == 400, path
        assert "Form expired" in response.get_data(as_text=True), path
    db.expire_all()
    assert snapshot(db) == before


def test_unknown_ids_are_404_on_every_staff_route(app, client, db, admin, world):
    login(client, admin)
    page = client.get("/admin/incidents/new").get_data(as_text=True)
    token = csrf_of(page)
    data = {f"{p}csrf_token": token for p in ("", "p1g-", "rm-", "del-", "rv-")}
    before = snapshot(db)
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or not rule.arguments:
            continue
        for bad in ("999999", "abc", "-1"):
            path = rule.build(dict.fromkeys(rule.arguments, bad), append_unknown=False)[1]
            method = "GET" if "GET" in rule.methods else "POST"
            response = client.open(path, method=method, data=data)
            assert response.status_code == 404, (method, path, response.status_code)
    db.expire_all()
    assert snapshot(db) == before
