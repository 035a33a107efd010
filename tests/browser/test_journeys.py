"""Whole journeys in Debian's chromium, on the demo site served live:

- a Spanish customer subscribes, confirms from the mail, changes platforms, unsubscribes;
- a CSS engineer opens a master case and posts an update with an ETR, which every public
  page and the embed on another site then show;
- a long master case: an update in three languages with an ETR, the next one keeping the ETR,
  the deadline passing (every page's banner says overdue at once, the on-duty list is
  reminded at 15 and 30 minutes), and a typo corrected (edited on the page, in the API and
  the feeds);
- the embed on a plain page of another site with default settings, and its link kept when a
  browser refuses the frame;
- at phone width (390 px) nothing is wider than the screen;
- screenshots of the main pages in each language, and of the embed on a plain host page,
  kept in test-artefacts/screenshots/.

Every page a journey reaches is also checked with axe-core. One app, live server and browser
for the module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jobs import scheduler as job_scheduler
from statuspage.extensions import db as _db
from statuspage.models import Incident, MaintenanceWindow, Subscriber, User
from statuspage.seed import demo
from tests import browser_checks as bc
from tests.helpers import NOW, master_case

pytestmark = bc.MARKS


@pytest.fixture(scope="module", params=["sqlite"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo on a live server: (app, base URL, {role: email} of a CSS engineer and an
    admin)."""
    folder = str(tmp_path_factory.mktemp("journeys"))
    with bc.module_app(folder, NOW) as app:
        demo.seed(_db.session, now=NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
        _db.session.commit()
        accounts = {role: bc.add_staff(role, NOW) for role in ("css", "admin")}
        with bc.serve_linked(app) as base:
            yield app, base, accounts


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
    t = bc.gettext_in("es")
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
        mails = bc.mail_to(app, address)
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
        page.get_by_label("Title", exact=True).fill(title)
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
    t = bc.gettext_in("es")
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
            assert page.locator("[data-status-embed] > a").count() == 0  # the frame replaced it
            bc.screenshot(page, "embed-host-page")
            embed_frame = next(f for f in page.frames if "/embed" in f.url)
            problems = bc.axe_violations(embed_frame)
            assert not problems, "\n".join(problems)
        finally:
            host.close()
            app.config["FRAME_ANCESTORS"] = ""


# --- a long master case --------------------------------------------------------------------------

MT = ZoneInfo("America/Denver")
PUBLIC_PATHS = ["/", "/history", "/maintenance", "/subscribe", "/help"]


def _banner_of(page: Any, title: str) -> str:
    banner = page.locator(".master-banner").filter(has_text=title)
    assert banner.count() == 1, page.url
    return str(banner.inner_text())


def test_a_long_master_case_in_three_languages_overdue_reminded_and_corrected(
    site: Any, browser: Any
) -> None:
    app, base, accounts = site
    es, de = bc.gettext_in("es"), bc.gettext_in("de")
    title = "Voicemail lost on Cisco"
    _db.session.expire_all()
    css = _db.session.scalars(select(User).where(User.email == accounts["css"])).one()
    translated = {"es": "Se pierden mensajes de voz en Cisco", "de": "Voicemail geht verloren"}
    words = {"title": title, "title_translations": translated, "body": "Investigating."}
    quietly = {"impact": "major", "platforms": {"cisco": "partial_outage"}}
    quietly["deliver_notifications"] = False
    case = master_case(_db.session, css, case_number="CS-2026-20001", **words, **quietly)
    case_id = case.id
    context = bc.new_context(browser)
    page = context.new_page()
    try:
        bc.sign_in(page, base, accounts["css"])
        page.goto(f"{base}/admin/incidents/{case_id}")
        # An update in English, Spanish and German, with an ETR of 09:30 MT (NOW is 08:00 MT).
        page.get_by_label("Status", exact=True).select_option("identified")
        page.get_by_label("Message (Markdown)", exact=True).fill("A carier route is down.")
        page.get_by_label("Message in Spanish (Markdown)").fill("Una ruta del operador está caída.")
        page.get_by_label("Message in German (Markdown)").fill(
            "Eine Carrier-Route ist ausgefallen."
        )
        page.get_by_label("Estimated time of resolution (MT)").fill("2026-11-20T09:30")
        page.get_by_label("Notify subscribers").uncheck()
        page.get_by_role("button", name="Post update").click()
        page.get_by_text("Update posted.").wait_for()
        bc.assert_accessible(page)
        # The next update: the form holds the ETR; posting without touching it keeps it.
        etr_field = page.get_by_label("Estimated time of resolution (MT)")
        assert etr_field.input_value() == "2026-11-20T09:30"
        page.get_by_label("Message (Markdown)", exact=True).fill("Traffic is being rerouted.")
        page.get_by_label("Notify subscribers").uncheck()
        page.get_by_role("button", name="Post update").click()
        page.get_by_text("Update posted.").wait_for()
        assert page.get_by_label("Estimated time of resolution (MT)").input_value() == (
            "2026-11-20T09:30"
        )
        _db.session.expire_all()
        found = _db.session.get(Incident, case_id)
        etr = datetime(2026, 11, 20, 9, 30, tzinfo=MT)
        assert found.etr == etr and found.next_update_due == etr
        bc.screenshot(page, "p1g-staff-incident")
    finally:
        context.close()

    reader = bc.new_context(browser, locale="es-ES")
    page = reader.new_page()
    try:
        page.goto(f"{base}/incidents/{case_id}")
        assert "Se pierden mensajes de voz en Cisco" in page.locator("h1").inner_text()
        assert "Una ruta del operador está caída." in page.locator(".timeline").inner_text()
        words = _banner_of(page, "Se pierden mensajes de voz en Cisco")
        assert es("Estimated time of resolution") in words and "09:30" in words
    finally:
        reader.close()

    # The deadline passes: five seconds after 09:30 MT every page's banner says so (a reader
    # arriving then: the pages already in a browser's cache are kept for up to 30 s).
    app.config["FIXED_NOW"] = etr + timedelta(seconds=5)
    reader = bc.new_context(browser, locale="es-ES")
    page = reader.new_page()
    try:
        for path in [*PUBLIC_PATHS, f"/incidents/{case_id}"]:
            page.goto(base + path)
            words = _banner_of(page, "Se pierden mensajes de voz en Cisco")
            # (The banner sets the words in capitals.)
            assert es("Update overdue").upper() in words.upper() and "09:30" in words, (path, words)
        page.goto(base + "/")
        bc.screenshot(page, "p1g-overdue-banner-es")
    finally:
        reader.close()

    try:
        # The on-duty list: alerted at the deadline, reminded at 15 and 30 minutes, once each.
        for minutes in (0, 5, 15, 16, 30, 30):
            job_scheduler.tick(app, etr + timedelta(minutes=minutes))
        on_duty = [
            str(m["Subject"])
            for m in bc.mail_to(app, app.config["CSS_ON_DUTY_EMAIL"])
            if "CS-2026-20001" in str(m["Subject"])
        ]
        assert len(on_duty) == 3, on_duty
        assert "overdue for" not in on_duty[0]
        assert "overdue for 15 min" in on_duty[1] and "overdue for 30 min" in on_duty[2]
    finally:
        app.config["FIXED_NOW"] = NOW

    # The typo corrected: edited on the page, in the API and in the feeds.
    context = bc.new_context(browser)
    page = context.new_page()
    try:
        bc.sign_in(page, base, accounts["css"])
        page.goto(f"{base}/admin/incidents/{case_id}")
        _db.session.expire_all()
        typo = next(u for u in _db.session.get(Incident, case_id).updates if "carier" in u.body)
        page.locator(f"#update-{typo.id}").get_by_role("link", name="Correct the text").click()
        page.get_by_role("heading", name="Correct an update").wait_for()
        bc.assert_accessible(page)
        body = page.get_by_label("Message (Markdown)", exact=True)
        assert body.input_value() == "A carier route is down."
        body.fill("A carrier route is down.")
        assert not page.get_by_label("Send the corrected update to subscribers again").is_checked()
        page.get_by_role("button", name="Save the correction").click()
        page.get_by_text("Update corrected.").wait_for()
        page.goto(f"{base}/incidents/{case_id}?lang=en")
        entry = page.locator(f"#update-{typo.id}")
        assert "A carrier route is down." in entry.inner_text()
        assert "edited" in entry.locator(".update-status").inner_text()
        bc.screenshot(page, "p1g-corrected-update")
        page.goto(f"{base}/incidents/{case_id}?lang=de")
        entry = page.locator(f"#update-{typo.id}")
        assert "Eine Carrier-Route ist ausgefallen." in entry.inner_text()
        assert de("edited") in entry.locator(".update-status").inner_text()
        api = page.request.get(f"{base}/api/v2/incidents.json").json()
        shown = next(i for i in api["incidents"] if i["id"] == str(case_id))
        corrected = next(u for u in shown["incident_updates"] if u["id"] == str(typo.id))
        assert corrected["body"] == "A carrier route is down." and corrected["edited_at"]
        assert corrected["metadata"]["network_status"]["body_translations"]["es"] == (
            "Una ruta del operador está caída."
        )
        feed = page.request.get(f"{base}/history.rss?lang=en").text()
        item = next(i for i in feed.split("<item>") if f"#update-{typo.id}<" in i)
        assert "A carrier route is down." in item and "edited" in item
        assert "carier" not in feed
    finally:
        context.close()


# --- the embed on a partner's page ------------------------------------------------------------


def test_the_embed_shows_on_another_site_with_default_settings(site: Any, browser: Any) -> None:
    app, base, _ = site
    assert not app.config.get("FRAME_ANCESTORS")  # the default: nothing configured
    with bc.other_site(_embed_host_page(base, "cisco")) as portal:
        host = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
        page = host.new_page()
        try:
            page.goto(portal + "/")
            frame = page.frame_locator("iframe[src*='/embed']").first
            frame.locator(".embed-box").wait_for(timeout=10_000)
            page.wait_for_function(
                "() => document.querySelector('iframe').style.visibility === 'visible'"
            )
            assert page.locator("[data-status-embed] > a").count() == 0
            text = frame.locator("body").inner_text()
            assert "Cisco" in text, text
            # Its text fits its box: nothing in the frame is wider than the frame.
            embed_frame = next(f for f in page.frames if "/embed" in f.url)
            assert not bc.horizontal_overflow(embed_frame)
            bc.screenshot(page, "embed-default-settings-phone")
        finally:
            host.close()


def test_a_refused_frame_leaves_the_embeds_link_in_place(site: Any, browser: Any) -> None:
    """A site the status page does not allow: the browser refuses the frame, and the reader
    still has the link to the status page instead of an empty box."""
    app, base, _ = site
    with bc.other_site(_embed_host_page(base, "cisco")) as portal:
        app.config["FRAME_ANCESTORS"] = "https://portal.elsewhere.example"
        host = bc.new_context(browser)
        page = host.new_page()
        try:
            page.goto(portal + "/")
            page.wait_for_selector("iframe[src*='/embed']", state="attached")
            page.wait_for_timeout(2_000)
            link = page.locator("[data-status-embed] > a")
            assert link.count() == 1 and link.is_visible()
            assert page.locator("iframe").evaluate("f => f.style.visibility") == "hidden"
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


def _overflow_at(page: Any, url: str) -> list[str]:
    """Open `url` (it must answer 200) and say what is wider than the window, if anything."""
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return bc.horizontal_overflow(page)


def _overflows(problems: dict[str, list[str]]) -> str:
    """What sticks out, per path, as an assertion's message."""
    return "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_public_pages_fit_a_phone(site: Any, browser: Any, lang: str) -> None:
    _, base, _ = site
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
    with bc.new_page(browser, **bc.ON_A_PHONE) as page:
        for path in paths:
            found = _overflow_at(page, f"{base}{path}{'&' if '?' in path else '?'}lang={lang}")
            if found:
                problems[path] = found
            if path in ("/", "/maintenance"):
                bc.screenshot(page, f"{path.strip('/') or 'home'}-{lang}-phone")
            if path == "/":
                small = bc.small_targets(page, ".bar summary")
                assert not small, small
            broken = bc.broken_across_lines(page, ".case-number")
            assert not broken, (path, broken)
    assert not problems, _overflows(problems)


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_help_page_fits_a_phone(site: Any, browser: Any, lang: str) -> None:
    """The support plan's priority table among them."""
    _, base, _ = site
    with bc.new_page(browser, **bc.ON_A_PHONE) as page:
        page.goto(f"{base}/help?lang={lang}")
        found = bc.horizontal_overflow(page)
    assert not found, "\n".join(found)


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
    with bc.new_page(browser, **bc.ON_A_PHONE) as page:
        bc.sign_in(page, base, accounts["admin"])
        found = {path: _overflow_at(page, f"{base}{path}?lang={lang}") for path in STAFF_PATHS}
    problems = {path: wide for path, wide in found.items() if wide}
    assert not problems, _overflows(problems)


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
