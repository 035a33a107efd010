"""RSS 2.0 and Atom 1.0 feeds of incidents, their updates and maintenance.

Items come in already ordered newest first and are appended in that order. The feed's own
`updated` is the newest item's, never the render time, so unchanged data gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedInfo:
    title: str
    description: str
    link: str  # the HTML page the feed mirrors
    self_url: str  # the feed's own URL (atom:link rel="self")
    feed_id: str  # permanent id of the feed (Atom)
    language: str = "en"


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
    fg = FeedGenerator()
    fg.id(info.feed_id)
    fg.title(info.title)
    fg.description(info.description)
    fg.subtitle(info.description)
    # feedgen takes the RSS <link> from the last link added: the alternate must come last.
    fg.link(href=info.self_url, rel="self")
    fg.link(href=info.link, rel="alternate")
    fg.language(info.language)
    fg.generator(generator="Network Status")
    newest = max((i.updated for i in items), default=EPOCH)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    for item in items:
        entry = fg.add_entry(order="append")
        entry.id(item.guid)
        entry.guid(item.guid, permalink=False)
        entry.title(item.title)
        entry.link(href=item.link, rel="alternate")
        entry.description(item.html)
        entry.content(item.html, type="html")
        entry.published(item.published)
        entry.updated(item.updated)
        for category in item.categories:
            entry.category(term=category)
    return fg


def build_rss(info: FeedInfo, items: Sequence[FeedItem]) -> bytes:
    return _generator(info, items).rss_str(pretty=True)


def build_atom(info: FeedInfo, items: Sequence[FeedItem]) -> bytes:
    return _generator(info, items).atom_str(pretty=True)
