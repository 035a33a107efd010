"""Staff incident forms: P1G rules through the forms, updates, templates, bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from statuspage.models import AuditEntry, Incident, IncidentUpdate, Platform, User
from statuspage.services import incidents
from tests.conftest import NOW, login


def token(client, path="/admin/incidents/new"):  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="(?:\w+-)?csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).select_from(model))


def new_incident(client, **fields):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": token(client),
        "title": "Calls failing",
        "impact": "major",
        "priority": "P2",
        "status": "investigating",
        "body": "Looking into it",
        "deliver_notifications": "y",
        **fields,
    }
    return client.post("/admin/incidents/new", data=data)


def test_engineer_opens_incident_with_platform_status(client, db, engineer):
    login(client, engineer)
    response = new_incident(client, **{"platform-cisco": "partial_outage"})
    assert response.status_code == 302
    incident = db.scalar(select(Incident))
    assert incident.priority == "P2"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "partial_outage"


def test_engineer_cannot_open_a_master_case(client, db, engineer):
    login(client, engineer)
    response = new_incident(client, priority="P1G", case_number="CS-1")
    assert response.status_code == 403
    assert count(db, Incident) == 0 and count(db, AuditEntry) == 1  # only the user's creation


def test_css_opens_master_case_and_it_shows_first(client, db, css):
    login(client, css)
    assert new_incident(client, priority="P1G", case_number="CS-9").status_code == 302
    assert db.scalar(select(Incident.priority)) == "P1G"


def test_engineer_cannot_designate_or_remove_p1g_through_forms(client, db, engineer, css):
    incident = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, engineer)
    t = token(client)
    assert (
        client.post(
            f"/admin/incidents/{local.id}/p1g",
            data={"p1g-csrf_token": t, "p1g-case_number": "CS-2"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/incidents/{incident.id}/p1g/remove",
            data={"rm-csrf_token": t, "rm-priority": "P2"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/incidents/{incident.id}/delete", data={"del-csrf_token": t}
        ).status_code
        == 403
    )
    page = client.get(f"/admin/incidents/{local.id}").get_data(as_text=True)
    assert "Designate P1G" not in page
    db.expire_all()
    assert db.get(Incident, local.id).priority == "P2"
    assert db.get(Incident, incident.id).priority == "P1G"


def test_css_designates_and_removes_p1g(client, db, css):
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    t = token(client)
    client.post(
        f"/admin/incidents/{local.id}/p1g",
        data={
            "p1g-csrf_token": t,
            "p1g-case_number": "CS-5",
            "p1g-customer_case_numbers": "A-1, A-2",
        },
    )
    db.expire_all()
    assert db.get(Incident, local.id).is_master_case
    client.post(
        f"/admin/incidents/{local.id}/p1g/remove", data={"rm-csrf_token": t, "rm-priority": "P1"}
    )
    db.expire_all()
    assert db.get(Incident, local.id).priority == "P1"


def test_post_update_and_resolve(client, db, engineer):
    incident = incidents.create_incident(
        db,
        engineer,
        title="Down",
        priority="P2",
        platform_statuses={"cisco": "major_outage"},
        now=NOW,
    )
    db.commit()
    login(client, engineer)
    path = f"/admin/incidents/{incident.id}"
    response = client.post(
        path,
        data={
            "csrf_token": token(client, path),
            "status": "resolved",
            "body": "Fixed",
            "deliver_notifications": "y",
        },
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Incident, incident.id).status == "resolved"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "operational"


def test_message_template_fills_the_form_without_javascript(client, db, engineer):
    incident = incidents.create_incident(
        db,
        engineer,
        title="Down",
        priority="P2",
        platform_statuses={"cisco": "major_outage"},
        now=NOW,
    )
    db.commit()
    login(client, engineer)
    path = f"/admin/incidents/{incident.id}"
    page = client.post(
        path,
        data={
            "csrf_token": token(client, path),
            "status": "identified",
            "template": "investigating",
            "use_template": "1",
        },
    )
    assert "We are investigating reports of issues with Cisco" in page.get_data(as_text=True)
    assert count(db, IncidentUpdate) == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": ""}, "This field is required"),
        ({"impact": "apocalyptic"}, "Not a valid choice"),
        ({"priority": "P9"}, "Not a valid choice"),
        ({"platform-cisco": "on_fire"}, "status must be one of"),
        ({"platform-atlantis": "major_outage"}, "unknown platform"),
        ({"priority": "P1G"}, "support case number"),
        ({"title": "x" * 500}, "Field cannot be longer than 200"),
        ({"case_number": "<script>"}, "must be letters"),
    ],
)
def test_bad_incident_input_writes_nothing(client, db, css, fields, message):
    login(client, css)
    response = new_incident(client, **fields)
    assert response.status_code == 422, fields
    page = response.get_data(as_text=True)
    assert message in page and "<script>" not in page.split("<main")[1].replace(
        '<script src="/static/localtime.js" defer></script>', ""
    )
    assert count(db, Incident) == 0


def test_missing_csrf_and_huge_body_are_refused(app, client, db, css):
    login(client, css)
    assert client.post("/admin/incidents/new", data={"title": "x"}).status_code == 400
    huge = client.post(
        "/admin/incidents/new",
        data={"csrf_token": token(client), "title": "x", "body": "y" * 3_000_000},
    )
    assert huge.status_code == 413
    assert count(db, Incident) == 0


def test_unknown_ids_are_404(client, css):
    login(client, css)
    for path in ("/admin/incidents/999", "/admin/incidents/abc", "/admin/maintenance/999"):
        assert client.get(path).status_code == 404


def test_script_in_text_is_shown_escaped(client, db, css):
    incidents.create_incident(
        db, css, title="<script>alert(1)</script>", body="<img onerror=x>", priority="P2", now=NOW
    )
    db.commit()
    login(client, css)
    page = client.get("/admin/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_admin_creates_user_and_token_shown_once(client, db, admin):
    login(client, admin)
    t = token(client, "/admin/users")
    bad = client.post(
        "/admin/users",
        data={
            "csrf_token": t,
            "email": "admin@example.com",
            "role": "css",
            "password": "long enough pw",
        },
    )
    assert bad.status_code == 422 and "exists" in bad.get_data(as_text=True)
    ok = client.post(
        "/admin/users",
        data={
            "csrf_token": t,
            "email": "new@example.com",
            "role": "css",
            "password": "long enough pw",
        },
    )
    assert ok.status_code == 302
    new = db.scalar(select(User).where(User.email == "new@example.com"))
    page = client.post(
        "/admin/tokens", data={"csrf_token": t, "user_id": str(new.id), "name": "ci"}
    ).get_data(as_text=True)
    plaintext = re.search(r'<code class="token">([^<]+)</code>', page).group(1)
    from statuspage.services import staff

    assert staff.authenticate_token(db, plaintext, NOW).email == "new@example.com"
    assert plaintext not in client.get("/admin/tokens").get_data(as_text=True)


def test_audit_log_shows_changes(client, db, admin, css):
    incidents.create_incident(db, css, title="Down", priority="P2", now=NOW)
    db.commit()
    login(client, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "incident.create" in page and "css@example.com" in page
    assert client.get("/admin/audit?page=x").status_code == 400
