"""The reader's zone wherever it is known, and one moment written one way per locale.

`statuspage.moments` writes every moment: a day is CLDR's own pattern in the reader's
language, a zone is named as that language names it, the reader's zone leads in mail (the
subject too) and cards, and a window is one line a zone. Pages, mail, cards and feeds write
the same day the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import flask_babel
import pytest

from statuspage import moments
from statuspage.channels import chat
from statuspage.channels import slack as slack_channel
from statuspage.channels import teams as teams_channel
from statuspage.renderers.mail import KINDS, STAFF_KINDS, render_notice
from statuspage.services import notices
from tests.channels.messages import payload, slack_text, teams_text
from tests.maintenance_fixtures import one_off

pytestmark = pytest.mark.one_backend

MT = "America/Denver"
# Friday 18 December 2026, 22:00 MST: Saturday 06:00 in Berlin and Madrid, 05:00 UTC.
AT = datetime(2026, 12, 19, 5, 0, tzinfo=UTC)
END = "2026-12-19T11:00:00+00:00"
ISO = "2026-12-19T05:00:00Z"
LINKS = chat.Links(details="https://s/incidents/1", manage="https://s/subscriptions/manage/t")


def local(name: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(name))


# --- the formatter ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "month", "language", "name"),
    [
        ("Europe/Berlin", 1, "de", "MEZ"),
        ("Europe/Berlin", 7, "de", "MESZ"),
        ("Europe/Berlin", 1, "es", "CET"),
        ("Europe/Madrid", 1, "en", "CET"),  # never "GMT+1"
        ("Europe/Madrid", 7, "en", "CEST"),
        ("America/Denver", 1, "de", "MST"),  # German has no name of its own: English's
        ("America/Denver", 7, "es", "MDT"),
        ("Europe/London", 1, "de", "GMT"),
        ("Europe/London", 7, "en", "BST"),
        ("Asia/Tokyo", 1, "en", "UTC+9"),  # no name in any of them: its offset
        ("Asia/Kolkata", 1, "de", "UTC+5:30"),
        ("America/Sao_Paulo", 1, "es", "UTC-3"),
        ("UTC", 1, "de", "UTC"),
    ],
)
def test_a_zone_is_named_as_the_language_writes_it(zone, month, language, name):
    assert moments.abbreviation(local(zone, 2026, month, 16, 12, 0), language) == name


@pytest.mark.parametrize(
    ("language", "day", "with_year"),
    [
        ("en", "Fri, Dec 18", "Fri, Dec 18, 2026"),
        ("es", "vie, 18 dic", "vie, 18 dic 2026"),
        ("de", "Fr., 18. Dez.", "Fr., 18. Dez. 2026"),
    ],
)
def test_a_day_is_written_with_the_languages_own_pattern(language, day, with_year):
    friday = local(MT, 2026, 12, 18, 22, 0)
    assert moments.day(friday, language, year=False) == day
    assert moments.day(friday, language) == with_year
    assert moments.at(friday, language, year=False) == f"{day}, 22:00"


def test_the_reader_leads_and_each_next_zone_leaves_out_the_day_it_shares():
    zones = moments.Zones(MT, "Europe/Madrid", reader_first=True)
    assert moments.texts(AT, zones, "es") == [
        "sáb, 19 dic 2026, 06:00 CET",
        "vie, 18 dic, 22:00 MST",  # another day than Madrid's: written
        "sáb, 19 dic, 05:00 UTC",  # another day than MT's: written again
    ]
    noon = datetime(2026, 12, 18, 19, 0, tzinfo=UTC)
    assert moments.texts(noon, zones, "de") == [
        "Fr., 18. Dez. 2026, 20:00 MEZ",
        "12:00 MST",
        "19:00 UTC",
    ]


def test_a_page_leaves_out_the_current_year_and_writes_another():
    zones = moments.Zones(MT)
    assert moments.texts(AT, zones, "en", this_year=2026)[0] == "Fri, Dec 18, 22:00 MST"
    assert moments.texts(AT, zones, "en", this_year=2027)[0] == "Fri, Dec 18, 2026, 22:00 MST"
    new_year = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)  # still 2026 in MT
    assert moments.texts(new_year, zones, "en", this_year=2026) == [
        "Thu, Dec 31, 23:00 MST",
        "Fri, Jan 1, 2027, 06:00 UTC",
    ]


def test_a_window_is_one_text_a_zone_naming_each_day_once():
    zones = moments.Zones(MT, "Europe/Berlin", reader_first=True)
    end = datetime(2026, 12, 19, 11, 0, tzinfo=UTC)
    assert moments.span_texts(AT, end, zones, "de") == [
        "Sa., 19. Dez. 2026, 06:00–12:00 MEZ",
        "Fr., 18. Dez., 22:00 – Sa., 19. Dez., 04:00 MST",
        "Sa., 19. Dez., 05:00–11:00 UTC",
    ]
    # Across the change to summer time: both of the zone's names.
    spring = moments.span_texts(
        datetime(2027, 3, 14, 8, 0, tzinfo=UTC),
        datetime(2027, 3, 14, 10, 30, tzinfo=UTC),
        moments.Zones(MT),
        "en",
    )
    assert spring[0] == "Sun, Mar 14, 2027, 01:00–04:30 MST/MDT"


# --- mail and cards: the subscriber's zone first -----------------------------------------------


def test_a_berlin_subscribers_mail_leads_with_the_zone_as_german_writes_it_subject_included():
    window = render_notice(payload("maintenance_day_before"), "de", "Europe/Berlin")
    assert window.subject.endswith(" · Sa., 17. Juli 2027, 06:00 MESZ")
    assert "Datum/Uhrzeit: Sa., 17. Juli 2027, 06:00–12:00 MESZ\n" in window.text
    assert "CEST" not in window.text + window.html and "CET" not in window.text
    incident = render_notice(payload("incident_updated"), "de", "Europe/Berlin")
    line = next(line for line in incident.text.splitlines() if line.startswith("Datum"))
    assert line == "Datum/Uhrzeit: Fr., 15. Jan. 2027, 19:00 MEZ · 11:00 MST · 18:00 UTC"


def test_the_monthly_windows_subject_names_the_readers_day_not_mts():
    # Friday 22:00 MT is Saturday 06:00 in Madrid: the subject says Saturday.
    notice = payload("maintenance_week_before")
    notice["window"] = {**notice["window"], "starts_at": AT.isoformat(), "ends_at": END}
    mail = render_notice(notice, "es", "Europe/Madrid")
    assert mail.subject.endswith(" · sáb, 19 dic 2026, 06:00 CET")
    assert "vie" not in mail.subject


def card_payload(kind: str) -> dict:
    found = payload(kind)
    if kind.startswith("incident"):
        found["update"] = {**found["update"], "etr": "2027-01-15T21:00:00+00:00"}
    return found


@pytest.mark.parametrize("kind", ["incident_updated", "maintenance_week_before"])
def test_a_channels_zone_leads_its_teams_and_slack_cards(kind):
    teams = teams_channel.CHANNEL.build(
        card_payload(kind), language="es", provider_tz=MT, reader_tz="Europe/Madrid", links=LINKS
    )
    slack = slack_channel.CHANNEL.build(
        card_payload(kind), language="es", provider_tz=MT, reader_tz="Europe/Madrid", links=LINKS
    )
    for text in (teams_text(teams), slack_text(slack)):
        when = text[text.index("Fecha y hora") :]
        first_zone = re.search(r"\b(CET|CEST|MST|MDT|UTC)\b", when).group(1)
        assert first_zone in ("CET", "CEST"), when[:120]
        assert when.index("CE") < when.index("MST" if "MST" in when else "MDT") < when.index("UTC")


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_no_line_of_a_mail_or_card_carries_more_than_three_times(language):
    """A window was six timestamps on one line (start and end in three zones): now a line a
    zone, and a moment at most its three zones."""
    clock = re.compile(r"\b\d{2}:\d{2}\b")
    for kind in sorted(KINDS - STAFF_KINDS - {"subscription_confirm"}):
        mail = render_notice(card_payload(kind), language, "Asia/Tokyo")
        card = teams_text(
            teams_channel.CHANNEL.build(
                card_payload(kind),
                language=language,
                provider_tz=MT,
                reader_tz="Asia/Tokyo",
                links=LINKS,
            )
        )
        for text in (mail.subject, mail.text, card):
            for line in text.splitlines():
                assert len(clock.findall(line)) <= 3, (kind, line)


# --- one way per locale, everywhere ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "day"), [("en", "Fri, Dec 18"), ("es", "vie, 18 dic"), ("de", "Fr., 18. Dez.")]
)
def test_pages_mail_cards_and_feeds_write_one_day_alike(app, client, db, css, language, day):
    """The same day in the same words on the page, in the mail, on the card and in a feed."""
    end = datetime(2026, 12, 19, 11, 0, tzinfo=UTC)
    window = one_off(db, css, title="Firmware", starts_at=AT, ends_at=end)
    db.commit()
    flask_babel.refresh()
    page = client.get(f"/maintenance/{window.id}?lang={language}").get_data(as_text=True)
    feed = client.get(f"/maintenance.rss?lang={language}").get_data(as_text=True)
    flask_babel.refresh()
    notice = notices.window_payload(window, "maintenance_week_before")
    mail = render_notice(notice, language, MT).text
    card = teams_text(
        teams_channel.CHANNEL.build(
            notice, language=language, provider_tz=MT, reader_tz=MT, links=LINKS
        )
    )
    for text in (page, feed, mail, card):
        assert re.search(re.escape(day) + r",? (2026, )?22:00", text), text[-600:]
        assert "22:00 – " in text and "04:00 MST" in text


# --- pages: the reader's zone by script, MT without one ------------------------------------


def test_maintenance_says_its_days_are_mt_without_a_script_and_marks_them_for_one(client, db, css):
    window = one_off(db, css, title="Firmware", starts_at=AT, ends_at=AT + timedelta(hours=2))
    db.commit()
    html = client.get("/maintenance?month=2026-12&lang=de").get_data(as_text=True)
    # Without a script: MT, and the page says so (in the page's language).
    note = re.search(r'<span class="zone-note" data-local="([^"]+)">([^<]+)</span>', html)
    assert "Mountain Time (MT)" in note.group(2) and "JavaScript" in note.group(2)
    # The script's words, the reader's zone to be filled in: also German.
    assert "{zone}" in note.group(1) and "Ihrer Zeitzone" in note.group(1)
    # What the script lays out again: each day's date, each window's moment, the page's
    # moment (its "today" in the reader's zone).
    assert '<table class="month" data-now="2026-11-20T15:00:00Z"' in html
    cell = re.search(r'<td data-date="2026-12-18"[^>]*>(.*?)</td>', html, re.S).group(1)
    assert f'<time datetime="{ISO}" class="cal-time">22:00 MST</time>' in cell
    assert f"/maintenance/{window.id}" in cell
    listed = client.get("/maintenance?month=2026-12&lang=de&view=list").get_data(as_text=True)
    assert f'data-start="{ISO}"' in listed
