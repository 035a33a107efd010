"""The pages in a real browser: Debian's chromium, driven through Playwright."""

from __future__ import annotations

import os
import shutil
from datetime import date, timedelta

import pytest

from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.browser_checks import CHROMIUM, chromium
from tests.helpers import NOW, master_case, open_incident
from tests.live import serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="Debian's chromium is not installed: apt-get install chromium",
    ),
]


@pytest.fixture
def page_data(db, css):
    opened = NOW - timedelta(days=5)
    old = open_incident(
        db, css, opened, "P3", title="Voicemail delays", impact="minor", platforms={}
    )
    incidents.resolve(db, css, old, body="Resolved.", now=NOW - timedelta(days=5, hours=-2))
    down = {"microsoft-teams": "major_outage", "calltower-cloud": "partial_outage"}
    master = master_case(
        db,
        css,
        case_number="CS-2041",
        title="Inbound calls failing",
        body="We are **investigating**.",
        platforms=down,
        now=NOW - timedelta(minutes=40),
    )
    slow = {"impact": "minor", "platforms": {"calltower-connect": "degraded_performance"}}
    open_incident(db, css, NOW - timedelta(minutes=5), "P3", title="Portal slow to load", **slow)
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    return master


def test_status_page_in_chromium(app, page_data, tmp_path):
    with serve(app) as base, chromium() as browser:
        context = browser.new_context(
            timezone_id="Europe/Berlin", locale="en-GB", viewport={"width": 1200, "height": 900}
        )
        page = context.new_page()
        page.goto(base + "/")
        assert page.locator(".banner h1").inner_text() == "Major Service Outage"
        titles = page.locator(".incident h3").all_inner_texts()
        assert "Inbound calls failing" in titles[0] and "Master case (P1G)" in titles[0]
        assert "Portal slow to load" in titles[1]
        # The reader's own zone is added by the script beside the MT and UTC times.
        assert page.locator(".localtime").count() > 0
        assert "CET" in page.locator(".localtime").first.inner_text() or "GMT+1" in (
            page.locator(".localtime").first.inner_text()
        )
        # Keyboard: the first Tab reaches the skip link, and Enter follows it.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        for _ in range(12):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.getAttribute('href')") == "/subscribe":
                break
        assert page.evaluate("document.activeElement.getAttribute('href')") == "/subscribe"
        page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
        shutil.copy(tmp_path / "home.png", "/tmp/statuspage-home.png")
        # The open master case is linked twice: by the banner every page carries, and by
        # its card among the open incidents.
        banner = page.locator(".master-banner").get_by_role("link", name="Inbound calls failing")
        assert banner.get_attribute("href").endswith(f"/incidents/{page_data.id}")
        page.locator(".incident").get_by_role("link", name="Inbound calls failing").click()
        page.wait_for_url(f"**/incidents/{page_data.id}")
        assert "CS-2041" in page.locator("main").inner_text()
        assert page.locator(".timeline strong").first.inner_text() == "Investigating"
