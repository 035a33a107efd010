"""/history (issue 8): by month in the reader's language, filtered by platform with a plain
form, still paginated, and cached per filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask_babel
import pytest

from statuspage.services import incidents
from tests.helpers import NOW


def html(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def past(db, actor, title, started, platform="cisco"):
    incident = incidents.create_incident(
        db,
        actor,
        title=title,
        priority="P3",
        platform_statuses={platform: "degraded_performance"},
        now=started,
    )
    incidents.resolve(db, actor, incident, body="done", now=started + timedelta(hours=1))
    return incident


def test_history_is_grouped_by_month_newest_first_in_the_readers_language(client, db, css):
    past(db, css, "November issue", NOW - timedelta(days=3))
    past(db, css, "October issue", NOW - timedelta(days=30))
    # 02:00 UTC on 1 November is still 31 October in Mountain Time: October's.
    past(db, css, "Halloween night issue", datetime(2026, 11, 1, 2, 0, tzinfo=UTC))
    db.commit()
    page = html(client, "/history")
    assert '<h2 id="month-2026-11">November 2026</h2>' in page
    assert '<h2 id="month-2026-10">October 2026</h2>' in page
    assert page.index("November 2026") < page.index("November issue") < page.index("October 2026")
    assert page.index("October 2026") < page.index("Halloween night issue")
    assert page.index("October 2026") < page.index("October issue")
    flask_babel.refresh()
    spanish = html(client, "/history?lang=es")
    assert "noviembre 2026" in spanish and "octubre 2026" in spanish
    flask_babel.refresh()
    assert "Oktober 2026" in html(client, "/history?lang=de")


def test_history_times_are_compact(client, db, css):
    past(db, css, "Short one", NOW - timedelta(days=1))
    db.commit()
    page = html(client, "/history")
    item = page[page.index("Short one") :]
    assert "Thu, Nov 19, 08:00–09:00 MST" in item and "15:00–16:00 UTC" in item


def test_history_filters_by_platform_with_a_plain_form(client, db, css):
    past(db, css, "Cisco trouble", NOW - timedelta(days=2), "cisco")
    past(db, css, "Teams trouble", NOW - timedelta(days=3), "microsoft-teams")
    db.commit()
    everything = html(client, "/history")
    assert "Cisco trouble" in everything and "Teams trouble" in everything
    assert '<form class="history-filter" method="get" action="/history">' in everything
    assert '<select id="history-platform" name="platform">' in everything
    assert '<label for="history-platform">' in everything
    cisco = html(client, "/history?platform=cisco")
    assert "Cisco trouble" in cisco and "Teams trouble" not in cisco
    assert '<option value="cisco" selected>' in cisco
    assert "Incident history: Cisco" in cisco
    # The submit of "All platforms" sends an empty value: everything again.
    assert "Teams trouble" in html(client, "/history?platform=")
    teams = html(client, "/history?platform=microsoft-teams")
    assert "Teams trouble" in teams and "Cisco trouble" not in teams
    assert "No past incidents on Contact Centre." in html(
        client, "/history?platform=contact-centre"
    )


@pytest.mark.parametrize("slug", ["nope", "%00", "x" * 500, "Cisco%0A", "<b>bad</b>"])
def test_unknown_platform_is_a_clear_404_never_a_500(client, slug):
    response = client.get(f"/history?platform={slug}")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "No platform is called" in page and "Choose one from the list." in page
    assert '<select id="history-platform" name="platform">' in page
    assert "<b>bad</b>" not in page


def test_pagination_keeps_the_platform(app, client, db, css):
    app.config["HISTORY_PAGE_SIZE"] = 2
    for n in range(5):
        past(db, css, f"Cisco issue {n}", NOW - timedelta(days=10 - n), "cisco")
    past(db, css, "Teams issue", NOW - timedelta(days=1), "microsoft-teams")
    db.commit()
    first = html(client, "/history?platform=cisco")
    assert "Cisco issue 4" in first and "Cisco issue 3" in first and "Teams issue" not in first
    assert 'href="/history?page=2&amp;platform=cisco" rel="next"' in first
    assert "Page 1 / 3" in first
    third = html(client, "/history?platform=cisco&page=3")
    assert (
        "Cisco issue 0" in third and 'href="/history?page=2&amp;platform=cisco" rel="prev"' in third
    )
    assert client.get("/history?platform=cisco&page=4").status_code == 404
    assert client.get("/history?platform=cisco&page=x").status_code == 400


def test_each_platform_filter_has_its_own_cached_body(app, client, db, css):
    past(db, css, "Cisco trouble", NOW - timedelta(days=2), "cisco")
    past(db, css, "Teams trouble", NOW - timedelta(days=3), "microsoft-teams")
    db.commit()
    a = client.get("/history?platform=cisco")
    b = client.get("/history?platform=microsoft-teams")
    assert a.headers["ETag"] != b.headers["ETag"]
    assert "Teams trouble" not in a.get_data(as_text=True)
    assert "Cisco trouble" not in b.get_data(as_text=True)
    renders = app.extensions["render_cache"].renders
    again = client.get("/history?platform=cisco")  # now from the cache: still Cisco's
    assert app.extensions["render_cache"].renders == renders
    assert again.get_data() == a.get_data()
    assert "Teams trouble" not in again.get_data(as_text=True)
