"""Markdown to safe HTML, used everywhere a body is shown (page, feeds, calendar, email)."""

from __future__ import annotations

import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render(text: str | None) -> Markup:
    """Render Markdown and sanitise the result: no raw HTML, no script, no javascript: links."""
    return Markup(_render(text or ""))


# A pure function of the text: the windows of a calendar or a feed are rendered again after
# every change to any of them, and most of their texts are the same as last time.
@lru_cache(maxsize=2048)
def _render(text: str) -> str:
    html = _md.render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return clean


def plain(text: str | None) -> str:
    """The text of rendered Markdown without tags, for plain-text email and summaries."""
    if not text or not text.strip():
        return ""
    return _plain(text)


@lru_cache(maxsize=2048)
def _plain(text: str) -> str:
    return html.unescape(nh3.clean(_render(text), tags=set())).strip()


def calendar_text(text: str | None) -> str:
    """Plain text for calendar entries. Some calendar clients read HTML in a description,
    so no angle bracket survives: they become look-alike quotation marks."""
    return plain(text).replace("<", "\u2039").replace(">", "\u203a")
