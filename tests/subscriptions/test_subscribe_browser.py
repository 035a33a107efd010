"""/subscribe and the manage page in chromium: 24 px targets, focus on the error summary,
the channel's address field, the time zone filter and the live "nothing will be sent"."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from statuspage.models import Subscriber
from statuspage.services.subscriptions import links, signup
from tests.browser_checks import CHROMIUM, DESKTOP, launch
from tests.helpers import NOW
from tests.live import serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason="Debian's chromium is not installed: apt-get install chromium",
    ),
]


def test_subscribe_and_manage_in_chromium(app, db):
    from playwright.sync_api import sync_playwright

    signup.subscribe(
        db, secret=app.config["SECRET_KEY"], email="a@example.com", platforms=["cisco"], now=NOW
    )
    subscriber = db.scalar(select(Subscriber))
    subscriber.confirmed_at = NOW
    for subscription in subscriber.subscriptions:  # confirmed, as by its link
        subscription.confirmed_at = NOW
    db.commit()
    manage = links.manage_path(app.config["SECRET_KEY"], subscriber)

    with serve(app) as base, sync_playwright() as pw:
        browser = launch(pw)
        context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        page.goto(base + "/subscribe")
        # Every checkbox and radio row is a target of at least 24 x 24 px, the box beside
        # its text on the same line.
        rows = page.locator("label.choice")
        assert rows.count() >= 13
        for i in range(rows.count()):
            row = rows.nth(i).bounding_box()
            box = rows.nth(i).locator("input").bounding_box()
            text = rows.nth(i).locator("span").bounding_box()
            assert row and box and text and row["height"] >= 24 and row["width"] >= 24, i
            # Beside, not above: the text starts right of the box, level with it.
            assert text["x"] >= box["x"] + box["width"], i
            assert box["y"] <= text["y"] + text["height"] / 2 <= box["y"] + box["height"] + 4, i
            assert (
                box["y"] >= row["y"] - 1
                and box["y"] + box["height"] <= row["y"] + row["height"] + 1
            )
        # Clicking the text ticks the box.
        page.get_by_text("Contact Centre", exact=True).click()
        assert page.locator("#platforms-5").is_checked()
        # The browser's zone on a fresh form; the filter narrows the list and picks a match.
        assert page.locator("#timezone").input_value() == "Asia/Tokyo"
        page.fill("#timezone-filter", "madr")
        assert page.locator("#timezone").input_value() == "Europe/Madrid"
        assert "1" in page.locator("#timezone-count").inner_text()
        # Only the chosen way's address field is shown.
        assert page.locator("#email").is_visible() and not page.locator("#slack_url").is_visible()
        page.get_by_label("Slack channel").check()
        assert page.locator("#slack_url").is_visible() and not page.locator("#email").is_visible()
        page.get_by_label("Email", exact=True).check()
        # A bad submit: focus lands on the summary at the top; its links reach the fields.
        page.fill("#email", "nope")
        page.locator("#platforms-5").uncheck()
        page.get_by_role("button", name="Subscribe").click()
        page.wait_for_selector("#error-summary")
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert page.locator("#error-summary").get_attribute("role") == "alert"
        page.locator("#error-summary a[href='#platforms-0']").click()
        assert page.evaluate("document.activeElement.id") == "platforms-0"

        # The manage page says at once that nothing will be sent when every box is unticked.
        page.goto(base + manage)
        note = page.locator("#nothing-note")
        assert note.inner_text() == ""
        page.get_by_label("Cisco: Incidents", exact=True).uncheck()
        page.get_by_label("Cisco: Maintenance", exact=True).uncheck()
        assert "Nothing will be sent" in note.inner_text()
        browser.close()
