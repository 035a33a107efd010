"""RSS 2.0 and Atom feeds, read back by feedparser."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import feedparser

from statuspage.services import incidents
from tests.maintenance_fixtures import NOW


def parse(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    feed = feedparser.parse(response.data)
    assert not feed.bozo, (path, feed.get("bozo_exception"))
    return response, feed


def test_history_rss_is_valid_and_newest_first(client, history):
    _, master, other = history
    response, feed = parse(client, "/history.rss")
    assert response.mimetype == "application/rss+xml"
    assert feed.version == "rss20"
    self_links = [link.href for link in feed.feed.links if link.rel == "self"]
    assert self_links == ["http://localhost/history.rss"]
    dates = [parsedate_to_datetime(e.published) for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    ids = [e.id for e in feed.entries]
    assert f"http://localhost/incidents/{other.id}#update-{other.updates[0].id}" in ids
    assert any("Master case" in e.title for e in feed.entries)
    assert any(e.id.startswith("http://localhost/maintenance/") for e in feed.entries)
    assert len(ids) == len(set(ids))


def test_history_atom_is_valid(client, history):
    response, feed = parse(client, "/history.atom")
    assert response.mimetype == "application/atom+xml"
    assert feed.version == "atom10"
    assert feed.feed.id == "http://localhost/history.atom"
    assert all(e.id and e.updated for e in feed.entries)


def test_feed_bodies_are_sanitised(client, history):
    for path in ("/history.rss", "/history.atom"):
        body = client.get(path).data.decode()
        assert "<script>" not in body and "&lt;script&gt;" not in body
        assert "investigating" in body


def test_feeds_are_stable_across_requests(client, history):
    for path in (
        "/history.rss",
        "/history.atom",
        "/maintenance.rss",
        "/platforms/cisco/history.rss",
        "/platforms/cisco/maintenance.rss",
    ):
        assert client.get(path).data == client.get(path).data, path


def test_guid_of_an_update_survives_later_updates(client, db, css, history):
    _, master, _ = history
    _, before = parse(client, "/history.rss")
    first_ids = {e.id for e in before.entries}
    incidents.post_update(db, css, master, status="monitoring", body="Fix applied", now=NOW)
    db.commit()
    _, after = parse(client, "/history.rss")
    assert first_ids <= {e.id for e in after.entries}
    assert len(after.entries) == len(before.entries) + 1


def test_maintenance_feed_lists_windows_with_time_and_platforms(client, history):
    cal, _, _ = history
    _, feed = parse(client, "/maintenance.rss")
    entry = next(e for e in feed.entries if e.id.endswith(f"/maintenance/{cal.unscheduled.id}"))
    assert "Microsoft Teams" in entry.description
    assert "MST" in entry.title and "UTC" in entry.description
    assert "Justification" in entry.description


def test_platform_feeds_only_hold_that_platform(client, history):
    _, master, other = history
    _, feed = parse(client, "/platforms/calltower-connect/history.rss")
    links = {e.link for e in feed.entries}
    assert f"http://localhost/incidents/{other.id}" in links
    assert f"http://localhost/incidents/{master.id}" not in links
    _, maint = parse(client, "/platforms/skype-for-business/maintenance.rss")
    assert maint.entries and all("Skype for Business" in e.description for e in maint.entries)
    assert client.get("/platforms/nope/history.rss").status_code == 404
    assert client.get("/platforms/nope/maintenance.rss").status_code == 404
