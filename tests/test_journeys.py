"""Whole journeys in Debian's chromium, on the demo site served live:

- a Spanish customer subscribes, confirms from the mail, changes platforms, unsubscribes;
- a CSS engineer opens a master case and posts an update with an ETR, which every public
  page and the embed on another site then show;
- at phone width (390 px) nothing is wider than the screen;
- screenshots of the main pages in each language, and of the embed on a plain host page,
  kept in test-artefacts/screenshots/.

Every page a journey reaches is also checked with axe-core. One app, live server and browser
for the module.
"""

from __future__ import annotations

import email
import email.policy
import glob
import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from babel.support import Translations
from sqlalchemy import select

from jobs import scheduler as job_scheduler
from statuspage.extensions import db as _db
from statuspage.i18n import TRANSLATIONS_DIR
from statuspage.models import Incident, MaintenanceWindow, Subscriber
from statuspage.seed import demo
from tests import browser_checks as bc
from tests.conftest import NOW
from tests.live import serve

pytestmark = bc.MARKS


def gettext_in(lang: str) -> Callable[[str], str]:
    """The site's words in `lang`, from the same catalogs the pages use."""
    catalog = Translations.load(TRANSLATIONS_DIR, [lang])
    return catalog.gettext


@pytest.fixture(scope="module", params=["sqlite"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo on a live server: (app, base URL, {role: email} of a CSS engineer and an
    admin)."""
    folder = str(tmp_path_factory.mktemp("journeys"))
    with bc.module_app(folder, NOW) as app:
        demo.seed(_db.session, now=NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
        _db.session.commit()
        accounts = {role: bc.add_staff(role, NOW) for role in ("css", "admin")}
        with serve(app) as base:
            # Links in mail point at the live server.
            app.config["STATUSPAGE_URL"] = base
            yield app, base, accounts


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = bc.launch(pw)
        yield chromium
        chromium.close()


def _master_case_id() -> int:
    """The newest master case (the demo's open one, unless a journey opened another)."""
    found = _db.session.scalars(
        select(Incident.id).where(Incident.priority == "P1G").order_by(Incident.id.desc())
    ).first()
    assert found is not None
    return found


def _window_id() -> int:
    window_id = _db.session.scalars(
        select(MaintenanceWindow.id).order_by(MaintenanceWindow.starts_at.desc())
    ).first()
    assert window_id is not None
    return window_id


# --- screenshots ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_screenshots_of_the_main_pages(site: Any, browser: Any, lang: str) -> None:
    _, base, _ = site
    incident_id = _master_case_id()
    context = bc.new_context(browser, locale={"en": "en-US", "es": "es-ES", "de": "de-DE"}[lang])
    page = context.new_page()
    try:
        pages = {
            "home": "/",
            "incident": f"/incidents/{incident_id}",
            "maintenance": "/maintenance",
            "subscribe": "/subscribe",
        }
        for name, path in pages.items():
            page.goto(f"{base}{path}?lang={lang}")
            assert page.locator("html").get_attribute("lang") == lang
            written = bc.screenshot(page, f"{name}-{lang}")
            assert os.path.getsize(written) > 10_000
    finally:
        context.close()


# --- the Spanish customer ------------------------------------------------------------------


def _mail_to(app: Any, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(glob.glob(os.path.join(app.instance_path, "mail", "*.eml"))):
        with open(path, "rb") as fh:
            message = email.message_from_binary_file(fh, policy=email.policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found


def _choose(page: Any, label: str, value: str) -> None:
    """Set a field by its label whether it is a list or a text box (the time zone)."""
    field = page.locator("main").get_by_label(label, exact=True)
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)


def test_spanish_customer_subscribes_confirms_changes_platforms_and_unsubscribes(
    site: Any, browser: Any
) -> None:
    app, base, _ = site
    t = gettext_in("es")
    address = "cliente@example.es"
    context = bc.new_context(browser, locale="es-ES", timezone_id="Europe/Madrid")
    page = context.new_page()
    try:
        # The browser asks for Spanish: the page answers in Spanish without being told.
        page.goto(base + "/")
        assert page.locator("html").get_attribute("lang") == "es"
        page.get_by_role("navigation", name=t("Main")).get_by_role(
            "link", name=t("Subscribe")
        ).click()
        page.wait_for_url("**/subscribe")
        bc.assert_accessible(page)
        form = page.locator("main")
        form.get_by_label(t("Email address")).fill(address)
        form.get_by_label("Cisco", exact=True).check()
        form.get_by_label("CallTower Connect", exact=True).check()
        _choose(page, t("Language"), "es")
        _choose(page, t("Time zone"), "Europe/Madrid")
        page.locator("main form [type=submit]").last.click()
        page.get_by_role("heading", name=t("Check your email")).wait_for()
        bc.assert_accessible(page)

        # The confirmation mail, in Spanish, carries the link.
        job_scheduler.tick(app, NOW)
        mails = _mail_to(app, address)
        assert len(mails) == 1
        mail = mails[0]
        assert mail["Subject"] == t("Confirm your subscription")
        text = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(re.escape(base) + r"/subscriptions/confirm/\S+", text)
        assert link, text

        # Opening the link confirms nothing until the button is pressed.
        page.goto(link.group(0))
        bc.assert_accessible(page)
        _db.session.expire_all()
        subscriber = _db.session.scalars(
            select(Subscriber).where(Subscriber.address == address)
        ).one()
        assert subscriber.confirmed_at is None
        assert subscriber.language == "es" and subscriber.timezone == "Europe/Madrid"
        page.get_by_role("button", name=t("Confirm")).click()
        page.get_by_role("heading", name=t("Subscription confirmed")).wait_for()
        bc.assert_accessible(page)
        _db.session.expire_all()
        assert _db.session.get(Subscriber, subscriber.id).confirmed_at is not None

        # Manage: drop Cisco, take CallTower Cloud's incidents instead.
        page.get_by_role("link", name=t("Manage your subscription")).click()
        page.get_by_role("heading", name=t("Manage your subscription")).wait_for()
        bc.assert_accessible(page)
        incidents = re.compile(re.escape(t("Incidents")))
        maintenance = re.compile(re.escape(t("Maintenance")))
        cisco = page.get_by_role("group", name="Cisco", exact=True)
        cisco.get_by_label(incidents).uncheck()
        cisco.get_by_label(maintenance).uncheck()
        cloud = page.get_by_role("group", name="CallTower Cloud", exact=True)
        cloud.get_by_label(incidents).check()
        page.get_by_role("button", name=t("Save")).click()
        page.get_by_text(t("Your preferences are saved.")).wait_for()
        bc.assert_accessible(page)
        _db.session.expire_all()
        subscriber = _db.session.get(Subscriber, subscriber.id)
        chosen = sorted(
            (s.platform.slug, s.incidents, s.maintenance)
            for s in subscriber.subscriptions
            if s.platform is not None
        )
        assert chosen == [("calltower-cloud", True, False), ("calltower-connect", True, True)]

        # Unsubscribe from everything: a page asks, its button does it.
        page.get_by_role("link", name=t("Unsubscribe from everything")).click()
        bc.assert_accessible(page)
        page.get_by_role("button", name=t("Unsubscribe")).click()
        page.get_by_role("heading", name=t("You are unsubscribed")).wait_for()
        bc.assert_accessible(page)
        _db.session.expire_all()
        assert _db.session.get(Subscriber, subscriber.id).subscriptions == []
    finally:
        context.close()


# --- the master case and its ETR -------------------------------------------------------------


def _embed_host_page(base: str, platforms: str) -> str:
    """A plain page of another site with the documented snippet (docs/embed.md)."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer portal</title></head>
<body><main><h1>Customer portal</h1>
<p>Service status from our provider:</p>
<div data-status-embed data-platforms="{platforms}">
  <a href="{base}/">Service status</a>
</div>
<script src="{base}/embed.js" async></script>
</main></body></html>"""


def test_css_opens_a_master_case_and_its_etr_shows_everywhere_and_in_the_embed(
    site: Any, browser: Any
) -> None:
    app, base, accounts = site
    title = "Outbound calls failing in Phoenix"
    context = bc.new_context(browser)
    page = context.new_page()
    try:
        bc.sign_in(page, base, accounts["css"])
        page.goto(base + "/admin/incidents/new")
        bc.assert_accessible(page)
        page.get_by_label("Title").fill(title)
        page.get_by_label("Impact").select_option("critical")
        page.get_by_label("Priority").select_option("P1G")
        page.get_by_label("Message (Markdown)").fill("We are **investigating** outbound calls.")
        page.get_by_label("Cisco", exact=False).first.select_option("major_outage")
        page.get_by_label("Support case number").fill("CS-7001")
        page.get_by_role("button", name="Open incident").click()
        # Opening with its notice asks first: what would be sent, to how many, per channel.
        page.get_by_role("heading", name="What will be sent").wait_for()
        assert page.get_by_text(f"[Master case P1G] New incident: {title}").count() == 1
        bc.assert_accessible(page)
        page.get_by_role("button", name="Open and notify").click()
        page.wait_for_url(re.compile(r".*/admin/incidents/\d+$"))
        incident_id = int(page.url.rsplit("/", 1)[1])
        bc.assert_accessible(page)

        # The update with an ETR: 11:30 MT, three and a half hours after now (08:00 MT).
        page.get_by_label("Status", exact=True).select_option("identified")
        page.get_by_label("Message (Markdown)").fill("A carrier route is down; rerouting.")
        page.get_by_label("Estimated time of resolution (MT)").fill("2026-11-20T11:30")
        page.get_by_role("button", name="Post update").click()
        page.get_by_text("Update posted.").wait_for()
        assert "11:30" in page.locator(".next-update").inner_text()
    finally:
        context.close()

    # Every public page carries the banner with the case, its number and its ETR.
    t = gettext_in("es")
    reader = bc.new_context(browser, locale="es-ES")
    page = reader.new_page()
    try:
        paths = [
            "/",
            f"/incidents/{incident_id}",
            "/history",
            "/maintenance",
            f"/maintenance/{_window_id()}",
            "/maintenance?view=list",
            "/subscribe",
            "/help",
            "/no-such-page",
        ]
        for path in paths:
            page.goto(base + path)
            banner = page.locator(".master-banner").filter(has_text=title)
            assert banner.count() == 1, path
            words = banner.inner_text()
            assert "CS-7001" in words and "11:30" in words, (path, words)
            assert t("Estimated time of resolution") in words, (path, words)
            assert (
                banner.get_by_role("link", name=title)
                .get_attribute("href")
                .endswith(f"/incidents/{incident_id}")
            )
        page.goto(f"{base}/incidents/{incident_id}")
        assert "11:30" in page.locator(".etr").first.inner_text()
    finally:
        reader.close()

    # The embed on a customer's page (another origin, allowed to frame it) shows the case
    # and its ETR.
    with bc.other_site(_embed_host_page(base, "cisco,calltower-cloud")) as portal:
        app.config["FRAME_ANCESTORS"] = portal
        host = bc.new_context(browser)
        page = host.new_page()
        try:
            page.goto(portal + "/")
            frame = page.frame_locator("iframe[src*='/embed']").first
            frame.get_by_text(title).wait_for(timeout=10_000)
            text = frame.locator("body").inner_text()
            assert "CS-7001" in text and "11:30" in text, text
            page.wait_for_function(
                "() => document.querySelector('iframe').getBoundingClientRect().height > 100"
            )
            bc.screenshot(page, "embed-host-page")
            embed_frame = next(f for f in page.frames if "/embed" in f.url)
            problems = bc.axe_violations(embed_frame)
            assert not problems, "\n".join(problems)
        finally:
            host.close()
            app.config["FRAME_ANCESTORS"] = ""


def test_starting_a_window_early_asks_first_at_phone_width(site: Any, browser: Any) -> None:
    """A CSS engineer picks a status for an upcoming window: nothing is preselected, and the
    status change shows what it would send (fitting a phone, accessible) before anything
    happens; "Back to the form" keeps the choice and starts nothing."""
    _, base, accounts = site
    window_id = _db.session.scalars(
        select(MaintenanceWindow.id)
        .where(MaintenanceWindow.status == "scheduled", MaintenanceWindow.starts_at > NOW)
        .order_by(MaintenanceWindow.starts_at)
    ).first()
    assert window_id is not None
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        bc.sign_in(page, base, accounts["css"])
        page.goto(f"{base}/admin/maintenance/{window_id}")
        status = page.get_by_label("New status")
        assert status.input_value() == ""
        page.get_by_role("button", name="Change status").click()
        assert page.get_by_text("Choose the window's new status.").count() >= 1
        page.get_by_label("New status").select_option("in_progress")
        page.get_by_role("button", name="Change status").click()
        page.get_by_role("heading", name="What will be sent").wait_for()
        assert page.get_by_role("button", name="Start now").count() == 1
        assert not bc.horizontal_overflow(page)
        bc.assert_accessible(page)
        page.get_by_role("button", name="Back to the form").click()
        assert page.get_by_label("New status").input_value() == "in_progress"
        _db.session.expire_all()
        assert _db.session.get(MaintenanceWindow, window_id).status == "scheduled"
    finally:
        context.close()


# --- phone width -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_public_pages_fit_a_phone(site: Any, browser: Any, lang: str) -> None:
    _, base, _ = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        paths = [
            "/",
            "/maintenance",
            "/maintenance?view=list",
            f"/maintenance/{_window_id()}",
            f"/incidents/{_master_case_id()}",
            "/history",
            "/subscribe",
        ]
        problems = {}
        for path in paths:
            response = page.goto(f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
            assert response is not None and response.status == 200, path
            found = bc.horizontal_overflow(page)
            if found:
                problems[path] = found
            if path in ("/", "/maintenance"):
                bc.screenshot(page, f"{path.strip('/') or 'home'}-{lang}-phone")
        assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())
    finally:
        context.close()


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_help_page_fits_a_phone(site: Any, browser: Any, lang: str) -> None:
    """The support plan's priority table among them."""
    _, base, _ = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{base}/help?lang={lang}")
        found = bc.horizontal_overflow(page)
        assert not found, "\n".join(found)
    finally:
        context.close()


STAFF_PATHS = [
    "/admin/",
    "/admin/incidents/new",
    "/admin/maintenance",
    "/admin/maintenance/new",
    "/admin/notices",
    "/admin/subscribers/import",
    "/admin/platforms",
    "/admin/users",
    "/admin/tokens",
    "/admin/audit",
]


@pytest.mark.parametrize("lang", ["en", "de"])  # German's words are the longest
def test_staff_pages_fit_a_phone(site: Any, browser: Any, lang: str) -> None:
    _, base, accounts = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        bc.sign_in(page, base, accounts["admin"])
        problems = {}
        for path in STAFF_PATHS:
            response = page.goto(f"{base}{path}?lang={lang}")
            assert response is not None and response.status == 200, path
            found = bc.horizontal_overflow(page)
            if found:
                problems[path] = found
        assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())
    finally:
        context.close()


def test_the_overflow_check_names_what_sticks_out(site: Any, browser: Any) -> None:
    """The walks above would fail: a wide element on a served page is found and named, while
    one inside a scrolling box is not counted."""
    _, base, _ = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(base + "/subscribe")
        assert bc.horizontal_overflow(page) == []
        page.evaluate(
            """() => {
              // Through the CSSOM: the page's CSP refuses inline style attributes.
              const box = document.createElement("div");
              box.style.overflowX = "auto";
              const pre = document.createElement("pre");
              pre.style.width = "900px";
              pre.textContent = "scrolls inside its box";
              box.append(pre);
              document.querySelector("main").append(box);
            }"""
        )
        assert bc.horizontal_overflow(page) == []
        page.evaluate(
            """() => {
              const wide = document.createElement("table");
              wide.className = "too-wide";
              const cell = wide.insertRow().insertCell();
              cell.style.minWidth = "700px";
              cell.textContent = "a wide cell";
              document.querySelector("main").append(wide);
            }"""
        )
        found = bc.horizontal_overflow(page)
        assert found and "window" in found[0]
        assert any("table.too-wide" in line for line in found[1:]), found
    finally:
        context.close()
