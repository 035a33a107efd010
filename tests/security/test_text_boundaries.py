"""Nothing anyone types can break a page or stop a notice: control characters are refused at
every boundary, lists are bounded, and every renderer survives whatever a row holds."""

from __future__ import annotations

import io
import re
import time

import icalendar
import pytest
from sqlalchemy import select, update

from statuspage.mail import MailBatch, MailRecipient
from statuspage.models import (
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Platform,
    Subscriber,
    User,
)
from statuspage.renderers.mail import render_notice
from statuspage.services import ValidationError, incidents, staff
from statuspage.services import platforms as platform_service
from statuspage.services.subscriptions import mpoc, signup
from tests.helpers import NOW, api_headers, count, login, master_case, open_incident, post_form
from tests.maintenance_fixtures import one_off
from tests.security.hostile import BASE, assert_feeds_and_calendars_valid

HOSTILE = ["a\x00b", "a\x0bb", "a\x1b[31mb", "a\x7fb", "a\rb", "a\nb", "a\u2028b"]
# What a row written before the rule may hold (PostgreSQL itself refuses NUL).
STORED = "Outage \x0b\x1b[2J\x07\x08 <script>alert(1)</script> \u202e\rhalf\r\nline"


# --- the findings ----------------------------------------------------------------------


@pytest.mark.parametrize("title", ["Calls \x00 failing", "Calls \x0b failing"])
def test_api_v1_refuses_nul_and_vertical_tab_in_a_title_and_writes_nothing(client, db, title):
    headers = api_headers(db)
    response = client.post(
        f"{BASE}/incidents",
        headers=headers,
        json={"incident": {"name": title, "body": "looking", "status": "investigating"}},
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]  # the field the client sent
    assert count(db, Incident) == 0
    assert_feeds_and_calendars_valid(client)


def test_staff_form_refuses_a_vertical_tab_in_a_title_and_writes_nothing(client, db, engineer):
    login(client, engineer)
    fields = {"title": "Calls \x0b failing", "impact": "minor", "priority": "P3"}
    response = post_form(
        client, "/admin/incidents/new", fields, status="investigating", body="Looking"
    )
    assert response.status_code == 422
    assert "control character" in response.get_data(as_text=True)
    assert count(db, Incident) == 0


def test_feeds_survive_an_incident_row_holding_control_characters(client, db, css):
    incident = open_incident(db, css, body="x", commit=False)
    db.flush()
    title = STORED + ("\x00" if db.get_bind().dialect.name == "sqlite" else "")
    db.execute(update(Incident).where(Incident.id == incident.id).values(title=title))
    db.execute(update(IncidentUpdate).values(body=STORED))
    db.execute(update(Platform).where(Platform.slug == "cisco").values(name="Cisco\x0b\r\n"))
    db.commit()
    assert_feeds_and_calendars_valid(client)
    rss = client.get("/history.rss").get_data(as_text=True)
    assert "Outage" in rss and "\x0b" not in rss and "\x1b" not in rss
    assert client.get(f"/incidents/{incident.id}").status_code == 200


def test_a_lone_carriage_return_never_reaches_the_calendar(client, db, engineer):
    with pytest.raises(ValidationError) as refused:
        one_off(db, engineer, title="Firmware\rX-INJECTED:1")
    assert "title" in refused.value.errors
    db.rollback()
    window = one_off(db, engineer)
    db.flush()
    db.execute(
        update(MaintenanceWindow)
        .where(MaintenanceWindow.id == window.id)
        .values(title="Firmware\rX-INJECTED:1", description="one\rtwo\x0b", note="n\r")
    )
    db.commit()
    body = client.get("/maintenance.ics").data
    assert b"\rX-INJECTED" not in body and b"\nX-INJECTED" not in body
    assert_feeds_and_calendars_valid(client)
    events = [
        e
        for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
        if str(e["UID"]).startswith(f"window-{window.id}@")
    ]
    assert [str(e["SUMMARY"]) for e in events] == ["Firmware X-INJECTED:1"]
    assert "one\ntwo" in str(events[0]["DESCRIPTION"])


def test_customer_case_numbers_are_bounded_before_they_are_read(client, db, css):
    many = [f"C-{n}" for n in range(20_000)]
    started = time.process_time()
    with pytest.raises(ValidationError) as refused:
        master_case(db, css, title="Big", customer_case_numbers=many)
    with pytest.raises(ValidationError):
        incidents.parse_case_numbers(", ".join(many))
    assert time.process_time() - started < 0.2
    assert "customer_case_numbers" in refused.value.errors
    db.rollback()
    headers = api_headers(db)
    response = client.post(
        f"{BASE}/incidents",
        headers=headers,
        json={
            "incident": {
                "name": "Big",
                "priority": "P1G",
                "case_number": "CS-1",
                "customer_case_numbers": many,
            }
        },
    )
    assert response.status_code == 422
    assert count(db, Incident) == 0
    # Within the bound, repeats go and order stays.
    assert incidents.parse_case_numbers(["B-2", "A-1", "B-2", " ", "A-1"]) == ["B-2", "A-1"]


def test_component_maps_and_lists_are_bounded(client, db):
    headers = api_headers(db)
    for body in (
        {"components": {str(n): "major_outage" for n in range(5_000)}},
        {"component_ids": list(range(5_000))},
    ):
        response = client.post(
            f"{BASE}/incidents", headers=headers, json={"incident": {"name": "Big", **body}}
        )
        assert response.status_code == 422
        assert set(response.get_json()["errors"]) & {"components", "component_ids"}
    assert count(db, Incident) == 0


# --- every boundary --------------------------------------------------------------------


@pytest.mark.parametrize("bad", HOSTILE)
def test_every_single_line_field_refuses_controls_and_line_breaks(db, admin, css, bad):
    calls = [
        lambda: incidents.create_incident(db, css, title=bad, now=NOW),
        lambda: staff.create_user(db, admin, email="n@example.com", role="css", name=bad, now=NOW),
        lambda: staff.create_token(db, admin, css, name=bad, now=NOW),
        lambda: platform_service.update_platform(
            db, admin, db.scalar(select(Platform)), name=bad, now=NOW
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError):
            call()
        db.rollback()
    assert count(db, Incident) == 0 and count(db, User) == 2


@pytest.mark.parametrize("bad", ["a\x00b", "a\x0bb", "a\x7fb", "a\x1bb"])
def test_multi_line_fields_refuse_controls_but_keep_line_breaks(db, css, bad):
    with pytest.raises(ValidationError) as refused:
        incidents.create_incident(db, css, title="Slow", body=bad, now=NOW)
    assert "body" in refused.value.errors
    db.rollback()
    created = incidents.create_incident(
        db, css, title="Slow", body="line one\r\nline two\rthree\n\tindented", now=NOW
    )
    assert created.updates[0].body == "line one\nline two\nthree\n\tindented"


def test_unpaired_surrogate_through_the_api_is_refused(client, db):
    headers = api_headers(db)
    raw = b'{"incident": {"name": "Calls \\ud800 failing", "body": "x"}}'
    response = client.post(
        f"{BASE}/incidents", headers={**headers, "Content-Type": "application/json"}, data=raw
    )
    assert response.status_code == 422
    component = client.get(f"{BASE}/components/%00", headers=headers)
    assert component.status_code == 404
    assert count(db, Incident) == 0


def test_platform_paths_with_a_nul_are_not_found(client):
    for path in ("/platforms/%00/history.rss", "/platforms/ci%00sco/maintenance.ics"):
        assert client.get(path).status_code == 404


def test_csv_import_reports_rows_with_controls_and_bounds_their_lists(db):
    many = ";".join(["cisco"] * 500)
    text = (
        "email,name,organisation,platforms,topics,language\n"
        "good@example.com,Good,Org,cisco,incidents,en\n"
        "evil@example.com,Evil\x1b[2J,Org,cisco,incidents,en\n"
        "org@example.com,Org,Or\x0bg,cisco,incidents,en\n"
        f"many@example.com,Many,Org,{many},incidents,en\n"
    )
    rows = list(mpoc.read_csv(io.StringIO(text)))
    result = mpoc.import_contacts(db, rows, actor=None, now=NOW)
    assert result.created == 1
    assert [line for line, _ in result.errors] == [3, 4, 5]
    assert all("\x1b" not in message for _, message in result.errors)
    assert db.scalars(select(Subscriber.address)).all() == ["good@example.com"]
    with pytest.raises(ValidationError):
        mpoc.import_contacts(db, rows, actor=None, organisation="Org\r\nBcc: x", now=NOW)
    with pytest.raises(ValidationError) as huge:
        list(mpoc.read_csv(io.StringIO('email,platforms\n"' + "x" * 200_000 + '",a\n')))
    assert "file" in huge.value.errors


def test_cli_refuses_a_user_name_with_an_escape_sequence(runner, db):
    result = runner.invoke(
        args=["users", "create", "cli@example.com", "--role", "css", "--name", "Eve\x1b[2J"]
    )
    assert result.exit_code != 0
    assert db.scalar(select(User).where(User.email == "cli@example.com")) is None


def test_subscribe_bounds_its_platform_list(db):
    with pytest.raises(ValidationError) as refused:
        signup.subscribe(
            db, secret="s", email="a@example.com", platforms=["cisco"] * 5_000, now=NOW
        )
    assert "platforms" in refused.value.errors


def test_mail_subject_and_display_name_never_carry_a_line_break():
    hostile = "Down\r\nBcc: victim@example.com\x00\x0b"
    payload = {
        "kind": "incident_created",
        "incident": {
            "id": 1,
            "title": hostile,
            "priority": "P2",
            "is_master_case": False,
            "case_number": None,
            "impact": "major",
            "status": "investigating",
            "url": "https://s/incidents/1",
        },
        "update": {
            "id": 1,
            "status": "investigating",
            "body": hostile,
            "at": "2027-01-15T18:00:00+00:00",
        },
        "platforms": ["Cisco\r\n"],
    }
    mail = render_notice(payload, "en", "America/Denver")
    assert "Down Bcc: victim@example.com" in mail.subject
    assert not re.search(r"[\x00-\x1f\x7f]", mail.subject)
    batch = MailBatch(
        from_email="status@example.com",
        from_name="Status\r\nX: y",
        subject=hostile,
        text="t",
        html="h",
        recipients=[MailRecipient(email="r@example.com", name=hostile)],
    )
    for value in (batch.subject, batch.from_name, batch.recipients[0].name):
        assert not re.search(r"[\x00-\x1f\x7f]", value)
