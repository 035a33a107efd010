"""The home page as Statuspage readers expect it (issue 8): a banner that agrees with the
platforms and says why, past incidents, 90-day bars whose days open by tap or keyboard
without script, platforms before maintenance, and quiet windows folded away."""

from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest

from statuspage.queries import platforms as platform_queries
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.browser_checks import CHROMIUM, chromium
from tests.helpers import NOW, TESTS_DIR, master_case, open_incident
from tests.live import serve

MINUTES_20 = timedelta(minutes=20)


def html(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


def banner(page: str) -> str:
    start = page.index('<section class="banner')
    return page[start : page.index("</section>", start)]


def day_cells(page: str, platform_name: str) -> list[str]:
    start = page.index(f'aria-label="{platform_name}: ')
    bar = page[start : page.index('<p class="uptime">', start)]
    return re.findall(r"<details name=\"day\".*?</details>", bar, flags=re.S)


def test_critical_master_case_over_degraded_platforms_says_why_and_matches_the_api(client, db, css):
    """The issue's case: a P1G master case of critical impact while its platforms are only
    degraded. Statuspage's rule makes the page critical; the banner says it is the
    incident, names the worst platform status, and states the rule."""
    degraded = {"cisco": "degraded_performance", "microsoft-teams": "degraded_performance"}
    master = master_case(
        db, css, title="Calls dropping for many customers", platforms=degraded, now=NOW - MINUTES_20
    )
    shown = banner(html(client))
    assert "indicator-critical" in shown and "Major Service Outage" in shown
    assert "Worst open incident:" in shown
    assert f'href="/incidents/{master.id}">Calls dropping for many customers</a>' in shown
    assert "Critical" in shown
    assert "Worst platform status: Degraded performance (Cisco, Microsoft Teams" in shown
    assert "<summary>How this is worked out</summary>" in shown
    assert "degraded performance counts as minor" in shown
    # One rule: the API's indicator is the banner's.
    status = client.get("/api/v2/status.json").get_json()["status"]
    assert status == {"indicator": "critical", "description": "Major Service Outage"}


def test_banner_reasons_follow_the_platforms_when_no_incident_is_worse(client, db, engineer):
    partial = {"cisco": "partial_outage"}
    open_incident(db, engineer, NOW, "P3", title="Slow calls", impact="none", platforms=partial)
    shown = banner(html(client))
    assert "indicator-major" in shown and "Partial System Outage" in shown
    assert "Worst open incident" not in shown  # an incident of no impact sets nothing
    assert "Worst platform status: Partial outage (Cisco)" in shown
    found = platform_queries.page_status(db, NOW)
    assert (found.indicator, found.platform_status, found.platform_names) == (
        "major",
        "partial_outage",
        ("Cisco",),
    )


def test_all_operational_banner_says_every_platform_is_operational(client):
    shown = banner(html(client))
    assert "All Systems Operational" in shown and "Every platform is operational." in shown


def test_past_incidents_resolved_in_the_last_seven_days_link_to_each(client, db, engineer):
    recent = incidents.create_incident(
        db, engineer, title="Yesterday trouble", priority="P3", now=NOW - timedelta(days=2)
    )
    incidents.resolve(db, engineer, recent, body="Fixed", now=NOW - timedelta(days=1))
    old = incidents.create_incident(
        db, engineer, title="Last month's trouble", priority="P3", now=NOW - timedelta(days=10)
    )
    incidents.resolve(db, engineer, old, body="Fixed", now=NOW - timedelta(days=9))
    incidents.create_incident(db, engineer, title="Still open", priority="P3", now=NOW)
    db.commit()
    page = html(client)
    past = section(page, "past-h")
    assert f'<a href="/incidents/{recent.id}">Yesterday trouble</a>' in past
    assert "Last month's trouble" not in past and "Still open" not in past
    assert 'class="when"' in past  # when it started and ended, compact
    # Below the open incidents.
    assert page.index('id="incidents-h"') < page.index('id="past-h"')


def test_no_past_incidents_says_so(client):
    assert "No incidents resolved in the last 7 days." in section(html(client), "past-h")


def test_every_day_is_a_disclosure_with_its_date_and_no_title_tooltips(client):
    page = html(client)
    cells = day_cells(page, "Cisco")
    assert len(cells) == 90
    assert page.count('<details name="day"') == 90 * 7
    assert "<summary><span>Fri, Nov 20, 2026: no incidents</span></summary>" in cells[-1]
    assert "Sun, Aug 23, 2026" in cells[0]
    assert 'class="day' not in page and "title=" not in section(page, "platforms-h")
    # 630 controls: a keyboard user can skip past them.
    assert '<a class="skip-bars" href="#after-platforms">Skip the daily bars</a>' in page
    assert 'id="after-platforms"' in page


def test_a_day_with_an_incident_but_no_downtime_is_neutral_not_an_outage_colour(
    client, db, engineer
):
    minor = {"impact": "minor", "platforms": {"cisco": "degraded_performance"}}
    opened = NOW - timedelta(hours=2)
    incident = open_incident(db, engineer, opened, "P3", title="Echo on some calls", **minor)
    today = day_cells(html(client), "Cisco")[-1]
    assert 'class="d-quiet"' in today
    assert "d-partial" not in today and "d-major" not in today
    assert "Fri, Nov 20, 2026: incident, no downtime" in today
    assert "no downtime" in today and "120 min of degraded performance" in today
    assert f'<a href="/incidents/{incident.id}">Echo on some calls</a>' in today
    [days, uptime] = platform_queries.availability(db, _cisco(db), NOW)
    assert days[-1].state == "quiet" and days[-1].outage_minutes == 0 and uptime == 100.0


def test_a_resolved_incident_of_zero_downtime_still_marks_its_day_neutral(client, db, engineer):
    opened, operational = NOW - timedelta(days=3, hours=1), {"cisco": "operational"}
    incident = open_incident(
        db, engineer, opened, "P4", title="False alarm", impact="none", platforms=operational
    )
    incidents.resolve(db, engineer, incident, body="Nothing wrong", now=NOW - timedelta(days=3))
    db.commit()
    cell = day_cells(html(client), "Cisco")[-4]
    assert 'class="d-quiet"' in cell and "False alarm" in cell and "no downtime" in cell


def test_a_day_with_downtime_shows_its_minutes_and_incident(client, db, engineer):
    start = NOW - timedelta(days=1, hours=3)
    incident = open_incident(
        db, engineer, start, "P1", title="Cisco calls failing", impact="critical"
    )
    incidents.resolve(db, engineer, incident, body="Fixed", now=start + timedelta(minutes=45))
    db.commit()
    cell = day_cells(html(client), "Cisco")[-2]
    assert 'class="d-major"' in cell
    assert "Thu, Nov 19, 2026: 45 min of downtime" in cell
    assert f'<a href="/incidents/{incident.id}">Cisco calls failing</a>' in cell
    assert "d-" not in day_cells(html(client), "Cisco")[-1]  # today: nothing


def test_a_partial_outage_day_is_orange_and_short_outages_round_up(db, engineer):
    start = NOW.replace(hour=9)
    partial = {"cisco": "partial_outage"}
    incident = open_incident(db, engineer, start, title="Blip", impact="none", platforms=partial)
    incidents.resolve(db, engineer, incident, body="ok", now=start + timedelta(seconds=20))
    db.commit()
    days, _ = platform_queries.availability(db, _cisco(db), NOW)
    assert days[-1].outage_minutes == 1 and days[-1].state == "partial"


def test_bars_for_all_platforms_read_in_two_statements(app, db, engineer):
    from sqlalchemy import event

    seen: list[str] = []

    def record(*args):
        seen.append(args[2])

    everything = platform_queries.platforms(db)
    event.listen(db.get_bind(), "before_cursor_execute", record)
    try:
        bars = platform_queries.availability_bars(db, everything, NOW)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", record)
    assert len(bars) == 7 and len(seen) == 2


def test_the_page_stays_small(client, db, engineer):
    troubled = {"cisco": "partial_outage", "microsoft-teams": "degraded_performance"}
    for n in range(12):
        opened = NOW - timedelta(days=5 * n + 1)
        incident = open_incident(
            db, engineer, opened, "P3", title=f"Trouble {n}", impact="none", platforms=troubled
        )
        incidents.resolve(db, engineer, incident, body="ok", now=NOW - timedelta(days=5 * n))
    db.commit()
    body = client.get("/").get_data()
    print("home page bytes:", len(body))
    assert len(body) < 90_000, len(body)
    gz = client.get("/", headers={"Accept-Encoding": "gzip"}).get_data()
    print("home page gzip bytes:", len(gz))
    assert len(gz) < 12_000, len(gz)


def test_platforms_come_before_maintenance_and_quiet_windows_are_folded(client, db):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    page = html(client)
    assert page.index('id="platforms-h"') < page.index('id="maintenance-h"')
    shown = section(page, "maintenance-h")
    start = shown.index('<details class="quiet-windows">')
    folded = shown[start : shown.index("</details>", start)]
    count = folded.count('<li class="window')
    assert count >= 2 and f"<summary>{count} windows without customer impact</summary>" in folded
    assert "Skype for Business certificate update" in folded
    assert "No customer impact" not in shown[:start]  # the windows shown open have impact
    assert "Monthly scheduled maintenance" in shown[:start]


def test_open_incident_times_are_compact(client, db, css):
    incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-2", body="Looking", now=NOW
    )
    db.commit()
    page = html(client)
    start = page.index('<article class="incident')
    card = page[start : page.index("</article>", start)]
    assert card.count('class="when"') == 2  # the latest update and the next update due
    assert 'Fri, Nov 20, 08:00 MST</time><span class="utc"> · 15:00 UTC</span>' in card
    assert "MST (" not in card


def _cisco(db):
    from statuspage.services import platforms

    return platforms.get_by_slug(db, "cisco")


# --- in a real browser: 390 and 1280 px, keyboard, no script, axe-core ------------------------

AXE = os.path.join(str(TESTS_DIR), "js", "node_modules", "axe-core", "axe.min.js")
SERIOUS = """async () => (await window.axe.run(document, { resultTypes: ["violations"] }))
  .violations.filter((v) => ["serious", "critical"].includes(v.impact))
  .map((v) => v.id + ": " + v.nodes.map((n) => n.target.join(" ")).join(", "))"""
WIDER_THAN_WINDOW = "document.documentElement.scrollWidth > window.innerWidth"


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
@pytest.mark.skipif(not os.path.exists(AXE), reason="npm ci --prefix tests/js")
def test_home_and_history_in_chromium_phone_and_desktop(app, db, css):
    start = NOW - timedelta(days=3)
    partial, degraded = {"cisco": "partial_outage"}, {"cisco": "degraded_performance"}
    outage = open_incident(db, css, start, title="Cisco calls failing", platforms=partial)
    incidents.resolve(db, css, outage, body="Fixed", now=start + timedelta(minutes=40))
    master_case(
        db, css, title="Calls dropping for many customers", platforms=degraded, now=NOW - MINUTES_20
    )
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    with open(AXE, encoding="utf-8") as f:
        axe = f.read()
    with serve(app) as base, chromium() as browser:
        for width in (390, 1280):
            context = browser.new_context(viewport={"width": width, "height": 844})
            context.add_init_script(axe)
            page = context.new_page()
            for path in ("/", "/history", "/history?platform=cisco", f"/incidents/{outage.id}"):
                page.goto(base + path)
                assert not page.evaluate(WIDER_THAN_WINDOW), (width, path)
                assert page.evaluate(SERIOUS) == [], (width, path)
            page.goto(base + "/")
            top = "(id) => document.getElementById(id).getBoundingClientRect().top"
            assert page.evaluate(top, "platforms-h") < page.evaluate(top, "maintenance-h")
            # Keyboard: a day is a control; Enter opens its details, links and all.
            bar = page.locator('.bar[aria-label^="Cisco:"]')
            bar.locator("details.d-partial summary").focus()
            page.keyboard.press("Enter")
            shown = bar.locator("details[open] .pop")
            assert shown.is_visible() and "40 min of downtime" in shown.inner_text()
            assert shown.get_by_role("link", name="Cisco calls failing").is_visible()
            assert not page.evaluate(WIDER_THAN_WINDOW), width
            assert page.evaluate(SERIOUS) == [], width
            context.close()
        # Without script: a tap opens the day; the history filter is a plain form.
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 390, "height": 844}
        )
        page = context.new_page()
        page.goto(base + "/")
        bar = page.locator('.bar[aria-label^="Cisco:"]')
        bar.locator("details.d-quiet summary").last.click()
        assert "Calls dropping for many customers" in bar.locator("details[open] .pop").inner_text()
        page.goto(base + "/history")
        page.select_option("#history-platform", "cisco")
        page.click(".history-filter button")
        assert page.url.endswith("/history?platform=cisco")
        assert "Cisco calls failing" in page.locator("main").inner_text()
