"""Every staff route, for every role: anonymous, engineer, css, admin. Checked on the server.

The routes come from the app's URL map, so a new staff route without a role check (or
missing from EXPECTED) fails here.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from statuspage.models import ApiToken
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance, staff
from tests.conftest import NOW, login, make_user

STAFF = {"admin", "css", "engineer"}
CSS = {"admin", "css"}
ADMIN = {"admin"}
EXPECTED = {
    "admin.dashboard": STAFF,
    "admin.new_incident": STAFF,
    "admin.incident": STAFF,
    "admin.edit_incident": STAFF,
    "admin.resolve_incident": STAFF,
    "admin.delete_incident": STAFF,
    "admin.designate_p1g": CSS,
    "admin.remove_p1g": CSS,
    "admin.platforms": ADMIN,
    "admin.platform": ADMIN,
    "admin.users": ADMIN,
    "admin.user": ADMIN,
    "admin.sign_out_everywhere": ADMIN,
    "admin.tokens": ADMIN,
    "admin.revoke_token": ADMIN,
    "admin.audit": ADMIN,
    "admin_maintenance.windows": STAFF,
    "admin_maintenance.new_unscheduled": STAFF,
    "admin_maintenance.window": STAFF,
    "admin_maintenance.window_status": STAFF,
    "admin_maintenance.release_notes": STAFF,
    "admin_maintenance.notices": STAFF,
    "admin_maintenance.series": ADMIN,
    "admin_maintenance.import_subscribers": CSS,
}


@pytest.fixture
def ids(db, admin):  # type: ignore[no-untyped-def]
    incident = incidents.create_incident(db, admin, title="X", priority="P3", now=NOW)
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    _, token = staff.create_token(db, None, admin, now=NOW)
    db.commit()
    window = maintenance.get_window(db, 1)
    return {
        "incident_id": incident.id,
        "window_id": window.id,
        "series_id": 1,
        "platform_id": 1,
        "user_id": admin.id,
        "token_id": db.get(ApiToken, token.id).id,
    }


def staff_rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("admin.", "admin_maintenance.")):
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
