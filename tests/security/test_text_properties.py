"""Property tests: arbitrary Unicode through every write path, then every renderer.

Whatever is typed is either refused (a 4xx or a ValidationError, nothing written) or
accepted, and then the feeds parse as XML and in feedparser, the calendar in icalendar (and
ical.js where node is installed), the JSON parses, and the pages answer without a live script.
Rows written behind the services' back (before the rule existed) render just as well.

`make test` runs the "ci" profile (tests/conftest.py); HYPOTHESIS_PROFILE=nightly runs 1,000
examples each. These run on SQLite only: the PostgreSQL half is covered by the example tests
in tests/security/test_text_boundaries.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from statuspage.models import Incident, IncidentUpdate, MaintenanceWindow, Platform
from statuspage.services import ValidationError, incidents, maintenance
from tests.helpers import NOW, TESTS_DIR, api_headers, count, login, post_form
from tests.maintenance_fixtures import one_off
from tests.security.hostile import BASE, FORM_TEXT, SHARED, TEXT, assert_feeds_and_calendars_valid

JS = os.path.join(str(TESTS_DIR), "js")

# Properties of rendering and import, not of a database: SQLite only.
pytestmark = pytest.mark.one_backend


@pytest.fixture
def headers(db) -> dict[str, str]:
    return api_headers(db)


def counts(db) -> tuple[int, ...]:
    return tuple(count(db, m) for m in (Incident, IncidentUpdate, MaintenanceWindow))


def check_icaljs(client, tmp_path) -> None:
    if shutil.which("node") is None or not os.path.isdir(os.path.join(JS, "node_modules")):
        return
    path = tmp_path / "maintenance.ics"
    path.write_bytes(client.get("/maintenance.ics").data)
    subprocess.run(
        [
            "node",
            os.path.join(JS, "expand_ics.mjs"),
            str(path),
            NOW.isoformat(),
            (NOW + timedelta(days=30)).isoformat(),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )


def post(client, headers, body: dict[str, Any]):
    return client.post(f"{BASE}/incidents", headers=headers, json={"incident": body})


@SHARED
@given(title=TEXT, body=TEXT, cases=st.lists(TEXT, max_size=5))
def test_any_incident_through_the_api_is_refused_or_renders(
    client, db, headers, title, body, cases
):
    before = counts(db)
    response = post(
        client,
        headers,
        {
            "name": title,
            "body": body,
            "components": {"cisco": "major_outage"},
            "customer_case_numbers": cases,
        },
    )
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.status_code == 422
        db.expire_all()
        assert counts(db) == before
    else:
        assert response.status_code == 201
    assert_feeds_and_calendars_valid(client)


@SHARED
@given(title=TEXT, description=TEXT, note=TEXT)
def test_any_window_is_refused_or_renders(client, db, engineer, tmp_path, title, description, note):
    before = counts(db)
    try:
        window = one_off(
            db,
            engineer,
            title=title,
            description=description or "d",
            justification=note or "j",
            urgency="now",
        )
        maintenance.change_window(db, engineer, window, note=note, now=NOW)
    except ValidationError:
        db.rollback()
        assert counts(db) == before
    else:
        db.commit()
    assert_feeds_and_calendars_valid(client)
    check_icaljs(client, tmp_path)


@SHARED
@given(title=FORM_TEXT, body=FORM_TEXT)
def test_any_staff_form_input_is_refused_or_renders(client, db, engineer, title, body):
    login(client, engineer)
    before = counts(db)
    fields = {"title": title, "impact": "minor", "priority": "P3", "status": "investigating"}
    response = post_form(client, "/admin/incidents/new", fields, body=body)
    assert response.status_code in (302, 422), response.status_code
    if response.status_code == 422:
        db.expire_all()
        assert counts(db) == before
    assert_feeds_and_calendars_valid(client)


@SHARED
@given(title=FORM_TEXT, body=FORM_TEXT, name=FORM_TEXT)
def test_rows_written_behind_the_services_back_still_render(
    client, db, css, engineer, tmp_path, title, body, name
):
    incident = db.scalar(select(Incident))
    if incident is None:
        incident = incidents.create_incident(
            db, css, title="x", body="x", platform_statuses={"cisco": "major_outage"}, now=NOW
        )
        one_off(db, engineer, title="w")
        db.flush()
    db.execute(update(Incident).values(title=title[:200] or "x"))
    db.execute(update(IncidentUpdate).values(body=body))
    db.execute(
        update(MaintenanceWindow).values(
            title=title[:200] or "w", description=body, note=body, justification=name
        )
    )
    db.execute(update(Platform).where(Platform.slug == "cisco").values(name=name[:120] or "c"))
    db.commit()
    assert_feeds_and_calendars_valid(client)
    page = client.get(f"/incidents/{incident.id}")
    assert page.status_code == 200
    scripts = re.findall(r"<script[^>]*>", page.get_data(as_text=True))
    assert all('src="/static/' in s for s in scripts), scripts
    check_icaljs(client, tmp_path)
