"""A long master case: whole-minute deadlines, every page's banner saying "overdue" the minute
the deadline comes (through the render cache), reminders to the on-duty list every
OVERDUE_REMINDER_MINUTES while overdue, the ETR carried in the staff form until cleared, the
form's errors first, and a dashboard that refreshes itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from jobs.p1g import alert_overdue, reminder_moment
from jobs.scheduler import tick
from statuspage import config as settings
from statuspage.models import Incident, Notice
from statuspage.services import incidents
from tests.helpers import NOW, login, master_case, post_form

ON_DUTY = "css-on-duty@example.com"
EVERY = timedelta(minutes=15)


@pytest.fixture
def case(db, css):
    title = "Calls failing across customers"
    return master_case(
        db, css, case_number="CS-2026-11873", title=title, platforms={"cisco": "major_outage"}
    )


def alerts(db) -> list[Notice]:
    return list(db.scalars(select(Notice).where(Notice.kind == "p1g_overdue").order_by(Notice.id)))


# --- deadlines -----------------------------------------------------------------------------------


def test_a_deadline_is_the_whole_minute_after_the_hour(db, css, case):
    posted = NOW + timedelta(minutes=23, seconds=27)
    incidents.post_update(db, css, case, body="Still looking", now=posted)
    due = datetime(2026, 11, 20, 16, 24, tzinfo=UTC)
    assert case.next_update_due == due
    assert not case.is_update_overdue(due - timedelta(seconds=1))
    assert case.is_update_overdue(due)


def test_a_deadline_on_the_minute_stays_where_it_is(case):
    assert case.next_update_due == NOW + timedelta(hours=1)


# --- every page's banner -----------------------------------------------------------------------

PAGES = ["/", "/history", "/help", "/maintenance", "/subscribe", "/incidents/{id}"]


def banner(html: str) -> str:
    start = html.find('<aside class="master-banner')
    return html[start : html.index("</aside>", start)] if start >= 0 else ""


def test_every_pages_banner_says_overdue_the_minute_the_deadline_comes(app, client, case):
    due = NOW + timedelta(hours=1)
    app.config["FIXED_NOW"] = due - timedelta(seconds=30)
    for path in PAGES:
        shown = banner(client.get(path.format(id=case.id)).get_data(as_text=True))
        assert "Next update due" in shown and "overdue" not in shown, path
    # Half a minute later, the same data: the pages rendered for the deadline's minute say so.
    app.config["FIXED_NOW"] = due + timedelta(seconds=5)
    for path in PAGES:
        shown = banner(client.get(path.format(id=case.id)).get_data(as_text=True))
        assert "Update overdue" in shown and "was due" in shown, path
        assert "Fri, Nov 20, 09:00 MST" in shown, path


def test_an_overdue_banner_goes_back_once_an_update_is_posted(app, client, db, css, case):
    app.config["FIXED_NOW"] = NOW + timedelta(hours=1, minutes=5)
    assert "Update overdue" in banner(client.get("/help").get_data(as_text=True))
    incidents.post_update(db, css, case, body="Rerouting", now=NOW + timedelta(hours=1, minutes=5))
    db.commit()
    shown = banner(client.get("/help").get_data(as_text=True))
    assert "Next update due" in shown and "Update overdue" not in shown


# --- reminders ---------------------------------------------------------------------------------


def test_the_on_duty_list_is_reminded_every_quarter_hour_exactly_once(db, case):
    due = NOW + timedelta(hours=1)
    for minutes in (-1, 0, 5, 14):
        alert_overdue(db, due + timedelta(minutes=minutes), ON_DUTY, EVERY)
    assert [n.payload["reminder"] for n in alerts(db)] == [0]
    for minutes in (15, 15, 16, 29, 30, 30):
        alert_overdue(db, due + timedelta(minutes=minutes), ON_DUTY, EVERY)
    found = alerts(db)
    assert [n.payload["reminder"] for n in found] == [0, 1, 2]
    assert [n.payload["overdue_minutes"] for n in found] == [0, 15, 30]
    assert [n.due_at for n in found] == [due, due + EVERY, due + 2 * EVERY]
    assert {n.direct_address for n in found} == {ON_DUTY}


def test_after_the_job_was_down_only_the_latest_reminder_goes(db, case):
    due = NOW + timedelta(hours=1)
    alert_overdue(db, due, ON_DUTY, EVERY)
    alert_overdue(db, due + timedelta(minutes=47), ON_DUTY, EVERY)  # down from +1 to +47
    assert [n.payload["reminder"] for n in alerts(db)] == [0, 3]


def test_reminders_stop_with_the_next_update(db, css, case):
    due = NOW + timedelta(hours=1)
    alert_overdue(db, due + timedelta(minutes=16), ON_DUTY, EVERY)
    incidents.post_update(db, css, case, body="Update", now=due + timedelta(minutes=20))
    db.commit()
    alert_overdue(db, due + timedelta(minutes=31), ON_DUTY, EVERY)
    assert len(alerts(db)) == 1


def test_the_reminder_moment_counts_from_the_deadline():
    due = NOW
    assert reminder_moment(due, due, EVERY) == (0, due)
    assert reminder_moment(due, due + timedelta(minutes=44), EVERY) == (2, due + 2 * EVERY)


def test_the_reminder_interval_is_a_setting(app, db, case):
    app.config["OVERDUE_REMINDER_MINUTES"] = 10
    due = NOW + timedelta(hours=1)
    for minutes in (0, 10, 15, 20):
        tick(app, due + timedelta(minutes=minutes))
    assert [n.payload["overdue_minutes"] for n in alerts(db)] == [0, 10, 20]


def test_a_reminder_interval_below_a_minute_stops_the_app(monkeypatch, tmp_path):
    monkeypatch.setenv("OVERDUE_REMINDER_MINUTES", "0")
    with pytest.raises(ValueError, match="OVERDUE_REMINDER_MINUTES"):
        settings.load(str(tmp_path))
    monkeypatch.setenv("OVERDUE_REMINDER_MINUTES", "20")
    assert settings.load(str(tmp_path))["OVERDUE_REMINDER_MINUTES"] == 20


def test_a_reminder_says_how_long_it_has_been_overdue(db, case):
    from statuspage.renderers.mail import render_notice

    alert_overdue(db, NOW + timedelta(hours=1, minutes=30), ON_DUTY, EVERY)
    [notice] = alerts(db)
    mail = render_notice(notice.payload, "en", "America/Denver")
    assert "overdue for 30 min" in mail.subject
    assert "still overdue after 30 minutes" in mail.text and "every 15 minutes" in mail.text


# --- the staff form ----------------------------------------------------------------------------

ETR = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)  # 12:30 MST


def test_the_next_updates_form_carries_the_standing_etr(client, db, css, case):
    incidents.post_update(db, css, case, body="Card swap", etr=ETR, now=NOW)
    db.commit()
    login(client, css)
    path = f"/admin/incidents/{case.id}"
    html = client.get(path).get_data(as_text=True)
    assert re.search(r'id="etr" name="etr" type="datetime-local" value="2026-11-20T12:30"', html)
    assert 'name="clear_etr"' in html
    # Posted as the form was filled: the ETR stands.
    response = post_form(
        client, path, status="identified", body="Card arrived", etr="2026-11-20T12:30"
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Incident, case.id).etr == ETR
    # Cleared on purpose: gone, although the field still held it.
    cleared = {"body": "No estimate now", "etr": "2026-11-20T12:30", "clear_etr": "y"}
    response = post_form(client, path, status="identified", **cleared)
    assert response.status_code == 302
    db.expire_all()
    found = db.get(Incident, case.id)
    assert found.etr is None and found.next_update_due == NOW + timedelta(hours=1)


def test_the_update_forms_errors_come_first_and_take_the_focus(client, db, css, case):
    login(client, css)
    path = f"/admin/incidents/{case.id}"
    response = post_form(client, path, status="identified", body="x", etr="2026-11-20T07:00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    main = page[page.index('<main id="main">') :]
    summary = main.index('id="error-summary"')
    assert summary < main.index("<h1>") < main.index('<form method="post" novalidate>')
    box = main[summary : main.index("</div>", summary)]
    assert "autofocus" in box and 'tabindex="-1"' in box and 'role="alert"' in box
    assert 'href="#etr"' in box and "must be after the time of the update" in box
    assert "Post an update" in main and main.index(">Post an update</h2>") < main.index(
        ">Timeline</h2>"
    )


# --- the dashboard -----------------------------------------------------------------------------


def test_the_dashboard_refreshes_itself_with_its_own_script(client, db, css, case):
    login(client, css)
    html = client.get("/admin/").get_data(as_text=True)
    assert "<div data-refresh>" in html and 'http-equiv="refresh"' not in html
    for part in ("open-incidents", "upcoming-windows", "notice-delivery", "subscriber-counts"):
        assert f'id="{part}" data-refresh-part' in html, part
    # The control is shown by the script, which is the page's only script besides the site's.
    assert "data-refresh-control hidden" in html
    scripts = re.findall(r"<script[^>]*>", html)
    assert all('src="/static/' in tag for tag in scripts), scripts
    script = client.get("/static/admin.js")
    body = script.get_data(as_text=True)
    script.close()
    assert "data-refresh-part" in body and "setTimeout(refresh" in body


def test_the_dashboard_turns_red_the_minute_the_deadline_comes(app, client, db, css, case):
    login(client, css)
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=59, seconds=59)
    assert "overdue-row" not in client.get("/admin/").get_data(as_text=True)
    app.config["FIXED_NOW"] = NOW + timedelta(hours=1)
    assert 'class="overdue-row"' in client.get("/admin/").get_data(as_text=True)
