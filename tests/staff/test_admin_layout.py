"""Every staff page shares one layout and stylesheet, and fits a phone (390 px) in chromium.

The pages come from the app's URL map (every GET route of the staff blueprints and under
/admin/), so a new staff page is walked as soon as it exists; a route whose arguments this
module cannot fill fails here rather than being skipped.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from statuspage.extensions import db as _db
from statuspage.models import (
    ApiToken,
    MaintenanceSeries,
    MaintenanceWindow,
    Notice,
    Subscriber,
    User,
)
from statuspage.seed import demo
from statuspage.services import incidents, staff
from statuspage.services.subscriptions import mpoc
from tests import browser_checks as bc
from tests.helpers import NOW, login, make_user
from tests.live import serve

# Not pages: the sample CSV is a download.
NOT_PAGES = {"admin_subscribers.import_sample"}
REGION = r'<div class="table-scroll" role="region" aria-label="[^"]+" tabindex="0">'
LONG = "averyveryverylongmailboxnamewithoutanybreaks@operations.example-organisation.com"


def staff_pages(app: Flask) -> list[tuple[str, Any]]:
    """(endpoint, rule) of every staff page a browser can open."""
    found = []
    for rule in app.url_map.iter_rules():
        staff_area = rule.endpoint.startswith(("admin.", "admin_maintenance.")) or (
            rule.rule.startswith("/admin/")
        )
        if staff_area and "GET" in rule.methods and rule.endpoint not in NOT_PAGES:
            found.append((rule.endpoint, rule))
    return sorted(found, key=lambda pair: pair[1].rule)


def page_paths(app: Flask, ids: dict[str, int]) -> dict[str, str]:
    paths = {}
    for endpoint, rule in staff_pages(app):
        missing = set(rule.arguments) - set(ids)
        assert not missing, f"{rule.rule}: give this module an id for {sorted(missing)}"
        paths[endpoint] = rule.build(ids, append_unknown=False)[1]
    return paths


def lived_in(session: Any) -> dict[str, int]:
    """The demo plus what makes pages wide: a long title and address, a token, a P1G."""
    demo.seed(session, now=NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    admin = make_user(session, "admin", "layout-admin@example.com")
    long_title = "Inbound and outbound calls failing for customers on the " + "x" * 60
    incident = incidents.create_incident(
        session,
        admin,
        title=long_title,
        body=f"Reported by `{LONG}`; see https://example.com/{'a' * 80}",
        priority="P1G",
        case_number="CS-" + "9" * 40,
        customer_case_numbers="A-1234567890, B-1234567890, C-1234567890",
        impact="critical",
        platform_statuses={"cisco": "major_outage"},
        now=NOW - timedelta(minutes=90),
    )
    rows = [(2, {"email": LONG, "platforms": "cisco", "name": "N" * 60})]
    mpoc.import_contacts(session, rows, actor=None, organisation="O" * 60, now=NOW)
    staff.create_token(session, admin, admin, name="automation " + "t" * 60, now=NOW)
    session.commit()
    window = session.scalars(
        select(MaintenanceWindow)
        .where(MaintenanceWindow.status == "scheduled")
        .order_by(MaintenanceWindow.starts_at)
    ).first()
    ids = {
        "incident_id": incident.id,
        "update_id": incident.updates[0].id,
        "window_id": window.id,
        "series_id": session.scalar(select(MaintenanceSeries.id)),
        "platform_id": 1,
        "user_id": admin.id,
        "token_id": session.scalar(select(ApiToken.id)),
        "notice_id": session.scalar(select(Notice.id).where(Notice.incident_id == incident.id)),
        "subscriber_id": session.scalar(select(Subscriber.id).where(Subscriber.address == LONG)),
    }
    return {"admin": admin.id, **{k: v for k, v in ids.items() if v is not None}}


# --- the one layout and stylesheet (no browser) ------------------------------------------


@pytest.mark.one_backend
def test_every_staff_page_extends_the_staff_layout_and_links_the_one_stylesheet(app, client, db):
    ids = lived_in(db)
    login(client, db.get(User, ids["admin"]))
    paths = page_paths(app, ids)
    assert len(paths) >= 20
    problems = []
    for endpoint, path in paths.items():
        response = client.get(path)
        if response.status_code != 200:
            problems.append(f"{endpoint} {path}: {response.status_code}")
            continue
        html = response.get_data(as_text=True)
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        if sheets != ["/static/style.css", "/static/admin.css"]:
            problems.append(f"{endpoint}: stylesheets {sheets}")
        if html.count('<nav class="admin-nav"') != 1 or html.count('src="/static/admin.js"') != 1:
            problems.append(f"{endpoint}: not the staff layout (one staff nav, admin.js)")
        # Every wide table sits in a named, focusable scroll region.
        tables = len(re.findall(r"<table\b", html))
        regions = len(re.findall(REGION, html))
        if tables != regions:
            problems.append(f"{endpoint}: {tables} tables, {regions} scroll regions")
    assert not problems, "\n".join(problems)


def test_the_stylesheet_defines_the_button_kinds_and_the_scroll_region(app):
    with open(f"{app.static_folder}/admin.css", encoding="utf-8") as sheet:
        css = sheet.read()
    for selector in (".danger", ".secondary", "button.link", ".table-scroll", ".danger-zone"):
        assert re.search(rf"(^|[\s,]){re.escape(selector)}\b[^{{]*\{{", css, re.M), selector
    # No staff template carries its own stylesheet or style block.
    for path in glob.glob(f"{app.template_folder}/admin/**/*.html", recursive=True):
        with open(path, encoding="utf-8") as template:
            text = template.read()
        assert (
            "<style" not in text
            and 'rel="stylesheet"' not in text.replace("admin.css", "")
            or path.endswith("_layout.html")
        ), path


# --- the browser walk at 390 px -------------------------------------------------------------


def in_chromium(test: Any) -> Any:
    """Marked as a browser test, skipped (saying why) without chromium or axe-core."""
    for mark in bc.MARKS:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = str(tmp_path_factory.mktemp("admin-layout"))
    with bc.module_app(folder, NOW) as app:
        ids = lived_in(_db.session)
        # The admin the ids belong to: their own token and session are on their account page.
        email = _db.session.get(User, ids["admin"]).email
        with serve(app) as base:
            yield app, base, email, page_paths(app, ids)


@pytest.fixture
def phone(site: Any, browser: Any) -> Iterator[Any]:
    _, base, email, _ = site
    context = bc.new_context(browser, viewport=bc.PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    bc.sign_in(page, base, email)
    yield page
    context.close()


def _overflowing(page: Any, url: str) -> list[str]:
    """[] when the page at `url` is no wider than the window; else what sticks out."""
    response = page.goto(url)
    if response is None or response.status != 200:
        return [f"answered {response and response.status}"]
    width, window = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    found = bc.horizontal_overflow(page)
    assert (width <= window) == (not found)
    return found


@in_chromium
@pytest.mark.parametrize("lang", ["en", "de"])
def test_every_staff_page_fits_390_px(site: Any, phone: Any, lang: str) -> None:
    """No staff page is wider than a phone, and none has a serious axe-core violation there
    (the confirmation pages and the red and outlined buttons included)."""
    _, base, _, paths = site
    problems = {}
    for endpoint, path in paths.items():
        found = _overflowing(phone, f"{base}{path}?lang={lang}") + bc.axe_violations(phone)
        if found:
            problems[endpoint] = found
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(f) for p, f in problems.items())


@in_chromium
def test_the_import_preview_fits_390_px_and_its_upload_shows_progress(
    site: Any, phone: Any
) -> None:
    _, base, _, _ = site
    rows = "".join(
        f"{LONG.replace('@', str(n) + '@')},Name {n},Organisation {n},cisco;calltower-connect,"
        "incidents;maintenance,de\n"
        for n in range(300)
    )
    csv_text = "email,name,organisation,platforms,topics,language\n" + rows + "bad,,,nope,,xx\n"
    phone.goto(f"{base}/admin/subscribers/import?lang=en")
    assert "calltower-connect" in phone.locator(".slugs").inner_text()
    assert not bc.horizontal_overflow(phone)
    phone.set_input_files(
        "input[type=file]",
        files=[{"name": "mpoc.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
    )
    phone.get_by_role("button", name="Preview the import").click()
    # admin.js sent it with XMLHttpRequest and put the preview in place of the form.
    phone.wait_for_selector(".import-preview")
    assert phone.url.endswith("/admin/subscribers/import?lang=en")
    text = phone.locator(".import-preview").inner_text()
    assert "301 rows read from mpoc.csv" in text and "1 rows with errors" in text
    assert phone.locator("progress").count() == 0
    assert not bc.horizontal_overflow(phone), bc.horizontal_overflow(phone)
    # The wide preview table scrolls in its own region, which the keyboard can reach.
    region = phone.locator(".table-scroll", has=phone.locator("table.import-rows"))
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    assert not bc.axe_violations(phone), bc.axe_violations(phone)
    phone.get_by_role("button", name="Import 300 contacts").click()
    phone.wait_for_selector("#import-result")
    assert "301 rows processed" in phone.locator("#import-result").inner_text()
    assert not bc.horizontal_overflow(phone)


@in_chromium
def test_a_file_over_the_limit_is_refused_before_it_is_uploaded(site: Any, phone: Any) -> None:
    _, base, _, _ = site
    phone.goto(f"{base}/admin/subscribers/import?lang=en")
    sent = []
    phone.on("request", lambda r: sent.append(r) if r.method == "POST" else None)
    phone.set_input_files(
        "input[type=file]",
        files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": b"x" * 1_100_000}],
    )
    phone.get_by_role("button", name="Preview the import").click()
    phone.wait_for_selector(".upload-status:has-text('larger than 1 MB')")
    assert not sent
    assert phone.locator("input[type=file]").get_attribute("aria-invalid") == "true"


def test_the_staff_pages_are_walked_from_the_url_map(app):
    """The walk covers the confirmation pages and the import, not a hand-kept list."""
    endpoints = {endpoint for endpoint, _ in staff_pages(app)}
    assert {
        "admin.delete_incident",
        "admin.revoke_token",
        "admin_maintenance.cancel_window",
        "admin_subscribers.import_subscribers",
        "admin_maintenance.notices",
    } <= endpoints
    assert "admin_subscribers.import_sample" not in endpoints
