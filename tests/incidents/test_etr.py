"""ETR: an update may give an estimated time of resolution instead of scheduled updates; the
page, the APIs, the feeds and the mail show it, and the overdue clock follows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask_babel
import pytest
from sqlalchemy import select

from jobs.p1g import alert_overdue
from statuspage.models import Incident, Notice
from statuspage.renderers.mail import render_notice
from statuspage.services import ValidationError, incidents
from tests.helpers import NOW, api_headers, login, master_case, post_form

# 15:00 UTC is 08:00 MST; the ETR 12:30 MST is 19:30 UTC.
ETR = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)


@pytest.fixture
def master(db, css):
    found = master_case(db, css, platforms={"cisco": "major_outage"}, now=NOW - timedelta(hours=2))
    incidents.post_update(
        db,
        css,
        found,
        status="identified",
        body="Carrier replacing a card",
        etr=ETR,
        now=NOW - timedelta(minutes=30),
    )
    db.commit()
    return found


def test_a_p1g_is_not_due_hourly_while_its_etr_is_ahead(db, master):
    assert master.etr == ETR and master.next_update_due == ETR
    # An hour and a half after the update: no hourly update is due before the ETR.
    assert not master.is_update_overdue(NOW + timedelta(hours=1))
    assert master.is_update_overdue(ETR + timedelta(minutes=1))


def test_the_next_update_without_an_etr_keeps_the_standing_one(db, css, master):
    later = NOW + timedelta(minutes=10)
    update = incidents.post_update(db, css, master, body="Card arrived", now=later)
    assert update.etr == ETR and master.etr == ETR and master.next_update_due == ETR


def test_clearing_the_etr_on_purpose_goes_back_to_hourly(db, css, master):
    later = NOW + timedelta(minutes=10)
    update = incidents.post_update(db, css, master, body="Card arrived", clear_etr=True, now=later)
    assert update.etr is None and master.etr is None
    assert master.next_update_due == later + timedelta(hours=1)


def test_clearing_the_etr_alone_is_an_update(db, css, master):
    update = incidents.post_update(db, css, master, clear_etr=True, now=NOW)
    assert update.etr is None and master.next_update_due == NOW + timedelta(hours=1)


def test_an_update_cannot_both_give_and_clear_an_etr(db, css, master):
    with pytest.raises(ValidationError) as refused:
        incidents.post_update(db, css, master, body="x", etr=ETR, clear_etr=True, now=NOW)
    assert "etr" in refused.value.errors


def test_a_passed_etr_lapses_with_the_next_update(db, css, master):
    later = ETR + timedelta(minutes=5)
    update = incidents.post_update(db, css, master, body="Still on it", now=later)
    assert update.etr is None and master.next_update_due == later + timedelta(hours=1)


def test_the_standing_etr_alone_is_no_update(db, css, master):
    """Sending back the ETR the form was filled with changes nothing: words are needed."""
    with pytest.raises(ValidationError) as refused:
        incidents.post_update(db, css, master, etr=ETR, now=NOW)
    assert "body" in refused.value.errors


def test_the_overdue_alert_waits_for_the_etr(db, master):
    assert alert_overdue(db, NOW + timedelta(hours=1), "css@example.com") == 0
    assert alert_overdue(db, ETR + timedelta(minutes=1), "css@example.com") == 1
    alert = db.scalar(select(Notice).where(Notice.kind == "p1g_overdue"))
    assert alert.payload["due_at"] == ETR.isoformat()


def test_an_etr_must_lie_after_the_update(db, css, master):
    for moment in (NOW, NOW - timedelta(minutes=1)):
        with pytest.raises(ValidationError) as refused:
            incidents.post_update(db, css, master, body="x", etr=moment, now=NOW)
        assert "etr" in refused.value.errors


def test_a_resolution_gives_no_etr(db, css, master):
    with pytest.raises(ValidationError) as refused:
        incidents.post_update(db, css, master, status="resolved", body="Fixed", etr=ETR, now=NOW)
    assert "etr" in refused.value.errors


def test_an_etr_alone_is_an_update(db, css, master):
    later_etr = ETR + timedelta(hours=2)
    update = incidents.post_update(db, css, master, etr=later_etr, now=NOW)
    assert update.etr == later_etr and master.next_update_due == later_etr


def test_a_resolved_incident_has_no_etr_and_nothing_due(db, css, master):
    incidents.resolve(db, css, master, body="Fixed", now=NOW)
    assert master.etr is None and master.next_update_due is None


def test_staff_form_takes_the_etr_in_mountain_time(client, db, css):
    found = incidents.create_incident(db, css, title="Slow", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    path = f"/admin/incidents/{found.id}"
    page = client.get(path).get_data(as_text=True)
    assert 'type="datetime-local"' in page and 'name="etr"' in page
    response = post_form(client, path, status="identified", body="Found it", etr="2026-11-20T12:30")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Incident, found.id).latest_update.etr == ETR
    response = post_form(client, path, status="identified", body="x", etr="2026-11-20T07:00")
    assert response.status_code == 422
    assert "must be after the time of the update" in response.get_data(as_text=True)


def test_manage_api_takes_the_etr_top_level_and_in_the_namespace(client, db):
    headers = api_headers(db)
    base = "/api/v1/pages/calltower/incidents"
    created = client.post(
        base,
        json={"incident": {"name": "Down", "body": "Looking", "etr": "2026-11-20T19:30:00Z"}},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["incident_updates"][0]["etr"] == "2026-11-20T19:30:00.000Z"
    assert body["next_update_due_at"] == "2026-11-20T19:30:00.000Z"
    changed = client.patch(
        f"{base}/{body['id']}",
        json={
            "incident": {
                "body": "Later than hoped",
                "metadata": {"network_status": {"etr": "2026-11-20T15:00:00-07:00"}},
            }
        },
        headers=headers,
    )
    assert changed.status_code == 200
    assert changed.get_json()["next_update_due_at"] == "2026-11-20T22:00:00.000Z"
    assert changed.get_json()["incident_updates"][0]["etr"] == "2026-11-20T22:00:00.000Z"


@pytest.mark.parametrize(
    "etr", ["tomorrow", "2026-11-20T19:30:00", "2026-11-20T14:00:00Z", 1764000000]
)
def test_manage_api_refuses_a_bad_etr(client, db, etr):
    headers = api_headers(db)
    response = client.post(
        "/api/v1/pages/calltower/incidents",
        json={"incident": {"name": "Down", "etr": etr}},
        headers=headers,
    )
    assert response.status_code == 422
    assert "etr" in response.get_json()["errors"]


def test_public_pages_and_api_v2_show_the_etr(client, master):
    for path in ("/", f"/incidents/{master.id}"):
        page = client.get(path).get_data(as_text=True)
        assert "Estimated time of resolution" in page, path
        assert "Fri, Nov 20, 12:30 MST" in page and "19:30 UTC" in page, path
    [shown] = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"]
    assert shown["next_update_due_at"] == "2026-11-20T19:30:00.000Z"
    assert [u["etr"] for u in shown["incident_updates"]] == ["2026-11-20T19:30:00.000Z", None]
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    spanish = client.get(f"/incidents/{master.id}?lang=es").get_data(as_text=True)
    assert "Hora estimada de resolución" in spanish
    assert "Estimated time of resolution" not in spanish


def test_feeds_show_the_etr(client, master):
    for path in ("/history.rss", "/history.atom", "/platforms/cisco/history.rss"):
        text = client.get(path).get_data(as_text=True)
        etr = "Estimated time of resolution: Fri, Nov 20, 2026, 12:30 MST · 19:30 UTC"
        assert etr in text, path


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Estimated time of resolution"), ("es", None), ("de", None)],
)
def test_subscriber_mail_shows_the_etr(db, master, language, label):
    notice = db.scalar(
        select(Notice).where(Notice.incident_id == master.id, Notice.kind == "incident_updated")
    )
    assert notice.payload["update"]["etr"] == ETR.isoformat()
    mail = render_notice(notice.payload, language, "Europe/Berlin")
    # Berlin's zone as the language writes it: MEZ in German, CET in English and Spanish.
    berlin = "20:30 MEZ" if language == "de" else "20:30 CET"
    for part in (mail.text, mail.html):
        assert "12:30 MST" in part and "19:30 UTC" in part and berlin in part
        assert part.index(berlin) < part.index("12:30 MST")  # the reader's zone first
        if label:
            assert label in part
        else:
            assert "Estimated time of resolution" not in part
