"""One translation system: every public page and every notice email in Spanish and German,
with no English left from the templates, and catalogs with nothing untranslated or fuzzy."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import has_app_context
from sqlalchemy import select

from statuspage.i18n import TRANSLATIONS_DIR
from statuspage.models import Notice, Subscriber
from statuspage.renderers.mail import KINDS, render_notice
from statuspage.services import incidents
from statuspage.services import maintenance as maintenance_svc
from statuspage.services.subscriptions import links
from tests.conftest import NOW
from tests.test_mail import payload
from tests.test_subscription_pages import csrf_token, post_subscribe

# Words on pages and in mail do not depend on the database: SQLite only.
pytestmark = pytest.mark.one_backend

LANGUAGES = ["es", "de"]
MT = ZoneInfo("America/Denver")


def catalog(language: str) -> Catalog:
    path = os.path.join(TRANSLATIONS_DIR, language, "LC_MESSAGES", "messages.po")
    with open(path, "rb") as fh:
        return read_po(fh, locale=language)


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
    incident = incidents.create_incident(
        db,
        css,
        title="Q-7",
        impact="major",
        priority="P1G",
        case_number="CS-1",
        body="Zz-1",
        platform_statuses={"cisco": "partial_outage"},
        now=NOW - timedelta(minutes=90),
    )
    start = datetime(2026, 12, 2, 1, 0, tzinfo=MT)
    window = maintenance_svc.create_unscheduled(
        db,
        css,
        title="Q-8",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        platforms=["cisco"],
        description="Zz-2",
        justification="Zz-3",
        urgency="Zz-4",
        tz_name="America/Denver",
        now=NOW,
    )
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
