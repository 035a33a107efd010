"""Customers' own case numbers are staff-only; the master case's support case number is public."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage.models import Notice
from statuspage.renderers.mail import render_notice
from statuspage.services import incidents
from tests.helpers import NOW, login, master_case, token_headers

PRIVATE = ("CUST-7781", "CUST-7782")


@pytest.fixture
def master(db, css):
    cases = {"case_number": "CS-4242", "customer_case_numbers": ", ".join(PRIVATE)}
    found = master_case(
        db, css, platforms={"cisco": "major_outage"}, now=NOW - timedelta(minutes=20), **cases
    )
    incidents.post_update(
        db, css, found, status="identified", body="Carrier fault", now=NOW - timedelta(minutes=5)
    )
    db.commit()
    return found


def assert_private(data: bytes | str) -> None:
    text = data if isinstance(data, str) else data.decode()
    for case in PRIVATE:
        assert case not in text


PUBLIC_PATHS = [
    "/",
    "/incidents/{id}",
    "/history",
    "/maintenance",
    "/subscribe",
    "/subscribe?incident={id}",
    "/history.rss",
    "/history.atom",
    "/platforms/cisco/history.rss",
    "/maintenance.ics",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
]


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_customer_case_numbers_never_reach_a_public_surface(client, master, path):
    response = client.get(path.format(id=master.id))
    assert response.status_code == 200, path
    assert_private(response.data)


def test_the_support_case_number_stays_public(client, master):
    assert "CS-4242" in client.get(f"/incidents/{master.id}").get_data(as_text=True)
    assert "CS-4242" in client.get("/").get_data(as_text=True)
    [shown] = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"]
    assert shown["case_number"] == "CS-4242"
    assert "customer_case_numbers" not in shown


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_subscriber_emails_of_a_master_case_carry_no_customer_case_numbers(db, master, language):
    notices = db.scalars(select(Notice).where(Notice.incident_id == master.id)).all()
    assert len(notices) == 2
    for notice in notices:
        assert_private(repr(notice.payload))
        mail = render_notice(notice.payload, language, "Europe/Berlin")
        assert "CS-4242" in mail.text
        for part in (mail.subject, mail.text, mail.html):
            assert_private(part)


def test_staff_keep_customer_case_numbers_in_the_manage_api_and_admin(client, db, css, master):
    token = incidents_token(db, css)
    response = client.get(
        f"/api/v1/pages/calltower/incidents/{master.id}",
        headers=token_headers(token),
    )
    assert response.get_json()["customer_case_numbers"] == list(PRIVATE)
    login(client, css)
    page = client.get(f"/admin/incidents/{master.id}").get_data(as_text=True)
    assert all(case in page for case in PRIVATE)


def incidents_token(db, user):
    from statuspage.services import staff

    token, _ = staff.create_token(db, None, user, now=NOW)
    db.commit()
    return token
