"""The public API v2 in Statuspage's shapes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from statuspage.seed.defaults import seed_series
from statuspage.services import maintenance
from tests.api.support import master_case_with_history
from tests.helpers import NOW

PAGE = {"id", "name", "url", "time_zone", "updated_at"}
COMPONENT = {
    "id",
    "name",
    "status",
    "created_at",
    "updated_at",
    "position",
    "description",
    "showcase",
    "start_date",
    "group_id",
    "page_id",
    "group",
    "only_show_if_degraded",
}
INCIDENT = {
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "started_at",
    "monitoring_at",
    "resolved_at",
    "shortlink",
    "page_id",
    "components",
    "incident_updates",
}
UPDATE = {
    "id",
    "status",
    "body",
    "incident_id",
    "created_at",
    "updated_at",
    "display_at",
    "affected_components",
    "deliver_notifications",
}
MAINTENANCE = INCIDENT | {"scheduled_for", "scheduled_until"}
ENDPOINTS = [
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
]


@pytest.fixture
def seeded(db, css):
    opened, old_opened = NOW - timedelta(minutes=20), NOW - timedelta(days=3)
    cases = "C-1, C-2"
    return master_case_with_history(
        db, css, opened=opened, old_opened=old_opened, customer_case_numbers=cases
    )


def get(client, path):
    response = client.get(f"/api/v2/{path}")
    assert response.status_code == 200, path
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_has_the_page_object_and_cors(client, seeded, path):
    body = get(client, path)
    assert set(body["page"]) == PAGE
    assert body["page"]["id"] == "calltower" and body["page"]["time_zone"] == "America/Denver"


def test_preflight_is_answered(client):
    response = client.options(
        "/api/v2/summary.json",
        headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_summary_shapes(client, seeded):
    body = get(client, "summary.json")
    assert set(body) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    assert all(set(c) >= COMPONENT for c in body["components"])
    [incident] = body["incidents"]
    assert set(incident) >= INCIDENT
    assert all(set(u) >= UPDATE for u in incident["incident_updates"])
    assert body["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    assert body["scheduled_maintenances"]
    assert all(set(m) >= MAINTENANCE for m in body["scheduled_maintenances"])


def test_incident_values_and_extras(client, seeded):
    [incident] = get(client, "incidents/unresolved.json")["incidents"]
    assert incident["id"] == str(seeded.id) and incident["status"] == "investigating"
    assert incident["shortlink"] == f"http://localhost/incidents/{seeded.id}"
    assert incident["started_at"] == "2026-11-20T14:40:00.000Z"
    assert [c["name"] for c in incident["components"]] == ["Cisco"]
    change = incident["incident_updates"][0]["affected_components"][0]
    assert change == {
        "code": incident["components"][0]["id"],
        "name": "Cisco",
        "old_status": "operational",
        "new_status": "major_outage",
    }
    assert incident["priority"] == "P1G" and incident["master_case"] is True
    assert "customer_case_numbers" not in incident  # customers' own: staff-only
    assert incident["next_update_due_at"] == "2026-11-20T15:40:00.000Z"


def test_incidents_json_holds_resolved_ones_too(client, seeded):
    names = [i["name"] for i in get(client, "incidents.json")["incidents"]]
    assert names == ["Calls failing", "Old"]


def test_components_statuses(client, seeded):
    components = {c["name"]: c for c in get(client, "components.json")["components"]}
    assert components["Cisco"]["status"] == "major_outage"
    assert components["Contact Centre"]["status"] == "operational"
    assert [c["position"] for c in components.values()] == sorted(
        c["position"] for c in components.values()
    )


def test_scheduled_maintenances_are_real_windows(client, seeded):
    upcoming = get(client, "scheduled-maintenances/upcoming.json")["scheduled_maintenances"]
    monthly = next(m for m in upcoming if m["name"] == "Monthly scheduled maintenance")
    assert monthly["status"] == "scheduled" and monthly["impact"] == "maintenance"
    assert monthly["scheduled_for"] == "2026-11-21T05:00:00.000Z"
    assert monthly["scheduled_until"] == "2026-11-21T11:00:00.000Z"
    assert len(monthly["components"]) == 7
    cert = next(m for m in upcoming if m["name"] == "Skype for Business certificate update")
    assert cert["impact"] == "none"
    assert get(client, "scheduled-maintenances/active.json")["scheduled_maintenances"] == []


def test_active_window_shows_in_progress(app, client, db, seeded):
    maintenance.advance_windows(db, NOW + timedelta(hours=15))
    db.commit()
    app.config["FIXED_NOW"] = NOW + timedelta(hours=15)
    active = get(app.test_client(), "scheduled-maintenances/active.json")
    [window] = active["scheduled_maintenances"]
    assert window["status"] == "in_progress"
    assert get(app.test_client(), "status.json")["status"]["indicator"] == "critical"


def test_maintenance_indicator_when_only_maintenance(app, db):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    maintenance.advance_windows(db, NOW + timedelta(hours=15))
    db.commit()
    assert get(app.test_client(), "status.json")["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/v2/nope.json")
    assert response.status_code == 404 and response.is_json
