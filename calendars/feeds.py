"""RSS 2.0 and Atom 1.0 feeds of incidents, their updates and maintenance.

Items come in already ordered newest first and are appended in that order. The feed's own
`updated` is the newest item's, never the render time, so unchanged data gives the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# What XML 1.0 cannot carry: C0 controls but tab, LF and CR; surrogates; U+FFFE, U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` without the characters XML cannot carry, whatever a stored row holds.

    lxml refuses them outright, which would make the feed fail for every reader; CR is
    turned into LF, as an XML parser would read it anyway.
    """
    return _NOT_XML.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class FeedInfo:
    title: str
    description: str
    link: str  # the HTML page the feed mirrors
    self_url: str  # the feed's own URL (atom:link rel="self")
    feed_id: str  # permanent id of the feed (Atom)
    language: str = "en"
    # RFC 4287 wants an author on the feed or on every entry: the feed's, who publishes it.
    author: str = ""  # the title when empty
    author_uri: str = ""


@dataclass(frozen=True)
class FeedItem:
    guid: str  # permanent: never changes for the same incident update or window
    title: str
    link: str
    html: str  # already sanitised HTML
    published: datetime
    updated: datetime
    categories: Sequence[str] = ()


def _generator(info: FeedInfo, items: Sequence[FeedItem]) -> FeedGenerator:
    x = xml_text
    fg = FeedGenerator()
    fg.id(x(info.feed_id))
    fg.title(x(info.title))
    fg.description(x(info.description))
    fg.subtitle(x(info.description))
    # feedgen takes the RSS <link> from the last link added: the alternate must come last.
    fg.link(href=x(info.self_url), rel="self")
    fg.link(href=x(info.link), rel="alternate")
    fg.language(x(info.language))
    author = {"name": x(info.author) or x(info.title) or "Network Status"}
    if info.author_uri:
        author["uri"] = x(info.author_uri)
    fg.author(author)  # no email: RSS takes only an email address, so it gets none
    fg.generator(generator="Network Status")
    newest = max((i.updated for i in items), default=EPOCH)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(x(item.guid))
        entry.guid(x(item.guid), permalink=False)
        entry.title(x(item.title))
        entry.link(href=x(item.link), rel="alternate")
        entry.description(x(item.html))
        entry.content(x(item.html), type="html")
        entry.published(item.published)
        entry.updated(item.updated)
        for category in filter(None, map(x, item.categories)):
            entry.category(term=category)
    return fg


def build_rss(info: FeedInfo, items: Sequence[FeedItem]) -> bytes:
    feed: bytes = _generator(info, items).rss_str(pretty=True)
    return feed


def build_atom(info: FeedInfo, items: Sequence[FeedItem]) -> bytes:
    feed: bytes = _generator(info, items).atom_str(pretty=True)
    return feed
