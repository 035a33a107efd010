"""Readers in Madrid and Berlin, in Debian's chromium (English, Spanish and German, at 1280
and 390 px):

- a reader in Madrid (browser zone Europe/Madrid) sees /maintenance's month grid and its
  "Today" on her own days, the list's "Today" divider on her day, and each time with her zone
  first, worded as the server words MT beside it; without a script the page is MT and says so;
- a subscriber in Berlin subscribes by email and a Microsoft Teams channel from the page, and
  the mail (its subject too) and the card lead with Berlin's zone as the subscriber's language
  writes it (MEZ in German, CET in English and Spanish); the mail's manage link opens in that
  language.

Screenshots of each go to test-artefacts/screenshots/. One app, live server and browser for
the module; the time is pinned to Sunday 6 December 2026, 00:30 UTC: Saturday 17:30 in MT,
Sunday 01:30 in Madrid and Berlin.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from jobs import scheduler as job_scheduler
from statuspage import moments
from statuspage.extensions import db as _db
from statuspage.models import User
from statuspage.services import incidents
from tests import browser_checks as bc
from tests.maintenance_fixtures import one_off
from tests.webhook_receiver import Receiver

pytestmark = [*bc.MARKS, pytest.mark.one_backend]

NOW = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")
# Saturday 23:00 MT is Sunday 07:00 in Madrid; Saturday 05:00 MT is Saturday 13:00 there.
SUNDAY_IN_MADRID = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": bc.PHONE}
LOCALES = {"en": "en-US", "es": "es-ES", "de": "de-DE"}
# Madrid's and Berlin's zone in winter as each language writes it.
CENTRAL = {"en": "CET", "es": "CET", "de": "MEZ"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """(app, base URL, the CSS user's email), with a window on each side of midnight."""
    folder = str(tmp_path_factory.mktemp("readers"))
    with bc.module_app(folder, NOW, WEBHOOK_ALLOW_LOOPBACK=True, WEBHOOK_TIMEOUT=2) as app:
        css_email = bc.add_staff("css", NOW)
        css = _db.session.scalars(select(User).where(User.email == css_email)).one()
        for title, start in (("Saturday work", SATURDAY), ("Night work", SUNDAY_IN_MADRID)):
            one_off(
                _db.session,
                css,
                title=title,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                now=start - timedelta(days=3),
            )
        _db.session.commit()
        with bc.serve_linked(app) as base:
            yield app, base, css_email


def madrid_day(moment: datetime, lang: str) -> str:
    """The day as the server writes it (`statuspage.moments`), in Madrid's zone."""
    return moments.day(moment.astimezone(MADRID), lang, year=False)


# --- Madrid: the calendar on her days -------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_a_madrid_reader_sees_the_maintenance_grid_and_today_in_her_zone(
    site: Any, browser: Any, lang: str, width: str
) -> None:
    _, base, _ = site
    context = bc.new_context(
        browser, viewport=WIDTHS[width], timezone_id="Europe/Madrid", locale=LOCALES[lang]
    )
    page = context.new_page()
    zone = CENTRAL[lang]
    try:
        page.goto(f"{base}/maintenance?lang={lang}&month=2026-12")
        page.wait_for_selector(".localtime")
        # "Today" is her Sunday, not MT's Saturday, and only one day is today.
        today = page.locator('td[aria-current="date"]')
        assert today.count() == 1 and today.get_attribute("data-date") == "2026-12-06"
        assert today.locator(".today-label").count() == 1
        # The night's work sits on her Sunday, at her time; Saturday's stays on Saturday.
        sunday = page.locator('td[data-date="2026-12-06"]')
        assert sunday.locator(".cal-window").inner_text() == f"07:00 {zone} Night work"
        saturday = page.locator('td[data-date="2026-12-05"]')
        assert saturday.locator(".cal-window").inner_text() == f"13:00 {zone} Saturday work"
        # The page says whose days these are, in its language and her zone's name.
        note = page.locator(".zone-note").first.inner_text()
        assert f"({zone})" in note
        # Her time comes first (the night's work, upcoming), worded by the script exactly as
        # the server words a day and a time (`statuspage.moments`), then MT and UTC.
        upcoming = page.locator("#upcoming-h + ul .window").first
        mine = moments.joined(madrid_day(SUNDAY_IN_MADRID, lang), "07:00–09:00", lang)
        assert upcoming.locator(".localtime").inner_text() == f"{mine} {zone}"
        line = upcoming.inner_text()
        assert line.index(f"{mine} {zone}") < line.index("MST") < line.index("UTC")
        # A window's span: hers on a line of its own, MT's and UTC's on the next.
        assert upcoming.locator(".localtime + br + time.when").count() == 1
        assert "GMT" not in page.locator("main").inner_text()
        assert not bc.horizontal_overflow(page), bc.horizontal_overflow(page)
        bc.assert_accessible(page)
        bc.screenshot(page, f"madrid-maintenance-grid-{lang}-{width}")

        page.goto(f"{base}/maintenance?lang={lang}&month=2026-12&view=list")
        page.wait_for_selector(".localtime")
        divider = page.locator("li.today-divider")
        # A day and no time: her Sunday, between Saturday's work and the night's.
        assert divider.locator(".today-date").inner_text() == madrid_day(NOW, lang)
        assert divider.locator("time, .localtime").count() == 0
        order = page.locator("ol.agenda > li").evaluate_all(
            "items => items.map(li => li.classList.contains('today-divider') ? 'today' :"
            " li.querySelector('a').textContent)"
        )
        assert order == ["Saturday work", "today", "Night work"]
        label, date = (
            divider.locator(selector).bounding_box() for selector in (".today-name", ".today-date")
        )
        overlap = (
            label["x"] < date["x"] + date["width"]
            and date["x"] < label["x"] + label["width"]
            and label["y"] < date["y"] + date["height"]
            and date["y"] < label["y"] + label["height"]
        )
        assert not overlap, (label, date)
        assert not bc.horizontal_overflow(page), bc.horizontal_overflow(page)
        bc.assert_accessible(page)
        bc.screenshot(page, f"madrid-maintenance-list-{lang}-{width}")
    finally:
        context.close()


def test_without_a_script_the_calendar_is_mt_and_says_so(site: Any, browser: Any) -> None:
    _, base, _ = site
    context = bc.new_context(browser, timezone_id="Europe/Madrid", java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{base}/maintenance?lang=es&month=2026-12")
        today = page.locator('td[aria-current="date"]')
        assert today.get_attribute("data-date") == "2026-12-05"  # MT's Saturday
        assert "hora de la montaña (MT)" in page.locator(".zone-note").first.inner_text()
        assert page.locator(".localtime").count() == 0
        bc.screenshot(page, "madrid-maintenance-grid-es-no-script")
    finally:
        context.close()


# --- Berlin: the mail and the card lead with her zone ---------------------------------------


def card_preview(message: dict[str, Any], lang: str) -> str:
    """The Adaptive Card as a page: each block a paragraph, bold runs bold (a preview for the
    screenshot; the card itself is checked against the schema in
    tests/channels/test_channels.py)."""
    card = message["attachments"][0]["content"]
    blocks = []
    for block in card["body"]:
        runs = "".join(
            '<span style="font-weight:{}">{}</span>'.format(
                700 if run.get("weight") == "Bolder" else 400,
                html.escape(run["text"]).replace("\n", "<br>"),
            )
            for run in block["inlines"]
        )
        blocks.append(f"<p>{runs}</p>")
    actions = " · ".join(
        f'<a href="{html.escape(a["url"])}">{html.escape(a["title"])}</a>' for a in card["actions"]
    )
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Teams</title>'
        '</head><body style="font-family:sans-serif;margin:16px"><main style="max-width:560px;'
        'border:1px solid #999;border-radius:6px;padding:4px 16px">'
        f"{''.join(blocks)}<p>{actions}</p></main></body></html>"
    )


def subscribe(page: Any, base: str, lang: str, how: str, address: str) -> None:
    t = bc.gettext_in(lang)
    page.goto(f"{base}/subscribe?lang={lang}")
    form = page.locator("main")
    form.get_by_label(t(how), exact=True).check()
    label = "Email address" if how == "Email" else "Microsoft Teams incoming webhook URL"
    form.get_by_label(t(label), exact=True).fill(address)
    form.get_by_label("Cisco", exact=True).check()
    form.get_by_label(t("Language"), exact=True).select_option(lang)
    form.get_by_label(t("Time zone"), exact=True).select_option("Europe/Berlin")
    page.locator("main form [type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", bc.LANGUAGES)
def test_a_berlin_subscribers_mail_and_teams_card_lead_with_her_zone(
    site: Any, browser: Any, lang: str
) -> None:
    app, base, css_email = site
    t = bc.gettext_in(lang)
    zone = CENTRAL[lang]
    address = f"berlin-{lang}@example.de"
    receiver = Receiver()
    context = bc.new_context(browser, timezone_id="Europe/Berlin", locale="en-US")
    page = context.new_page()
    try:
        # She subscribes by email and her team's channel, both in Berlin's zone.
        subscribe(page, base, lang, "Email", address)
        subscribe(page, base, lang, "Microsoft Teams channel", receiver.url)
        job_scheduler.tick(app, NOW)  # the confirmation mail and the welcome card
        (confirmation,) = bc.mail_to(app, address)  # her first mail
        text = confirmation.get_body(preferencelist=("plain",)).get_content()
        link = re.search(re.escape(base) + r"/subscriptions/confirm/\S+", text).group(0)
        assert link.endswith(f"?lang={lang}")  # opens in her language
        page.goto(link)
        assert page.locator("html").get_attribute("lang") == lang
        page.get_by_role("button", name=t("Confirm")).click()
        page.get_by_role("heading", name=t("Subscription confirmed")).wait_for()

        # An incident and a window of work on Cisco: their mail and cards.
        css = _db.session.scalars(select(User).where(User.email == css_email)).one()
        incidents.create_incident(
            _db.session,
            css,
            title=f"Calls failing ({lang})",
            body="We are investigating.",
            impact="major",
            priority="P2",
            platform_statuses={"cisco": "partial_outage"},
            now=NOW,
        )
        one_off(
            _db.session,
            css,
            title=f"Router swap ({lang})",
            starts_at=NOW + timedelta(hours=6),  # Sunday 06:30 UTC: 07:30 in Berlin
            ends_at=NOW + timedelta(hours=8),
            now=NOW,
        )
        _db.session.commit()
        job_scheduler.tick(app, NOW)
        mails = bc.mail_to(app, address)
        window_mail = next(m for m in mails if f"Router swap ({lang})" in str(m["Subject"]))
        incident_mail = next(m for m in mails if f"Calls failing ({lang})" in str(m["Subject"]))
        assert str(window_mail["Subject"]).endswith(f", 07:30 {zone}")
        body = incident_mail.get_body(preferencelist=("plain",)).get_content()
        when = next(line for line in body.splitlines() if line.startswith(t("Date and time")))
        assert re.search(rf": .*01:30 {zone} · .*17:30 MST · .*00:30 UTC$", when), when

        cards = [json.loads(b) for _, b in receiver.got]
        card = next(
            c for c in cards if f"Calls failing ({lang})" in json.dumps(c, ensure_ascii=False)
        )
        facts = [
            "".join(run["text"] for run in block["inlines"])
            for block in card["attachments"][0]["content"]["body"]
        ]
        fact = next(f for f in facts if f.startswith(t("Date and time")))
        assert fact.index(f"01:30 {zone}") < fact.index("17:30 MST") < fact.index("00:30 UTC")

        # Her manage link opens in her language whatever the browser asks for.
        manage = re.search(re.escape(base) + r"/subscriptions/manage/\S+", body).group(0)
        page.goto(manage)
        assert page.locator("html").get_attribute("lang") == lang

        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            page.set_content(window_mail.get_body(preferencelist=("html",)).get_content())
            bc.screenshot(page, f"berlin-mail-{lang}-{width}")
            page.set_content(card_preview(card, lang))
            assert f"01:30 {zone}" in page.locator("main").inner_text()
            bc.screenshot(page, f"berlin-teams-card-{lang}-{width}")
    finally:
        context.close()
        receiver.server.shutdown()
        receiver.server.server_close()
