"""The public maintenance pages."""

from __future__ import annotations

from datetime import timedelta

import pytest

from statuspage.services import maintenance
from tests.maintenance_fixtures import build


@pytest.fixture
def cal(db, admin):  # type: ignore[no-untyped-def]
    return build(db, admin)


def test_month_grid_places_windows_on_their_local_day(client, cal):
    html = client.get("/maintenance?month=2027-01").get_data(as_text=True)
    assert "January 2027" in html
    # the moved monthly window now starts Saturday 16 January at 22:00 MST
    assert "22:00 MST Monthly scheduled maintenance" in html
    assert html.index(">16<") < html.index("22:00 MST Monthly scheduled maintenance")


def test_list_shows_mt_and_utc_and_calendar_links(client, cal):
    html = client.get("/maintenance").get_data(as_text=True)
    assert "Emergency SBC patch" in html
    assert "MST" in html and "UTC" in html
    assert 'href="webcal://localhost/maintenance.ics"' in html
    assert '<time datetime="' in html


def test_window_page_has_the_four_details_and_sanitised_markdown(client, cal):
    html = client.get(f"/maintenance/{cal.unscheduled.id}").get_data(as_text=True)
    for text in (
        "Platforms affected",
        "Microsoft Teams",
        "Justification",
        "Security",
        "2026-12-02 01:00 MST",
    ):
        assert text in html
    assert "<script>alert(1)</script>" not in html


def test_in_progress_window_is_listed_as_such(app, client, db, cal):
    maintenance.advance_windows(db, cal.unscheduled.starts_at + timedelta(minutes=1))
    db.commit()
    app.config["FIXED_NOW"] = cal.unscheduled.starts_at + timedelta(minutes=1)
    html = app.test_client().get("/maintenance").get_data(as_text=True)
    assert "In progress" in html and "Emergency SBC patch" in html


@pytest.mark.parametrize("month", ["2027-13", "27-01", "abcd-ef", "1999-01", "2027-1"])
def test_bad_month_is_a_400_not_a_500(client, month):
    assert client.get(f"/maintenance?month={month}").status_code == 400


@pytest.mark.parametrize("window_id", ["0", "999999", "abc", "99999999999999999999999"])
def test_unknown_window_is_404(client, window_id):
    assert client.get(f"/maintenance/{window_id}").status_code == 404


def test_release_notes_shown_after_completion(client, db, admin, cal):
    window = cal.annotated
    maintenance.advance_windows(db, window.ends_at)
    maintenance.add_release_notes(db, admin, window, "Added **call parking**", window.ends_at)
    db.commit()
    html = client.get(f"/maintenance/{window.id}").get_data(as_text=True)
    assert "<strong>call parking</strong>" in html
