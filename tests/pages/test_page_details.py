"""Details of the public pages readers noticed: a case number kept whole, a window's status
set apart from its title, support phone numbers per language, and a meta description on
every page in its language."""

from __future__ import annotations

import os
import re
from datetime import date

import flask_babel
import pytest

from statuspage.seed import demo
from tests.helpers import NOW, PROJECT_ROOT, master_case

ROOT = str(PROJECT_ROOT)


def get(client, path: str, lang: str) -> str:
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


@pytest.fixture
def case(db, css):
    return master_case(db, css, case_number="CS-2026-11873", body="", platforms={})


def test_a_case_number_is_one_unbreakable_word(client, case):
    for path in ("/", f"/incidents/{case.id}", "/history", "/embed"):
        html = get(client, path, "en")
        assert '<span class="case-number">CS-2026-11873</span>' in html, path
    # One box: it moves to the next line whole rather than break at its hyphen.
    for sheet in ("style.css", "embed.css"):
        with open(os.path.join(ROOT, "static", sheet), encoding="utf-8") as fh:
            assert ".case-number { display: inline-block; max-width: 100%;" in fh.read(), sheet


def test_a_windows_status_is_a_word_apart_from_its_title(client, db):
    demo.seed(db, now=NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    db.commit()
    html = get(client, "/maintenance?view=list", "es")
    assert re.search(
        r'>Monthly scheduled maintenance</a>\s*· <span class="status">Programado</span>', html
    )
    assert not re.search(r"</a>\s*<span class=\"status\">", html)


def test_each_language_gets_its_own_support_number_and_the_us_one_says_where_it_works(app, client):
    app.config["SUPPORT_PHONE_ES"] = "+34 910 00 00 00"
    spanish = get(client, "/help", "es")
    contacts = spanish[spanish.index('class="support-contacts"') :]
    own = contacts.index('href="tel:+34910000000"')
    us = contacts.index('href="tel:+18003475444"')
    assert own < us
    assert "(gratuito desde EE. UU. y Canadá)" in contacts
    german = get(client, "/help", "de")
    contacts = german[german.index('class="support-contacts"') :]
    assert 'class="phone">(800) 347-5444</a> (gebührenfrei aus den USA und Kanada)' in (contacts)
    english = get(client, "/help", "en")
    contacts = english[english.index('class="support-contacts"') :]
    assert "+34" not in contacts and "toll-free" not in contacts
    assert 'href="tel:+18003475444"' in contacts


PAGES = ["/", "/incidents/{id}", "/history", "/maintenance", "/help", "/subscribe"]


@pytest.mark.parametrize("lang", ["en", "es", "de"])
def test_every_public_page_describes_itself_in_its_language(client, case, lang):
    seen = set()
    for path in PAGES:
        html = get(client, path.format(id=case.id), lang)
        found = re.search(r'<meta name="description" content="([^"]+)">', html)
        assert found, path
        text = found.group(1)
        assert len(text) > 40, (path, text)
        seen.add(text)
        if lang != "en":
            # Not the English text: the catalog had it in the reader's language.
            assert "the status" not in text and "Live status" not in text, (path, text)
    assert len(seen) == len(PAGES)  # one per page, not one for the site
