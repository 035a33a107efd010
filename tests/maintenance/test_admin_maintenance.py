"""Staff maintenance pages: roles, forms, bad input that writes nothing."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage.models import AuditEntry, MaintenanceSeries, MaintenanceWindow, Notice, Subscriber
from tests.helpers import as_form, confirmation_fields, count, csrf_of, csrf_token, login, post_form
from tests.maintenance_fixtures import MT, build, window_on
from tests.maintenance_fixtures import NOW as NOW_


def move(client, path: str, starts_at: str, ends_at: str, platforms: list[str], note: str = ""):
    """Post the window form of the page at `path`: its times, platforms and note."""
    return post_form(
        client,
        path,
        prefix="w-",
        starts_at=starts_at,
        ends_at=ends_at,
        platforms=platforms,
        note=note,
    )


@pytest.fixture
def cal(db, admin):
    return build(db, admin)


UNSCHEDULED = {
    "title": "Emergency firmware",
    "starts_at": "2026-11-21T01:00",
    "ends_at": "2026-11-21T03:00",
    "platforms": ["cisco"],
    "impact": "maintenance",
    "description": "Replace firmware",
    "justification": "Vendor advisory",
}


def unscheduled_form(client, **overrides):
    """Post the new-window form: an overnight window on Cisco unless `overrides` say else."""
    return post_form(client, "/admin/maintenance/new", **{**UNSCHEDULED, **overrides})


def test_engineer_creates_overnight_unscheduled_window_and_it_is_announced(client, db, engineer):
    login(client, engineer)
    response = unscheduled_form(client)
    assert response.status_code == 302
    window = db.scalar(select(MaintenanceWindow))
    assert window.unscheduled and window.starts_at.astimezone(MT).hour == 1
    assert db.scalar(select(Notice.kind)) == "maintenance_scheduled"


def test_business_hours_window_warns_and_needs_urgency(client, db, engineer):
    login(client, engineer)
    response = unscheduled_form(client, starts_at="2026-11-21T10:00", ends_at="2026-11-21T11:00")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "inside 05:00–23:00 MT" in html
    assert count(db, MaintenanceWindow) == 0 and count(db, Notice) == 0
    ok = unscheduled_form(
        client,
        starts_at="2026-11-21T10:00",
        ends_at="2026-11-21T11:00",
        urgency="Carrier outage workaround",
    )
    assert ok.status_code == 302 and count(db, MaintenanceWindow) == 1


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ends_at": "2026-11-21T00:30"}, "the end must be after the start"),
        ({"ends_at": "2026-12-21T01:00"}, "at most 48"),
        ({"platforms": ["atlantis"]}, "unknown platform"),
        ({"platforms": []}, "choose at least one platform"),
        ({"starts_at": "tomorrow"}, "Not a valid datetime"),
        ({"title": ""}, "This field is required"),
        ({"justification": ""}, "say why the work is needed"),
        ({"impact": "apocalypse"}, "Not a valid choice"),
    ],
)
def test_bad_unscheduled_input_writes_nothing(client, db, engineer, overrides, message):
    login(client, engineer)
    response = unscheduled_form(client, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(db, MaintenanceWindow) == 0 and count(db, Notice) == 0


def test_missing_csrf_is_refused(client, db, engineer):
    login(client, engineer)
    response = client.post("/admin/maintenance/new", data={"title": "x"})
    assert response.status_code == 400
    assert count(db, MaintenanceWindow) == 0


def test_staff_moves_one_occurrence_and_the_series_stays(client, db, css, cal):
    login(client, css)
    window = window_on(
        db, "connect-release", cal.annotated.starts_at.astimezone(MT).date() + timedelta(days=21)
    )
    path = f"/admin/maintenance/{window.id}"
    asked = move(
        client,
        path,
        "2026-12-30T21:00",
        "2026-12-30T23:30",
        ["calltower-connect"],
        "Moved for the holidays",
    )
    # A move asks first (what it would send); its confirmation saves it.
    assert asked.status_code == 200
    response = client.post(path, data=as_form(confirmation_fields(asked.get_data(as_text=True))))
    assert response.status_code == 302
    db.refresh(window)
    assert window.customised and window.ends_at.astimezone(MT).minute == 30
    assert (
        db.scalar(
            select(MaintenanceSeries.sequence).where(MaintenanceSeries.key == "connect-release")
        )
        == 0
    )


def test_moving_into_the_past_is_refused_and_writes_nothing(client, db, css, cal):
    login(client, css)
    window = window_on(
        db,
        "monthly-maintenance",
        cal.cancelled.starts_at.astimezone(MT).date() + timedelta(days=28),
    )
    before = (window.starts_at, window.sequence, count(db, AuditEntry))
    path = f"/admin/maintenance/{window.id}"
    response = move(client, path, "2026-01-01T22:00", "2026-01-02T04:00", ["cisco"])
    assert response.status_code == 422
    assert "cannot be moved into the past" in response.get_data(as_text=True)
    db.expire_all()
    window = db.get(MaintenanceWindow, window.id)
    assert (window.starts_at, window.sequence, count(db, AuditEntry)) == before


def test_cancel_then_no_status_change_back(client, db, css, cal):
    login(client, css)
    window = cal.annotated
    path = f"/admin/maintenance/{window.id}"
    t = csrf_token(client, path)
    # The status form's "cancelled" leads to the confirmation page and changes nothing...
    asked = client.post(f"{path}/status", data={"s-csrf_token": t, "s-status": "cancelled"})
    assert asked.status_code == 303 and asked.headers["Location"].endswith(f"{path}/cancel")
    db.refresh(window)
    assert window.status == "scheduled"
    # ...whose red button cancels.
    done = client.post(f"{path}/cancel", data={"cx-csrf_token": t, "cx-confirm": "yes"})
    assert done.status_code == 302
    db.refresh(window)
    assert window.status == "cancelled"
    # A cancelled window's status no longer changes: the page says so (no redirect).
    again = client.post(f"{path}/status", data={"s-csrf_token": t, "s-status": "verifying"})
    assert again.status_code == 422
    assert "its status no longer changes" in again.get_data(as_text=True)
    db.refresh(window)
    assert window.status == "cancelled"


def test_only_admins_edit_series(client, db, css, engineer, admin, cal):
    monthly = db.scalar(
        select(MaintenanceSeries).where(MaintenanceSeries.key == "monthly-maintenance")
    )
    for user in (css, engineer):
        login(client, user)
        assert client.get(f"/admin/series/{monthly.id}").status_code == 403
        t = csrf_token(client, "/admin/maintenance/new")
        assert client.post(f"/admin/series/{monthly.id}", data={"csrf_token": t}).status_code == 403
    login(client, admin)
    path = f"/admin/series/{monthly.id}"
    page = client.get(path).get_data(as_text=True)
    assert "FREQ=MONTHLY;BYDAY=3FR" in page
    bad = post_form(
        client,
        path,
        title="Monthly",
        rule="FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        first_start="2026-01-16T22:00",
        duration_minutes="360",
        impact="maintenance",
        platforms=["cisco"],
    )
    assert bad.status_code == 422
    assert "yields no occurrence" in bad.get_data(as_text=True)
    db.refresh(monthly)
    assert monthly.rule == "FREQ=MONTHLY;BYDAY=3FR" and monthly.sequence == 0


def test_anonymous_users_never_reach_staff_maintenance_pages(app, client, cal):
    login_page = client.get("/login").get_data(as_text=True)
    csrf = csrf_of(login_page)
    for rule in app.url_map.iter_rules():
        # The MPOC import is on the subscribers' pages; it is a maintenance page's link.
        if not rule.endpoint.startswith(("admin_maintenance.", "admin_subscribers.import_")):
            continue
        path = re.sub(r"<[^>]+>", str(cal.annotated.id), rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, data={"csrf_token": csrf})
            assert response.status_code in (302, 401), (method, path, response.status_code)
            assert "/login" in response.headers.get("Location", "/login")


def upload(client, content: bytes):
    """Upload `content` as an MPOC file on the subscribers' import page."""
    token = csrf_token(client, "/admin/subscribers/import")
    file = (io.BytesIO(content), "mpoc.csv")
    return client.post(
        "/admin/subscribers/import",
        data={"csrf_token": token, "file": file},
        content_type="multipart/form-data",
    )


def test_mpoc_upload_imports_good_rows_and_reports_bad(client, db, css):
    login(client, css)
    csv_text = (
        "email,name,organisation,platforms,topics,language\n"
        "a@example.com,A,Org,cisco,incidents,en\n"
        "nope,B,Org,cisco,incidents,en\n"
    )
    response = upload(client, csv_text.encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    # The preview first: the counts, and nothing written yet.
    assert "1 new contacts, 0 updated, 1 rows with errors" in html
    assert count(db, Subscriber) == 0
    key = re.search(r'name="upload" type="hidden" value="([^"]+)"', html).group(1)
    done = client.post(
        "/admin/subscribers/import/confirm",
        data={"csrf_token": csrf_token(client, "/admin/subscribers/import"), "upload": key},
    )
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "2 rows processed" in html and "1 created, 0 updated, 1 rows with errors" in html
    assert db.scalar(select(Subscriber.address)) == "a@example.com"


def test_mpoc_upload_refuses_binary_and_engineers(client, db, css, engineer):
    login(client, engineer)
    assert client.get("/admin/subscribers/import").status_code == 403
    login(client, css)
    response = upload(client, b"\xff\xfe\x00bad")
    assert response.status_code == 422
    assert count(db, Subscriber) == 0


def test_notice_delivery_page_lists_notices(client, db, engineer, cal):
    login(client, engineer)
    html = client.get("/admin/notices").get_data(as_text=True)
    assert "Maintenance scheduled" in html


def test_running_window_end_can_be_extended_but_start_not_moved(client, db, css, cal):
    from statuspage.services import maintenance as svc

    window = cal.unscheduled
    svc.advance_windows(db, window.starts_at)
    db.commit()
    login(client, css)
    path = f"/admin/maintenance/{window.id}"
    local_start = window.starts_at.astimezone(MT).strftime("%Y-%m-%dT%H:%M")
    later_end = (window.ends_at + timedelta(hours=1)).astimezone(MT).strftime("%Y-%m-%dT%H:%M")
    asked = move(client, path, local_start, later_end, ["microsoft-teams"])
    assert asked.status_code == 200  # an extension asks first
    extended = client.post(path, data=as_form(confirmation_fields(asked.get_data(as_text=True))))
    assert extended.status_code == 302
    moved = move(client, path, "2026-12-30T01:00", later_end, ["microsoft-teams"])
    assert moved.status_code == 422
    assert "keeps its start" in moved.get_data(as_text=True)


# --- issue 8: notices in words, compact times, one layout ------------------------------------


def test_notices_are_listed_by_title_with_their_state_in_words(client, db, engineer, cal):
    from statuspage.services import incidents

    incident = incidents.create_incident(db, engineer, title="Calls <dropping>", now=NOW_)
    db.commit()
    login(client, engineer)
    html = client.get("/admin/notices").get_data(as_text=True)
    # The incident's and the window's titles, linked to their staff pages; no "incident 17".
    assert f'<a href="/admin/incidents/{incident.id}">Calls &lt;dropping&gt;</a>' in html
    window = cal.unscheduled
    assert f'<a href="/admin/maintenance/{window.id}">{window.title}</a>' in html
    assert not re.search(r">\s*(incident|window) \d+\s*<", html)
    # States in words, not the outbox's codes.
    assert "Waiting to be sent" in html
    assert not re.search(r"<td>\s*(pending|queued|done)\s*</td>", html)
    assert "Maintenance scheduled" in html and "Incident opened" in html


def test_notice_states_cover_every_outbox_status(client, db, engineer, cal):
    notices = db.scalars(select(Notice).order_by(Notice.id)).all()
    words = {
        "pending": "Waiting to be sent",
        "done": "Sent",
        "cancelled": "Cancelled",
        "skipped": "Skipped: the window had already started",
    }
    for notice, status in zip(notices, words, strict=False):
        notice.status = status
    db.commit()
    login(client, engineer)
    html = client.get("/admin/notices").get_data(as_text=True)
    for status, text in list(words.items())[: len(notices)]:
        assert text in html, status


def test_staff_maintenance_pages_show_one_compact_time_line(client, db, engineer, cal):
    login(client, engineer)
    window = cal.unscheduled
    for path in ("/admin/maintenance", f"/admin/maintenance/{window.id}", "/admin/notices"):
        html = client.get(path).get_data(as_text=True)
        assert 'class="when"' in html and 'class="utc"' in html, path
        # Not the old three-times form ("2026-12-02 01:00 MST ... (2026-12-02 08:00 UTC)").
        assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d M[SD]T", html), path


def test_maintenance_pages_use_the_staff_layout(client, db, engineer, cal):
    login(client, engineer)
    for path in ("/admin/maintenance", "/admin/maintenance/new", "/admin/notices"):
        html = client.get(path).get_data(as_text=True)
        assert '<link rel="stylesheet" href="/static/admin.css">' in html, path


def test_staff_see_each_series_rule_in_words(client, db, css, cal):
    login(client, css)
    page = client.get("/admin/maintenance").get_data(as_text=True)
    assert "every third Friday of the month, 22:00–04:00 MT" in page
    assert "<code>FREQ=MONTHLY;BYDAY=3FR</code>" in page  # the rule itself stays beside it
