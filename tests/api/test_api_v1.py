"""The Manage API v1 shape: tokens, wrapped bodies, roles, maintenance, bad input."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from statuspage.contract.requests import ComponentFields, IncidentFields, SubscriberFields
from statuspage.models import AuditEntry, Incident, MaintenanceWindow, Platform
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.api.support import BASE, cisco_id
from tests.helpers import NOW, api_headers, count


def post_incident(client, headers: dict[str, str], **fields: object):
    """POST `fields` to the Manage API as an incident (or a window), in its wrapper."""
    return client.post(f"{BASE}/incidents", headers=headers, json={"incident": fields})


# A master case as a client asks for one.
GLOBAL = {"name": "Global", "priority": "P1G", "case_number": "CS-1"}


def _window_on_the_22nd(db, start: str, end: str, **fields: object) -> dict[str, object]:
    """The Manage API's fields of a window on Cisco on 22 November from `start` to `end`
    (UTC, "hh:mm"), and `fields`."""
    when = {"scheduled_for": f"2026-11-22T{start}:00Z", "scheduled_until": f"2026-11-22T{end}:00Z"}
    return {"status": "scheduled", "component_ids": [cisco_id(db)], **when, **fields}


def test_no_token_wrong_token_and_wrong_page(client, db):
    headers = api_headers(db, "engineer")
    assert client.get(f"{BASE}/incidents").status_code == 401
    assert (
        client.get(f"{BASE}/incidents", headers={"Authorization": "OAuth sp_forged"}).status_code
        == 401
    )
    assert client.get("/api/v1/pages/other/incidents", headers=headers).status_code == 404
    bearer = {"Authorization": headers["Authorization"].replace("OAuth", "Bearer")}
    assert client.get(f"{BASE}/incidents", headers=bearer).status_code == 200


def test_create_update_resolve_an_incident(client, db):
    headers = api_headers(db, "engineer")
    opening = {"name": "Calls dropping", "status": "investigating", "deliver_notifications": True}
    cisco = {cisco_id(db): "partial_outage"}
    created = post_incident(
        client, headers, impact_override="major", body="Looking", components=cisco, **opening
    )
    assert created.status_code == 201
    incident = created.get_json()
    assert incident["components"][0]["status"] == "partial_outage"
    path = f"{BASE}/incidents/{incident['id']}"
    resolved = client.patch(
        path, headers=headers, json={"incident": {"status": "resolved", "body": "Fixed"}}
    )
    assert resolved.status_code == 200 and resolved.get_json()["status"] == "resolved"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "operational"
    assert len(client.get(path, headers=headers).get_json()["incident_updates"]) == 2


def test_engineer_token_cannot_set_or_remove_p1g(client, db, css):
    headers = api_headers(db, "engineer")
    refused = post_incident(client, headers, **GLOBAL)
    assert refused.status_code == 403 and count(db, Incident) == 0
    master = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    db.commit()
    path = f"{BASE}/incidents/{master.id}"
    assert (
        client.patch(path, headers=headers, json={"incident": {"priority": "P2"}}).status_code
        == 403
    )
    assert client.delete(path, headers=headers).status_code == 403
    db.expire_all()
    assert db.get(Incident, master.id).priority == "P1G"


def test_css_token_designates_p1g(client, db):
    headers = api_headers(db, "css")
    created = post_incident(client, headers, customer_case_numbers=["A-1"], **GLOBAL)
    assert created.status_code == 201
    body = created.get_json()
    assert body["master_case"] is True and body["customer_case_numbers"] == ["A-1"]


def test_scheduled_maintenance_through_the_incident_api(client, db):
    headers = api_headers(db, "engineer")
    auto = {"scheduled_auto_in_progress": True, "scheduled_auto_completed": True}
    firmware = _window_on_the_22nd(db, "08:00", "10:00", justification="Vendor advisory", **auto)
    created = post_incident(client, headers, name="Firmware", body="Upgrade SBCs", **firmware)
    assert created.status_code == 201, created.get_json()
    window = created.get_json()
    assert window["id"].startswith("w") and window["scheduled_for"] == "2026-11-22T08:00:00.000Z"
    assert window["justification"] == "Vendor advisory"
    listed = client.get(f"{BASE}/incidents/upcoming", headers=headers).get_json()
    assert window["id"] in [w["id"] for w in listed]
    moved = client.patch(
        f"{BASE}/incidents/{window['id']}",
        headers=headers,
        json={
            "incident": {
                "scheduled_for": "2026-11-23T08:00:00Z",
                "scheduled_until": "2026-11-23T10:00:00Z",
            }
        },
    )
    assert moved.get_json()["scheduled_for"] == "2026-11-23T08:00:00.000Z"
    cancelled = client.delete(f"{BASE}/incidents/{window['id']}", headers=headers)
    assert cancelled.get_json()["cancelled"] is True


def test_scheduled_maintenance_in_business_hours_needs_urgency(client, db):
    headers = api_headers(db, "engineer")
    noon = _window_on_the_22nd(db, "19:00", "20:00", name="Noon work", body="x", justification="y")
    response = post_incident(client, headers, **noon)
    assert response.status_code == 422 and "urgency" in response.get_json()["errors"]
    assert count(db, MaintenanceWindow) == 0


def test_maintenance_endpoints_list_series_windows(client, db):
    headers = api_headers(db, "engineer")
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    scheduled = client.get(f"{BASE}/incidents/scheduled", headers=headers).get_json()
    assert {w["name"] for w in scheduled} >= {"Monthly scheduled maintenance"}
    assert client.get(f"{BASE}/incidents/active_maintenance", headers=headers).get_json() == []


def test_component_status_patch(client, db):
    headers = api_headers(db, "engineer")
    path = f"{BASE}/components/{cisco_id(db)}"
    response = client.patch(
        path, headers=headers, json={"component": {"status": "degraded_performance"}}
    )
    assert response.status_code == 200 and response.get_json()["status"] == "degraded_performance"
    renamed = client.patch(path, headers=headers, json={"component": {"name": "Cisco UC"}})
    assert renamed.status_code == 403  # names are the admins'
    # Statuspage's fields this page does not keep (and any other) are ignored.
    more = client.patch(
        path,
        headers=headers,
        json={"component": {"status": "operational", "group_id": None, "showcase": True}},
    )
    assert more.status_code == 200 and more.get_json()["status"] == "operational"


BAD = [
    ("post", "/incidents", {"incident": {"name": 42}}, "name"),
    ("post", "/incidents", {"incident": {}}, "name"),
    ("post", "/incidents", {"name": "no wrapper"}, "incident"),
    ("post", "/incidents", ["not", "an", "object"], "incident"),
    ("post", "/incidents", {"incident": {"name": "x", "components": ["cisco"]}}, "components"),
    ("post", "/incidents", {"incident": {"name": "x", "component_ids": "1"}}, "component_ids"),
    ("post", "/incidents", {"incident": {"name": "x", "component_ids": ["999"]}}, "component_ids"),
    (
        "post",
        "/incidents",
        {"incident": {"name": "x", "deliver_notifications": "yes"}},
        "deliver_notifications",
    ),
    (
        "post",
        "/incidents",
        {"incident": {"name": "x", "impact_override": "apocalyptic"}},
        "impact_override",
    ),
    ("post", "/incidents", {"incident": {"name": "x", "status": "scheduled"}}, "scheduled_for"),
    (
        "post",
        "/incidents",
        {
            "incident": {
                "name": "x",
                "status": "scheduled",
                "scheduled_for": "tomorrow",
                "scheduled_until": "2026-11-22T10:00:00Z",
            }
        },
        "scheduled_for",
    ),
    (
        "post",
        "/incidents",
        {
            "incident": {
                "name": "<script>x</script>",
                "status": "scheduled",
                "scheduled_for": "2026-11-22T10:00:00Z",
                "scheduled_until": "2026-12-22T10:00:00Z",
                "component_ids": ["1"],
                "body": "x",
                "justification": "y",
            }
        },
        "scheduled_until",
    ),
    ("patch", "/incidents/{id}", {"incident": {"status": "bogus"}}, "status"),
    ("patch", "/incidents/{id}", {"incident": {"name": ["x"]}}, "name"),
    ("patch", "/components/1", {"component": {"status": "on_fire"}}, "status"),
    ("patch", "/components/1", {"component": {"position": "first"}}, "position"),
]


@pytest.mark.parametrize("method, path, body, field", BAD)
def test_bad_input_is_422_with_field_errors_and_writes_nothing(
    client, db, method, path, body, field
):
    headers = api_headers(db, "css")
    existing = incidents.create_incident(db, _css(db), title="Existing", priority="P2", now=NOW)
    db.commit()
    before = (count(db, Incident), count(db, MaintenanceWindow), count(db, AuditEntry))
    response = client.open(
        f"{BASE}{path.replace('{id}', str(existing.id))}",
        method=method.upper(),
        headers=headers,
        json=body,
    )
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert (count(db, Incident), count(db, MaintenanceWindow), count(db, AuditEntry)) == before


def _css(db):
    from statuspage.models import User

    return db.scalar(select(User).where(User.role == "css"))


def test_non_json_unknown_ids_and_huge_bodies(client, db):
    headers = api_headers(db, "css")
    assert (
        client.post(
            f"{BASE}/incidents",
            headers=headers,
            data="name=x",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 422
    )
    for path in (
        "/incidents/999",
        "/incidents/w999",
        "/incidents/abc",
        "/components/999",
        "/incidents/99999999999999999999999",
    ):
        response = client.get(f"{BASE}{path}", headers=headers)
        assert response.status_code == 404 and response.is_json, path
    huge = post_incident(client, headers, name="x", body="y" * 3_000_000)
    assert huge.status_code == 413 and count(db, Incident) == 0


def test_list_pagination_and_search(client, db, css):
    headers = api_headers(db, "css")
    for n in range(3):
        incidents.create_incident(db, css, title=f"Issue {n}", priority="P3", now=NOW)
    incidents.create_incident(db, css, title="Special", priority="P3", case_number="CS-42", now=NOW)
    db.commit()
    assert len(client.get(f"{BASE}/incidents?limit=2", headers=headers).get_json()) == 2
    found = client.get(f"{BASE}/incidents?q=CS-42", headers=headers).get_json()
    assert [i["name"] for i in found] == ["Special"]
    assert client.get(f"{BASE}/incidents?limit=0", headers=headers).status_code == 422
    assert client.get(f"{BASE}/incidents?page=x", headers=headers).status_code == 422


def _window_request(cisco: str, **extra):
    """Scheduling maintenance with only Statuspage's fields (as its documentation shows)."""
    return {
        "incident": {
            "name": "SBC firmware",
            "status": "scheduled",
            "body": "Upgrading the SBCs to the vendor's fixed release.",
            "scheduled_for": "2026-11-22T19:00:00Z",  # 12:00 MT: inside 05:00-23:00
            "scheduled_until": "2026-11-22T20:00:00Z",
            "scheduled_remind_prior": True,
            "scheduled_auto_in_progress": True,
            "scheduled_auto_completed": True,
            "auto_tweet_at_beginning": False,
            "deliver_notifications": True,
            "component_ids": [cisco],
            "metadata": {"jira": {"issue": "OPS-1"}},
            **extra,
        }
    }


def test_a_statuspage_only_client_schedules_maintenance_body_standing_for_the_extras(client, db):
    headers = api_headers(db, "engineer")
    response = client.post(f"{BASE}/incidents", headers=headers, json=_window_request(cisco_id(db)))
    assert response.status_code == 201, response.get_json()
    body = "Upgrading the SBCs to the vendor's fixed release."
    assert response.get_json()["justification"] == body
    window = db.scalar(select(MaintenanceWindow))
    assert (window.description, window.justification, window.urgency) == (body, body, body)


def test_a_statuspage_only_window_at_night_needs_and_gets_no_urgency(client, db):
    headers = api_headers(db, "engineer")
    night = _window_request(
        cisco_id(db),
        scheduled_for="2026-11-22T08:00:00Z",  # 01:00 MT
        scheduled_until="2026-11-22T09:00:00Z",
    )
    assert client.post(f"{BASE}/incidents", headers=headers, json=night).status_code == 201
    assert db.scalar(select(MaintenanceWindow.urgency)) == ""


def test_extras_ride_in_metadata_under_the_network_status_namespace(client, db):
    headers = api_headers(db, "engineer")
    request = _window_request(
        cisco_id(db),
        metadata={
            "jira": {"issue": "OPS-1"},
            "network_status": {"justification": "Vendor advisory", "urgency": "Calls drop"},
        },
    )
    assert client.post(f"{BASE}/incidents", headers=headers, json=request).status_code == 201
    window = db.scalar(select(MaintenanceWindow))
    assert (window.justification, window.urgency) == ("Vendor advisory", "Calls drop")


def test_a_top_level_extra_wins_over_metadata(client, db):
    headers = api_headers(db, "engineer")
    request = _window_request(
        cisco_id(db),
        justification="Top level",
        urgency="Now",
        metadata={"network_status": {"justification": "Namespaced"}},
    )
    assert client.post(f"{BASE}/incidents", headers=headers, json=request).status_code == 201
    assert db.scalar(select(MaintenanceWindow.justification)) == "Top level"


def test_metadata_p1g_follows_the_role_rules(client, db):
    master = {
        "incident": {
            "name": "Global",
            "body": "Calls failing",
            "metadata": {"network_status": {"priority": "P1G", "case_number": "CS-9"}},
        }
    }
    engineer = api_headers(db, "engineer")
    assert client.post(f"{BASE}/incidents", headers=engineer, json=master).status_code == 403
    assert count(db, Incident) == 0
    created = client.post(f"{BASE}/incidents", headers=api_headers(db, "css"), json=master)
    assert created.status_code == 201
    assert created.get_json()["master_case"] is True
    assert created.get_json()["case_number"] == "CS-9"


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"metadata": "x"}, "metadata"),
        ({"metadata": {"network_status": "x"}}, "metadata.network_status"),
        ({"metadata": {"network_status": {"justfication": "typo"}}}, "metadata.network_status"),
        ({"metadata": {"network_status": {"urgency": 5}}}, "urgency"),
        ({"body": None}, "body"),
    ],
)
def test_bad_metadata_or_no_body_is_422_and_writes_nothing(client, db, extra, field):
    headers = api_headers(db, "engineer")
    response = client.post(
        f"{BASE}/incidents", headers=headers, json=_window_request(cisco_id(db), **extra)
    )
    assert response.status_code == 422 and field in response.get_json()["errors"]
    assert count(db, MaintenanceWindow) == 0


# --- any shape through the declared request models ------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
INCIDENT_NAMES = [
    *IncidentFields.model_fields,
    "network_status",
    "auto_tweet_at_beginning",
]


def _shaped(names: list[str]) -> st.SearchStrategy[dict[str, object]]:
    """Objects whose keys are mostly the model's own names, with values of any JSON type, and
    sometimes a well-typed value."""
    good = {
        "name": st.text(min_size=1, max_size=20),
        "status": st.sampled_from(["investigating", "scheduled", "resolved", "x"]),
        "scheduled_for": st.sampled_from(["2026-11-22T08:00:00Z", "2026-11-22T08:00:00"]),
        "scheduled_until": st.sampled_from(["2026-11-22T09:00:00Z", "tomorrow"]),
        "component_ids": st.lists(st.sampled_from(["1", "2", 3, "999"]), max_size=3),
        "components": st.dictionaries(
            st.sampled_from(["1", "2"]), st.sampled_from(["operational", "x"])
        ),
        "metadata": st.fixed_dictionaries(
            {
                "network_status": st.dictionaries(
                    st.sampled_from(["urgency", "etr", "x"]), JSON_VALUES
                )
            }
        ),
    }
    value_for = {n: st.one_of(JSON_VALUES, good[n]) if n in good else JSON_VALUES for n in names}
    return st.lists(st.sampled_from(names), max_size=6).flatmap(
        lambda keys: st.fixed_dictionaries({k: value_for[k] for k in keys})
    )


@pytest.fixture
def css_headers(db):
    """One token for all of a property test's examples."""
    return api_headers(db, "css")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(["incident", "component", "subscriber", "patch"]),
    fields=_shaped(INCIDENT_NAMES)
    | _shaped([*ComponentFields.model_fields])
    | _shaped([*SubscriberFields.model_fields]),
)
@pytest.mark.one_backend
def test_any_json_shape_is_answered_2xx_or_4xx_and_a_refusal_writes_nothing(
    client, db, css_headers, target, fields
):
    """Whatever a client sends inside the wrapper is checked by the declared models (or the
    services) and answered: a success, or a JSON 4xx that wrote nothing. Never a 500."""
    db.expire_all()
    before = (count(db, Incident), count(db, MaintenanceWindow), count(db, AuditEntry))
    method, path, wrapper = {
        "incident": ("POST", "/incidents", "incident"),
        "component": ("PATCH", f"/components/{cisco_id(db)}", "component"),
        "subscriber": ("POST", "/subscribers", "subscriber"),
        "patch": ("PATCH", "/incidents/w1", "incident"),
    }[target]
    response = client.open(
        f"{BASE}{path}", method=method, headers=css_headers, json={wrapper: fields}
    )
    assert response.status_code < 500 and response.is_json, response.get_data()
    if response.status_code >= 400:
        db.expire_all()
        after = (count(db, Incident), count(db, MaintenanceWindow), count(db, AuditEntry))
        assert after == before, response.get_json()
