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
from statuspage.services import PermissionDenied, incidents, maintenance, staff, subscriptions
from statuspage.services import platforms as platform_service
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
    "admin_maintenance.notice": STAFF,
    "admin_maintenance.series": ADMIN,
    "admin_maintenance.import_subscribers": CSS,
    # staff pages (issue 8): cancelling a window is confirmed on its own page; the MPOC
    # import is previewed, then confirmed; its sample CSV
    "admin_maintenance.cancel_window": STAFF,
    "admin_maintenance.import_confirm": CSS,
    "admin_maintenance.import_sample": CSS,
    # webhooks and Teams/Slack channels (issue 9): any staff sees them, CSS lifts a quarantine
    "admin_subscribers.endpoints": STAFF,
    "admin_subscribers.unquarantine": CSS,
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
        "notice_id": 1,
        "subscriber_id": 1,  # none: lifting answers "not found" (a 4xx), never a 5xx
    }


def staff_rules(app):  # type: ignore[no-untyped-def]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("admin.", "admin_maintenance.", "admin_subscribers.")):
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


def _cisco(db):  # type: ignore[no-untyped-def]
    return platform_service.get_by_slug(db, "cisco")


def _save_series(db, user, case, ordinary):  # type: ignore[no-untyped-def]
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


def _import(db, user, case, ordinary):  # type: ignore[no-untyped-def]
    rows = subscriptions.read_csv(io.StringIO(MPOC_CSV))
    return subscriptions.import_contacts(db, rows, actor=user, now=NOW)


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
    case = incidents.create_incident(
        db,
        css,
        title="Global",
        priority="P1G",
        case_number="CS-1",
        platform_statuses={"cisco": "partial_outage"},
        now=NOW,
    )
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
