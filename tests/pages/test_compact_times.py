"""Compact times on pages: MT in the reader's language with UTC beside it, one line each,
written by `statuspage.moments` as mail, cards and feeds write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from statuspage.renderers.templating import format_span, format_when


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"):
        yield


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.usefixtures("ctx")
def test_a_moment_is_mt_with_utc_beside_it() -> None:
    html = str(format_when(at(2026, 12, 18, 20, 0)))
    assert 'datetime="2026-12-18T20:00:00Z"' in html
    assert "Fri, Dec 18, 13:00 MST" in html
    assert "· 20:00 UTC" in html  # same day: the date is not repeated
    assert html.count("2026") == 1  # the current year is left out of the words


@pytest.mark.usefixtures("ctx")
def test_a_window_across_midnight_names_both_days_once() -> None:
    html = str(format_span(at(2026, 12, 19, 5, 0), at(2026, 12, 19, 11, 0)))
    assert "Fri, Dec 18, 22:00 – Sat, Dec 19, 04:00 MST" in html
    assert "Sat, Dec 19, 05:00–11:00 UTC" in html
    assert 'data-until="2026-12-19T11:00:00Z"' in html


@pytest.mark.usefixtures("ctx")
def test_a_window_across_the_dst_change_names_both_zones() -> None:
    # 2027-03-14 02:00 MST -> 03:00 MDT
    html = str(format_span(at(2027, 3, 14, 8, 0), at(2027, 3, 14, 10, 30)))
    assert "Sun, Mar 14, 2027, 01:00–04:30 MST/MDT" in html
    assert "08:00–10:30 UTC" in html


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize(
    ("language", "words"),
    [("es", "vie, 18 dic, 22:00 MST"), ("de", "Fr., 18. Dez., 22:00 MST")],
)
def test_words_follow_the_language(language: str, words: str) -> None:
    with force_locale(language):
        assert words in str(format_when(at(2026, 12, 19, 5, 0)))
