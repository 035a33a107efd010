"""Roles enforced in the services, whatever the path: master cases are CSS's (the platforms
they hold and their timeline), series are the admins', MPOC imports are CSS's and audited."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from statuspage.models import AuditEntry, Incident, IncidentUpdate, Platform, Subscriber
from statuspage.services import PermissionDenied, incidents, maintenance
from statuspage.services import platforms as platform_service
from statuspage.services.subscriptions import mpoc
from tests.helpers import NOW, api_headers, count, csrf_token, login, make_user, post_form

BASE = "/api/v1/pages/calltower"
HOUR = timedelta(hours=1)
CSV = (
    "email,name,organisation,platforms,topics,language\n"
    "a@example.com,A,Org,cisco,incidents,en\n"
    "broken,B,Org,cisco,incidents,en\n"
)


def platform(db, slug: str = "cisco") -> Platform:
    return db.scalar(select(Platform).where(Platform.slug == slug))


def master_case(db, css, status: str = "partial_outage") -> Incident:
    incident = incidents.create_incident(
        db,
        css,
        title="Global outage",
        priority="P1G",
        case_number="CS-1",
        impact="major",
        platform_statuses={"cisco": status},
        now=NOW,
    )
    db.commit()
    return incident


def patch_incident(client, db, who, case: Incident, fields: dict[str, str]):
    """`who` changes the incident `case` through the Manage API with a token of their own."""
    return client.patch(
        f"{BASE}/incidents/{case.id}", headers=api_headers(db, who), json={"incident": fields}
    )


# --- platforms held by an open master case --------------------------------------------


def test_engineer_cannot_set_the_status_of_a_platform_a_master_case_holds(db, css, engineer):
    master_case(db, css)
    with pytest.raises(PermissionDenied):
        platform_service.set_status(db, engineer, platform(db), "operational", NOW)
    db.rollback()
    assert platform(db).status == "partial_outage"
    # A platform no master case holds stays the engineers' to set.
    platform_service.set_status(db, engineer, platform(db, "contact-centre"), "major_outage", NOW)
    assert platform(db, "contact-centre").status == "major_outage"


def test_css_sets_the_status_of_a_platform_a_master_case_holds(db, css):
    master_case(db, css)
    platform_service.set_status(db, css, platform(db), "major_outage", NOW)
    assert platform(db).status == "major_outage"


def test_engineer_token_cannot_patch_a_component_a_master_case_holds(client, db, css, engineer):
    master_case(db, css)
    path = f"{BASE}/components/{platform(db).id}"
    refused = client.patch(
        path, headers=api_headers(db, engineer), json={"component": {"status": "operational"}}
    )
    assert refused.status_code == 403
    db.expire_all()
    assert platform(db).status == "partial_outage"
    allowed = client.patch(
        path, headers=api_headers(db, css), json={"component": {"status": "major_outage"}}
    )
    assert allowed.status_code == 200 and allowed.get_json()["status"] == "major_outage"


def test_engineer_incident_cannot_change_a_platform_a_master_case_holds(db, css, engineer):
    master_case(db, css)
    with pytest.raises(PermissionDenied):
        incidents.create_incident(
            db, engineer, title="Worse", platform_statuses={"cisco": "major_outage"}, now=NOW
        )
    db.rollback()
    assert count(db, Incident) == 1 and platform(db).status == "partial_outage"
    # A status no worse than the master case's changes nothing, so it is allowed.
    mine = incidents.create_incident(
        db, engineer, title="Same", platform_statuses={"cisco": "degraded_performance"}, now=NOW
    )
    db.commit()
    with pytest.raises(PermissionDenied):
        incidents.post_update(
            db,
            engineer,
            mine,
            body="worse",
            platform_statuses={"cisco": "major_outage"},
            now=NOW + HOUR,
        )
    db.rollback()
    assert platform(db).status == "partial_outage" and count(db, IncidentUpdate) == 2
    incidents.resolve(db, engineer, mine, body="fixed", now=NOW + HOUR)
    assert platform(db).status == "partial_outage"


def test_engineer_form_update_that_would_change_a_held_platform_is_refused(
    client, db, css, engineer
):
    master_case(db, css)
    mine = incidents.create_incident(db, engineer, title="Mine", now=NOW)
    db.commit()
    login(client, engineer)
    path = f"/admin/incidents/{mine.id}"
    worse = {"platform-cisco": "major_outage"}
    response = post_form(client, path, worse, status="identified", body="now worse")
    assert response.status_code == 403
    db.expire_all()
    assert platform(db).status == "partial_outage" and db.get(Incident, mine.id).status == (
        "investigating"
    )


def test_engineer_cannot_delete_an_incident_when_that_would_change_a_held_platform(
    db, css, engineer
):
    master_case(db, css, status="degraded_performance")
    mine = incidents.create_incident(
        db, css, title="Worse", platform_statuses={"cisco": "major_outage"}, now=NOW
    )
    db.commit()
    with pytest.raises(PermissionDenied):
        incidents.delete_incident(db, engineer, mine, NOW)
    db.rollback()
    assert platform(db).status == "major_outage"


# --- the master case's own timeline ----------------------------------------------------


def test_engineer_cannot_resolve_or_update_a_master_case(db, css, engineer):
    case = master_case(db, css)
    with pytest.raises(PermissionDenied):
        incidents.resolve(db, engineer, case, body="Fixed", now=NOW + HOUR)
    db.rollback()
    with pytest.raises(PermissionDenied):
        incidents.post_update(db, engineer, case, status="monitoring", now=NOW + HOUR)
    db.rollback()
    with pytest.raises(PermissionDenied):
        incidents.post_update(db, engineer, case, body="An hourly note", now=NOW + HOUR)
    db.rollback()
    found = db.get(Incident, case.id)
    assert found.status == "investigating" and len(found.updates) == 1
    assert platform(db).status == "partial_outage"


def test_engineer_cannot_rename_a_master_case_or_lower_its_impact(client, db, css, engineer):
    """The page must not say "partially degraded" while CSS run a P1G: neither the service,
    nor the staff form, nor the Manage API lets an engineer touch its title or impact."""
    case = master_case(db, css)
    indicator = client.get("/api/v2/status.json").get_json()["status"]["indicator"]
    for change in ({"title": "Partially Degraded Service"}, {"impact": "minor"}):
        with pytest.raises(PermissionDenied):
            incidents.edit_incident(db, engineer, case, now=NOW + HOUR, **change)
        db.rollback()
    login(client, engineer)
    form = client.post(
        f"/admin/incidents/{case.id}/edit",
        data={
            "csrf_token": csrf_token(client, "/admin/incidents/new"),
            "title": "Partially Degraded Service",
            "impact": "minor",
            "priority": "P1G",
            "case_number": "CS-1",
        },
    )
    assert form.status_code == 403
    assert "only CSS staff" in form.get_data(as_text=True)
    renamed = {"name": "Partially Degraded Service", "impact_override": "minor"}
    api = patch_incident(client, db, engineer, case, renamed)
    assert api.status_code == 403
    db.expire_all()
    found = db.get(Incident, case.id)
    assert (found.title, found.impact) == ("Global outage", "major")
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == indicator
    # CSS staff change it as before.
    incidents.edit_incident(
        db, css, found, title="Global calling outage", impact="critical", now=NOW
    )
    assert (found.title, found.impact) == ("Global calling outage", "critical")


def test_css_resolves_a_master_case_and_its_platforms_return(db, css):
    case = master_case(db, css)
    incidents.resolve(db, css, case, body="Fixed", now=NOW + HOUR)
    assert case.status == "resolved" and platform(db).status == "operational"


def test_engineer_token_cannot_resolve_a_master_case_through_api_v1(client, db, css, engineer):
    case = master_case(db, css)
    fixed = {"status": "resolved", "body": "Fixed"}
    response = patch_incident(client, db, engineer, case, fixed)
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Incident, case.id).status == "investigating"
    assert platform(db).status == "partial_outage"
    done = patch_incident(client, db, css, case, fixed)
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"


# --- series and imports -----------------------------------------------------------------


def save_series(db, actor):
    return maintenance.save_series(
        db,
        actor,
        None,
        title="Weekly check",
        rule="FREQ=WEEKLY;BYDAY=TU",
        first_start=datetime(2026, 12, 1, 21, 0, tzinfo=NOW.tzinfo),
        duration_minutes=60,
        impact="none",
        platforms=["cisco"],
        tz_name="America/Denver",
        now=NOW,
    )


@pytest.mark.parametrize("role", ["css", "engineer"])
def test_only_admins_save_a_series_in_the_service(db, role):
    with pytest.raises(PermissionDenied):
        save_series(db, make_user(db, role))
    db.rollback()
    assert save_series(db, make_user(db, "admin")).id


def test_engineer_cannot_import_contacts_in_the_service(db, engineer):
    rows = list(mpoc.read_csv(io.StringIO(CSV)))
    with pytest.raises(PermissionDenied):
        mpoc.import_contacts(db, rows, actor=engineer, now=NOW)
    db.rollback()
    assert count(db, Subscriber) == 0
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.import")) is None


def test_web_import_is_recorded_in_the_audit_log(client, db, css):
    login(client, css)
    path = "/admin/subscribers/import"
    preview = post_form(client, path, file=(io.BytesIO(CSV.encode()), "mpoc.csv"))
    # The upload is previewed (nothing written, nothing audited); the confirmation imports.
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.import")) is None
    key = re.search(r'name="upload" type="hidden" value="([^"]+)"', preview.get_data(as_text=True))
    response = post_form(client, f"{path}/confirm", page=path, upload=key.group(1))
    assert response.status_code == 200
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.import"))
    assert entry.actor_id == css.id and entry.actor_label == css.email and entry.at == NOW
    assert entry.after == {"created": 1, "updated": 0, "errors": 1, "organisation": ""}


def test_cli_import_is_recorded_in_the_audit_log_as_the_cli(runner, db, tmp_path):
    path = tmp_path / "mpoc.csv"
    path.write_text(CSV)
    result = runner.invoke(args=["subscribers", "import", str(path), "--organisation", "Acme"])
    assert result.exit_code == 0, result.output
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.import"))
    assert entry.actor_id is None and entry.actor_label == "cli"
    assert entry.after == {"created": 1, "updated": 0, "errors": 1, "organisation": "Acme"}
