"""The public pages: banner, platforms, incidents (master cases first), history, health."""

from __future__ import annotations

import re
from datetime import timedelta

import flask_babel
import pytest

from statuspage.services import incidents
from tests.helpers import NOW, master_case, open_incident

HALF_HOUR = timedelta(minutes=30)


def html(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_all_operational_banner(client):
    page = html(client, "/")
    assert "All Systems Operational" in page and "indicator-none" in page
    assert page.count('class="platform status-operational"') == 7


@pytest.mark.parametrize(
    "impact, platform_status, description",
    [
        ("minor", "degraded_performance", "Minor Service Outage"),
        ("major", "partial_outage", "Partial System Outage"),
        ("critical", "major_outage", "Major Service Outage"),
    ],
)
def test_banner_follows_worst_incident(client, db, engineer, impact, platform_status, description):
    open_incident(
        db, engineer, title="Trouble", impact=impact, platforms={"cisco": platform_status}
    )
    page = html(client, "/")
    assert description in page and f"indicator-{impact}" in page
    assert "status-" + platform_status in page


def test_master_case_listed_first_with_case_number_and_clock(client, db, css):
    opened = NOW - timedelta(minutes=30)
    master_case(db, css, case_number="CS-77", title="Global outage", impact="major", now=opened)
    open_incident(db, css, title="Newer local issue", impact="critical", platforms={})
    page = html(client, "/")
    assert page.index("Global outage") < page.index("Newer local issue")
    assert "Master case (P1G)" in page and "CS-77" in page
    assert "Next update due" in page and "15:30 UTC" in page
    assert "Update overdue" not in page


def test_overdue_master_case_says_so(app, db, css):
    master_case(db, css, title="Global outage", impact="none", now=NOW - timedelta(hours=2))
    page = html(app.test_client(), "/")
    assert "Update overdue" in page and 'class="next-update overdue"' in page


def test_incident_page_timeline_newest_first_with_platform_changes(client, db, css):
    incident = open_incident(db, css, NOW - timedelta(hours=1), body="First look", impact="none")
    incidents.resolve(db, css, incident, body="All fixed", now=NOW)
    db.commit()
    page = html(client, f"/incidents/{incident.id}")
    assert page.index("All fixed") < page.index("First look")
    assert "Cisco: Operational → Major outage" in page
    assert "Cisco: Major outage → Operational" in page
    # Compact times: each moment once, MT in words with UTC beside it.
    moment = '<time datetime="2026-11-20T15:00:00Z" class="when">Fri, Nov 20, 08:00 MST</time>'
    assert moment in page
    assert '08:00 MST</time><span class="utc"> · 15:00 UTC</span>' in page
    assert "2026-11-20 08:00 MST" not in page.split('<main id="main">')[1]


@pytest.mark.parametrize("incident_id", ["0", "999", "abc", "1e3", "99999999999999999999999"])
def test_unknown_incident_is_404(client, incident_id):
    assert client.get(f"/incidents/{incident_id}").status_code == 404


def test_history_is_paginated_newest_first(app, client, db, css):
    app.config["HISTORY_PAGE_SIZE"] = 3
    for n in range(5):
        incident = incidents.create_incident(
            db, css, title=f"Old issue {n}", priority="P3", now=NOW - timedelta(days=10 - n)
        )
        incidents.resolve(db, css, incident, body="done", now=NOW - timedelta(days=10 - n))
    db.commit()
    first = html(client, "/history")
    assert "Old issue 4" in first and "Old issue 2" in first and "Old issue 1" not in first
    second = html(client, "/history?page=2")
    assert "Old issue 1" in second and "Old issue 0" in second
    assert client.get("/history?page=3").status_code == 404


@pytest.mark.parametrize("page", ["0", "-1", "x", "1.5", "9" * 30])
def test_bad_history_page_is_400(client, page):
    assert client.get(f"/history?page={page}").status_code == 400


def test_markdown_in_updates_is_inert(client, db, css):
    body = "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)> **ok**"
    incident = incidents.create_incident(
        db, css, title="<b>Title</b>", body=body, priority="P2", now=NOW
    )
    db.commit()
    for path in ("/", f"/incidents/{incident.id}"):
        page = html(client, path)
        assert "<script>alert" not in page and 'href="javascript' not in page
        assert "<img" not in page and "<b>Title</b>" not in page
        assert "<strong>ok</strong>" in page


def test_public_pages_are_cacheable_briefly(client):
    for path in ("/", "/history"):
        assert client.get(path).headers["Cache-Control"] == (
            "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
        )


def test_language_switch_sets_lang_and_the_pages_links_carry_it(client):
    """A public page is shared: `?lang=` sets no cookie, the links carry the language on
    (docs/security.md, "Shared responses")."""
    response = client.get("/?lang=de")
    page = response.get_data(as_text=True)
    assert 'lang="de"' in page
    assert "Set-Cookie" not in response.headers
    history = re.search(r'<a href="(/history[^"]*)">', page).group(1)
    assert history == "/history?lang=de"
    flask_babel.refresh()
    assert '<html lang="de">' in html(client, history)  # the next page keeps it
    flask_babel.refresh()
    assert '<html lang="es">' in client.get("/", headers={"Accept-Language": "es"}).get_data(
        as_text=True
    )


def test_healthz_reports_database(client, app):
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_healthz_is_503_when_the_database_fails(client, db, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_availability_counts_overlapping_outages_once(db, engineer):
    from statuspage.queries import platforms as platform_queries
    from statuspage.services import platforms

    cisco = platforms.get_by_slug(db, "cisco")
    start = NOW.replace(hour=10, minute=0)
    a = open_incident(db, engineer, start, title="A", impact="none")
    partial = {"cisco": "partial_outage"}
    b = open_incident(db, engineer, start + HALF_HOUR, title="B", impact="none", platforms=partial)
    incidents.resolve(db, engineer, a, body="x", now=start + timedelta(hours=1))
    incidents.resolve(db, engineer, b, body="x", now=start + timedelta(hours=1, minutes=30))
    db.commit()
    days, uptime = platform_queries.availability(db, cisco, NOW)
    assert days[-1].outage_minutes == 90 and days[-1].worst == "critical"
    assert uptime < 100


def test_availability_follows_the_status_history_not_the_last_status(db, engineer):
    from statuspage.queries import platforms as platform_queries
    from statuspage.services import platforms

    cisco = platforms.get_by_slug(db, "cisco")
    start = NOW.replace(hour=8, minute=0)
    incident = open_incident(db, engineer, start, title="Down", impact="none")
    incidents.post_update(
        db,
        engineer,
        incident,
        status="monitoring",
        body="Better",
        platform_statuses={"cisco": "degraded_performance"},
        now=start + timedelta(hours=2),
    )
    db.commit()
    days, uptime = platform_queries.availability(db, cisco, NOW)
    assert days[-1].outage_minutes == 120 and days[-1].worst == "critical"
    assert uptime < 100


def test_incident_page_times_are_compact_and_keep_the_etr(client, db, css):
    from datetime import UTC, datetime

    etr = datetime(2026, 11, 20, 19, 30, tzinfo=UTC)
    incident = incidents.create_incident(
        db, css, title="Calls failing", priority="P2", etr=etr, now=NOW - timedelta(hours=1)
    )
    db.commit()
    page = html(client, f"/incidents/{incident.id}")
    main = page[page.index('<main id="main">') :]
    assert "Started <time" in main and "Fri, Nov 20, 07:00 MST" in main
    assert "Estimated time of resolution: <time" in main
    assert 'Fri, Nov 20, 12:30 MST</time><span class="utc"> · 19:30 UTC</span>' in main
    assert "MST (" not in main  # no time printed as MT followed by UTC in brackets
