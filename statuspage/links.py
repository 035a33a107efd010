"""Links that open in their reader's language, wherever they are followed: a mail, a card, a
feed, a calendar. The site reads `?lang=` before anything else (`statuspage.i18n`)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_language(url: str, language: str) -> str:
    """`url` with `lang=<language>` in its query (replacing one there)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"]
    query.append(("lang", language))
    return urlunsplit(parts._replace(query=urlencode(query)))
