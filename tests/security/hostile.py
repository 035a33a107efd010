"""What the text tests share: hostile text for the property tests, and the check that
every feed, calendar, JSON document and page survives whatever was written."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import feedparser
import icalendar
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BASE = "/api/v1/pages/calltower"

# Fresh fixtures per test, shared by that test's examples: each example counts what it wrote.
SHARED = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# Text a hostile or careless user might send: any code point (surrogates, controls, bidi
# marks), with the troublesome ones made likely, and sometimes very long.
PIECES = list("\x00\x07\x08\x0b\x0c\x0e\x1b\x1f\x7f\r\n\t\x85\u2028\u2029\u202e\u200f\ufeff\ufffe")
PIECES += ["<script>alert(1)</script>", "]]>", "&amp;", "\\", ";", ",", "\r\n", "BEGIN:VEVENT"]


def hostile_text(chars: st.SearchStrategy[str], pieces: list[str]) -> st.SearchStrategy[str]:
    """Short mixes of any characters and troublesome pieces, or 10,000-character repeats."""
    piece = st.one_of(chars, st.sampled_from(pieces))
    short = st.lists(piece, max_size=40).map("".join)
    long = st.lists(piece, min_size=1, max_size=20).map(lambda p: ("".join(p) * 10_000)[:10_000])
    return st.one_of(short, long)


# Through JSON anything goes, unpaired surrogates included ("\ud800" is valid JSON).
TEXT = hostile_text(st.characters(), [*PIECES, "\ud800", "\udfff"])
# What a browser can send in a form and SQLite can store: anything but unpaired surrogates.
FORM_TEXT = hostile_text(st.characters(exclude_categories=["Cs"]), PIECES)


def assert_feeds_and_calendars_valid(client, platform_slug: str = "cisco") -> None:
    """Every feed parses as XML and in feedparser; every calendar in icalendar, with no CR
    but in a line ending; JSON parses; pages answer without a live script of ours."""
    for path in (
        "/history.rss",
        "/history.atom",
        "/maintenance.rss",
        f"/platforms/{platform_slug}/history.rss",
        f"/platforms/{platform_slug}/history.atom",
        f"/platforms/{platform_slug}/maintenance.rss",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        ElementTree.fromstring(response.data)
        parsed = feedparser.parse(response.data)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    for path in ("/maintenance.ics", f"/platforms/{platform_slug}/maintenance.ics"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not re.search(rb"\r(?!\n)|(?<!\r)\n", response.data), path
        assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", response.data), path
        icalendar.Calendar.from_ical(response.data)
    for path in ("/api/v2/summary.json", "/api/v2/incidents.json"):
        response = client.get(path)
        assert response.status_code == 200, path
        json.loads(response.data)
    for path in ("/", "/history", "/maintenance"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "<script>alert" not in response.get_data(as_text=True), path
