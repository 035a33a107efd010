"""One translation system: every public page, notice email, Teams and Slack card, calendar and
feed in Spanish and German, with no English left from the templates, the catalogs or the
third-party checks (the address checker's and the URL checks' messages), and catalogs with
nothing untranslated or fuzzy."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import flask_babel
import pytest
from flask import has_app_context
from sqlalchemy import select

from statuspage.channels import chat, slack, teams
from statuspage.i18n import TRANSLATIONS_DIR
from statuspage.models import Notice, Subscriber
from statuspage.renderers.mail import KINDS, render_notice
from statuspage.services.subscriptions import links
from tests.channels.messages import payload, slack_text, teams_text
from tests.helpers import NOW, master_case
from tests.maintenance_fixtures import one_off, texts
from tests.subscriptions.forms import csrf_token, post_subscribe
from tests.translations.support import catalog

# Words on pages and in mail do not depend on the database: SQLite only.
pytestmark = pytest.mark.one_backend

LANGUAGES = ["es", "de"]
MT = ZoneInfo("America/Denver")


def translated(language: str) -> dict[str, str]:
    """msgid -> msgstr where the two differ (words such as "API" or "RSS" are the same)."""
    return {
        m.id: m.string
        for m in catalog(language)
        if m.id and isinstance(m.id, str) and m.string and m.string != m.id
    }


class _Text(HTMLParser):
    """What a reader sees or hears: text and the labels of links, images and buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._option = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        # A time zone's IANA name ("Europe/Madrid", "America/Port_of_Spain") is an identifier
        # in every language: the options of the zone list are left out of the comparison.
        if tag == "option" and "/" in (dict(attrs).get("value") or ""):
            self._option = True
        for name, value in attrs:
            if name in ("aria-label", "title", "alt", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "option":
            self._option = False

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._option:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(" ".join(p.split()) for p in parser.parts if p.strip())


def occurrences(message: str, text: str) -> int:
    return len(re.findall(r"(?<!\w)" + re.escape(message) + r"(?!\w)", text))


def english_left(english: str, other: str, language: str) -> list[str]:
    """The catalog's English phrases shown in `english` that are still there in `other`.

    The test data is neutral (no English staff text), so a translated page shows none."""
    return sorted(
        message
        for message in translated(language)
        if occurrences(message, english) and occurrences(message, other)
    )


@pytest.fixture
def pages(app, client, db, css) -> list[str]:
    """Every kind of public page, over data whose staff-written words are not English."""
    app.config["STATUSPAGE_NAME"] = "Q-Net"
    # Staff-written words in no language, so that any English left on a page is the app's.
    earlier = NOW - timedelta(minutes=90)
    partial = {"cisco": "partial_outage"}
    incident = master_case(
        db, css, title="Q-7", impact="major", body="Zz-1", platforms=partial, now=earlier
    )
    start = datetime(2026, 12, 2, 1, 0, tzinfo=MT)
    window = one_off(db, css, start=start, hours=2, **texts("Q-8", "Zz-2", "Zz-3", "Zz-4"))
    db.commit()
    post_subscribe(client, email="q@example.com", platforms=["cisco"])
    confirm = db.scalar(select(Notice).where(Notice.kind == "subscription_confirm")).payload[
        "confirm_url"
    ]
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    subscriber = db.scalar(select(Subscriber))
    secret = app.config["SECRET_KEY"]
    return [
        "/",
        f"/incidents/{incident.id}",
        "/history",
        "/help",
        f"/maintenance?month={start:%Y-%m}",
        f"/maintenance?month={start:%Y-%m}&view=list",
        "/embed",
        f"/maintenance/{window.id}",
        "/subscribe",
        f"/subscribe?incident={incident.id}",
        confirm,
        links.manage_path(secret, subscriber),
        links.unsubscribe_path(secret, subscriber),
        "/no-such-page",
    ]


def fetch(client, path: str, language: str) -> str:
    # The `db` fixture holds one app context for the whole test, which requests share: the
    # locale Flask-Babel keeps in it must be chosen again per request, as in a server.
    if has_app_context():
        flask_babel.refresh()
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}lang={language}")
    assert response.status_code in (200, 404), (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_public_page_is_translated(client, pages, language):
    for path in pages:
        english = fetch(client, path, "en")
        other = fetch(client, path, language)
        assert f'<html lang="{language}"' in other, path
        assert english != other, path
        left = english_left(visible(english), visible(other), language)
        assert not left, (path, left)


def test_english_pages_keep_their_words(client, pages):
    text = visible(fetch(client, "/", "en"))
    assert "Open incidents" in text and "Master case (P1G)" in text and "Priority 1G" in text


def test_month_label_and_weekdays_are_in_the_readers_language(client, pages):
    assert "December 2026" in fetch(client, "/maintenance?month=2026-12", "en")
    assert "diciembre" in fetch(client, "/maintenance?month=2026-12", "es")
    assert "Dezember 2026" in fetch(client, "/maintenance?month=2026-12", "de")


def test_error_page_is_translated(client):
    page = client.get("/nothing-here?lang=de")
    assert page.status_code == 404
    assert "Nicht gefunden" in page.get_data(as_text=True)


def test_language_switch_keeps_path_and_query_and_marks_the_active_one(client):
    page = fetch(client, "/history?page=1", "es")
    assert 'href="/history?page=1&amp;lang=de"' in page
    assert 'href="/history?page=1&amp;lang=es" lang="es" hreflang="es" aria-current="true"' in page
    assert page.count('aria-current="true"') == 1


@pytest.mark.parametrize("inside_app", [True, False])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_email_is_translated(app, kind, language, inside_app):
    neutral = _neutral(payload(kind))
    if inside_app:  # as the delivery job renders: inside an app context
        with app.app_context():
            english = render_notice(neutral, "en", "UTC")
            other = render_notice(neutral, language, "UTC")
    else:
        english = render_notice(neutral, "en", "UTC")
        other = render_notice(neutral, language, "UTC")
    for part in ("subject", "text", "html"):
        en_text, other_text = getattr(english, part), getattr(other, part)
        if part == "html":
            en_text, other_text = visible(en_text), visible(other_text)
        left = english_left(en_text, other_text, language)
        assert not left, (kind, part, left)
    assert f'lang="{language}"' in other.html


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS - {"subscription_confirm", "p1g_overdue"}))
def test_every_card_is_translated(kind, language):
    neutral = _neutral(payload(kind))
    if kind.startswith("incident"):
        neutral["update"] = {**neutral["update"], "etr": "2027-01-15T21:00:00+00:00"}
    links = chat.Links(details="https://s/x", manage="https://s/m")
    for channel, text_of in ((teams, teams_text), (slack, slack_text)):

        def card(lang: str, channel=channel, text_of=text_of) -> str:
            made = channel.CHANNEL.build(
                neutral, language=lang, provider_tz="America/Denver", reader_tz="UTC", links=links
            )
            return text_of(made)

        left = english_left(card("en"), card(language), language)
        assert not left, (kind, channel.CHANNEL.name, left)


def test_the_welcome_card_is_translated():
    links = chat.Links(details="https://s/x", manage="https://s/m")
    welcome = {"kind": "webhook_verification", "token": "t"}
    for language in LANGUAGES:
        english, other = (
            teams_text(
                teams.CHANNEL.build(
                    welcome, language=lang, provider_tz="UTC", links=links, topics=["Q-1"]
                )
            )
            for lang in ("en", language)
        )
        assert not english_left(english, other, language), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_calendar_and_feed_is_translated(client, pages, language):
    """The same data as the pages: its calendars and feeds, asked for with `?lang=`."""
    for path in (
        "/maintenance.ics",
        "/platforms/cisco/maintenance.ics",
        "/history.rss",
        "/history.atom",
        "/maintenance.rss",
        "/platforms/cisco/history.rss",
        "/platforms/cisco/maintenance.rss",
    ):
        english = fetch(client, path, "en")
        other = fetch(client, path, language)
        assert english != other, path
        if path.endswith(".ics"):
            english, other = ics_text(english), ics_text(other)
        else:
            english, other = feed_text(english), feed_text(other)
        left = english_left(english, other, language)
        assert not left, (path, left)


def test_the_personal_calendar_is_translated(client, pages, app, db):
    """A subscriber's own calendar speaks the subscriber's language."""
    subscriber = db.scalar(select(Subscriber))
    path = links.calendar_path(app.config["SECRET_KEY"], subscriber)
    english = ics_text(fetch(client, path, "en"))
    for language in LANGUAGES:
        subscriber.language = language
        db.commit()
        other = ics_text(fetch(client, path, "en"))  # the page's language plays no part
        assert english != other, language
        assert not english_left(english, other, language), language


# What a calendar application shows of a calendar: its name and description, each event's
# summary, description and categories (PRODID, UIDs and times are identifiers).
SHOWN = ("NAME", "X-WR-CALNAME", "DESCRIPTION", "X-WR-CALDESC", "SUMMARY", "CATEGORIES")


def ics_text(body: str) -> str:
    """A calendar's words: the values of the properties an application shows, unescaped."""
    unfolded = body.replace("\r\n ", "").replace("\n ", "")
    values = [
        line.split(":", 1)[1]
        for line in unfolded.splitlines()
        if ":" in line and line.split(":", 1)[0].split(";", 1)[0] in SHOWN
    ]
    return "\n".join(v.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";") for v in values)


# What a feed reader shows: titles, descriptions, contents and categories (dates in RFC 822
# and guids are identifiers).
READ = ("title", "description", "encoded", "summary", "content", "category", "subtitle")


def feed_text(body: str) -> str:
    """A feed's words: the text of what a reader shows, the HTML inside reduced to its text."""
    root = ElementTree.fromstring(body)
    return "\n".join(
        visible(element.text)
        for element in root.iter()
        if element.text and element.tag.rsplit("}", 1)[-1] in READ
    )


# Mistakes the third-party checks answer in English (the address checker's own words, a
# webhook URL refused for its address range): each page shows them in its language.
THIRD_PARTY = [
    ("email", "email", "nobody"),
    ("email", "email", "a..b@example.com"),
    ("email", "email", "ann@localhost"),
    ("email", "email", "a b@example.com"),
    ("email", "email", "ann@x.invalid"),
    ("webhook", "webhook_url", "https://10.0.0.1/hook"),
    ("teams", "teams_url", "https://192.168.1.1/hook"),
    ("slack", "slack_url", "https://hooks.example.com/x"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_third_party_messages_are_translated(app, client, language):
    app.config["STATUSPAGE_NAME"] = "Q-Net"  # a name, the same in every language
    for channel, field, value in THIRD_PARTY:

        def answer(lang: str, channel=channel, field=field, value=value) -> str:
            flask_babel.refresh()
            data = {
                "csrf_token": csrf_token(client, f"/subscribe?lang={lang}"),
                "channel": channel,
                field: value,
                "platforms": ["cisco"],
                "incidents": "y",
                "language": lang,
                "timezone": "Europe/Madrid",
            }
            response = client.post(f"/subscribe?lang={lang}", data=data)
            assert response.status_code == 422, (channel, value)
            return visible(response.get_data(as_text=True))

        english, other = answer("en"), answer(language)
        left = english_left(english, other, language)
        assert not left, (value, left)
        # The checker's own English, which no catalog holds, is not on the page either.
        errors = [line for line in english.splitlines() if line not in other.splitlines()]
        assert errors, value
        assert not [line for line in other.splitlines() if line in errors], value


def _neutral(value):
    """The test payload with its staff-written words replaced by words of no language."""
    if isinstance(value, dict):
        return {
            k: (
                "Zz"
                if k in ("title", "body", "description", "justification", "note", "release_notes")
                and isinstance(v, str)
                and v
                else _neutral(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_neutral(v) for v in value]
    return value


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_nothing_untranslated_or_fuzzy(language):
    problems = [
        m.id
        for m in catalog(language)
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    fuzzy = [m.id for m in catalog(language) if m.id and m.fuzzy]
    assert not problems, problems
    assert not fuzzy, fuzzy


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_keeps_every_placeholder(language):
    for m in catalog(language):
        if m.id and isinstance(m.id, str):
            for pattern in (r"%\(\w+\)s", r"\{\w+\}"):
                assert sorted(re.findall(pattern, m.id)) == sorted(re.findall(pattern, m.string)), (
                    m.id
                )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_is_compiled(language):
    mo = os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.mo")
    assert os.path.exists(mo), "run `make` (pybabel compile) first"
