"""Every feed holds the elements RSS 2.0 and Atom (RFC 4287) require, read as plain XML.

feedparser forgives what a validator does not: these tests walk the XML with xml.etree and
check the required elements themselves, in every feed, for all platforms and for each.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from statuspage.models import Platform

ATOM = "{http://www.w3.org/2005/Atom}"


def feed_paths(db) -> list[str]:
    paths = ["/history.rss", "/history.atom", "/maintenance.rss"]
    for slug in db.scalars(select(Platform.slug).order_by(Platform.position)):
        base = f"/platforms/{slug}"
        paths += [f"{base}/history.rss", f"{base}/history.atom", f"{base}/maintenance.rss"]
    return paths


def fetch(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, path
    return ET.fromstring(response.data)


def text_of(parent: ET.Element, tag: str) -> str:
    found = parent.findall(tag)
    assert len(found) == 1, f"exactly one {tag} in {parent.tag}, found {len(found)}"
    value = (found[0].text or "").strip()
    assert value, f"{tag} in {parent.tag} is empty"
    return value


def check_rfc3339(value: str) -> None:
    assert "T" in value and (value.endswith("Z") or value[-6] in "+-"), value
    datetime.fromisoformat(value.replace("Z", "+00:00"))


def check_atom(root: ET.Element, path: str) -> int:
    assert root.tag == f"{ATOM}feed", path
    assert text_of(root, f"{ATOM}id").startswith("http"), path
    text_of(root, f"{ATOM}title")
    check_rfc3339(text_of(root, f"{ATOM}updated"))
    self_links = [
        link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"
    ]
    assert self_links == [f"http://localhost{path}"], path
    feed_authors = root.findall(f"{ATOM}author")
    for author in feed_authors:
        text_of(author, f"{ATOM}name")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        assert text_of(entry, f"{ATOM}id").startswith("http")
        text_of(entry, f"{ATOM}title")
        check_rfc3339(text_of(entry, f"{ATOM}updated"))
        authors = entry.findall(f"{ATOM}author")
        assert feed_authors or authors, f"an entry of {path} has no author, nor has the feed"
        for author in authors:
            text_of(author, f"{ATOM}name")
        contents = entry.findall(f"{ATOM}content")
        alternates = [
            link
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        assert contents or alternates, f"an entry of {path} has neither content nor link"
        if any(c.get("src") for c in contents):
            text_of(entry, f"{ATOM}summary")
    assert feed_authors, f"{path}: the feed carries its author (RFC 4287 4.1.1)"
    return len(entries)


def check_rss(root: ET.Element, path: str) -> int:
    assert root.tag == "rss" and root.get("version") == "2.0", path
    channels = root.findall("channel")
    assert len(channels) == 1
    channel = channels[0]
    text_of(channel, "title")
    assert text_of(channel, "link").startswith("http")
    text_of(channel, "description")
    self_links = [
        link.get("href") for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"
    ]
    assert self_links == [f"http://localhost{path}"], path
    items = channel.findall("item")
    for item in items:
        assert item.findtext("title") or item.findtext("description"), path
        assert text_of(item, "guid")
        if item.find("pubDate") is not None:
            parsedate_to_datetime(text_of(item, "pubDate"))
    return len(items)


def test_every_feed_holds_every_required_element(client, db, history):  # noqa: F811
    entries = 0
    for path in feed_paths(db):
        root = fetch(client, path)
        entries += check_atom(root, path) if path.endswith(".atom") else check_rss(root, path)
    assert entries > 0  # the rules were checked on entries, not only on empty feeds


@pytest.mark.parametrize("path", ["/history.atom", "/platforms/cisco/history.atom"])
def test_atom_feed_names_its_author(client, db, history, path):  # noqa: F811
    root = fetch(client, path)
    author = root.find(f"{ATOM}author")
    assert author is not None and author.findtext(f"{ATOM}name") == "CallTower Network Status"
    assert author.findtext(f"{ATOM}uri") == "http://localhost/"
