"""Public reads: rendered once per change, HTTP caching, and no stale page after a write,
in this process and across processes on the same database."""

from __future__ import annotations

import gzip
import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from statuspage.models import DataVersion, Incident, MaintenanceWindow, Subscriber
from statuspage.queries import version as version_queries
from statuspage.services import incidents, maintenance, staff
from statuspage.views.caching import CACHE_CONTROL, render_cache
from tests.helpers import NOW, login, open_incident, token_headers
from tests.live import gunicorn
from tests.maintenance_fixtures import one_off

BASE_V1 = "/api/v1/pages/calltower"

PUBLIC = [
    "/",
    "/history",
    "/help",
    "/maintenance",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
    "/maintenance.ics",
    "/maintenance.rss",
    "/history.rss",
    "/history.atom",
    "/platforms/cisco/maintenance.ics",
    "/platforms/cisco/history.rss",
    "/platforms/cisco/history.atom",
    "/platforms/cisco/maintenance.rss",
    # the embed for other sites (tests/pages/test_embed.py)
    "/embed",
    "/embed?platforms=cisco,calltower-connect&theme=dark",
    "/embed.js",
    # the maintenance page's list view and filters (tests/maintenance/test_maintenance_pages.py)
    "/maintenance?view=list",
    "/maintenance?month=2027-01&platform=cisco&platform=calltower-connect&impact=with",
]


@pytest.fixture
def story(db, css):
    partial = {"cisco": "partial_outage"}
    opened = NOW - timedelta(hours=2)
    incident = open_incident(
        db, css, opened, "P3", title="Calls dropping in Phoenix", platforms=partial
    )
    incidents.resolve(db, css, incident, body="Fixed", now=NOW - timedelta(hours=1))
    # a window on Cisco for an hour, three hours from now
    later = {"starts_at": NOW + timedelta(hours=3), "ends_at": NOW + timedelta(hours=4)}
    window = one_off(db, css, title="Core router swap", **later)
    db.commit()
    return {"incident": incident.id, "window": window.id}


def all_paths(story) -> list[str]:
    return [*PUBLIC, f"/incidents/{story['incident']}", f"/maintenance/{story['window']}"]


def statements(app):
    seen: list[str] = []
    event.listen(app.extensions["sqlalchemy"].engine, "before_cursor_execute", _record(seen))
    return seen


def _record(seen):
    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    return listener


def test_every_public_response_has_validators_and_the_public_cache_policy(client, story):
    for path in all_paths(story):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == CACHE_CONTROL, path
        etag, weak = response.get_etag()
        assert etag and not weak, path
        assert response.last_modified is not None, path


def test_a_second_read_is_not_rendered_again_and_costs_one_statement(app, client, story):
    seen = statements(app)
    for path in all_paths(story):
        first = client.get(path)
        renders = render_cache().renders
        seen.clear()
        again = client.get(path)
        assert again.get_data() == first.get_data(), path
        assert render_cache().renders == renders, path
        assert len(seen) == 1 and "data_version" in seen[0], (path, seen)


def test_if_none_match_and_if_modified_since_answer_304_without_rendering(app, client, story):
    seen = statements(app)
    for path in all_paths(story):
        first = client.get(path)
        etag = first.headers["ETag"]
        render_cache().clear()
        renders = render_cache().renders
        seen.clear()
        by_etag = client.get(path, headers={"If-None-Match": etag})
        assert by_etag.status_code == 304 and by_etag.get_data() == b"", path
        assert by_etag.headers["ETag"] == etag
        assert len(seen) == 1, (path, seen)
        by_date = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert by_date.status_code == 304, path
        assert render_cache().renders == renders, path
        other = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and other.get_data() == first.get_data(), path


def test_gzip_is_served_to_who_accepts_it_with_its_own_etag(client, story):
    for path in all_paths(story):
        plain = client.get(path)
        zipped = client.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert zipped.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(zipped.get_data()) == plain.get_data(), path
        assert zipped.headers["ETag"] != plain.headers["ETag"]
        assert "Accept-Encoding" in zipped.headers["Vary"]
        assert "Content-Encoding" not in plain.headers


def test_nothing_stale_is_served_after_a_write(client, db, css, story):
    before = {path: client.get(path) for path in all_paths(story)}
    incident = db.get(Incident, story["incident"])
    incident.title = "Calls dropping in Tucson"
    window = db.get(MaintenanceWindow, story["window"])
    maintenance.change_window(db, css, window, title="Core switch swap", now=NOW)
    db.commit()
    for path, old in before.items():
        fresh = client.get(path, headers={"If-None-Match": old.headers["ETag"]})
        assert fresh.status_code == 200, path
        assert fresh.headers["ETag"] != old.headers["ETag"], path
    assert "Tucson" in client.get(f"/incidents/{story['incident']}").get_data(as_text=True)
    assert "Core switch swap" in client.get("/maintenance.ics").get_data(as_text=True)
    assert "Tucson" in client.get("/history.rss").get_data(as_text=True)


def test_a_windows_automatic_start_changes_the_page_and_summary_at_once(app, client, db, story):
    window = db.get(MaintenanceWindow, story["window"])
    start = window.starts_at
    app.config["FIXED_NOW"] = start - timedelta(minutes=1)
    upcoming = client.get("/api/v2/summary.json").get_json()
    assert [m["status"] for m in upcoming["scheduled_maintenances"]] == ["scheduled"]
    index = client.get("/")
    # The job starts the window at its moment; the very next read shows it in progress.
    app.config["FIXED_NOW"] = start
    maintenance.advance_windows(db, start)  # the scheduler's windows job
    db.commit()
    summary = client.get("/api/v2/summary.json").get_json()
    assert [m["status"] for m in summary["scheduled_maintenances"]] == ["in_progress"]
    assert summary["status"]["indicator"] == "maintenance"
    after = client.get("/", headers={"If-None-Match": index.headers["ETag"]})
    assert after.status_code == 200 and "Core router swap" in after.get_data(as_text=True)


def test_writes_that_no_page_shows_keep_the_cache(db, css, story):
    before = version_queries.current(db)
    db.add(
        Subscriber(
            address="reader@example.com",
            language="en",
            timezone="UTC",
            created_at=NOW,
            updated_at=NOW,
        )
    )
    db.commit()
    assert version_queries.current(db) == before
    incidents.create_incident(db, css, title="Shown", now=NOW)
    db.rollback()
    assert version_queries.current(db) == before
    incidents.create_incident(db, css, title="Shown", now=NOW)
    db.commit()
    after = version_queries.current(db)
    assert after.version == before.version + 1 and after.changed_at >= before.changed_at


def test_signed_in_staff_get_a_private_page_never_the_cached_one(app, client, db, admin, story):
    anonymous = client.get("/")
    assert "/admin/" not in anonymous.get_data(as_text=True)
    login(client, admin)
    staff_page = client.get("/")
    assert 'href="/admin/"' in staff_page.get_data(as_text=True)
    assert staff_page.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in staff_page.headers


def test_the_version_row_exists_after_migrations_and_create_all(db):
    assert db.scalar(select(DataVersion.version)) is not None


def test_a_write_in_one_process_is_seen_by_every_worker_of_another(app, db, db_url, css):
    plaintext, _ = staff.create_token(db, None, css, now=NOW)
    db.commit()
    headers = token_headers(plaintext)
    writer = app.test_client()
    with gunicorn(db_url, workers=2) as base:

        def read(path: str, etag: str | None = None) -> tuple[int, str, bytes]:
            request = urllib.request.Request(base + path)
            if etag:
                request.add_header("If-None-Match", etag)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, response.headers["ETag"], response.read()
            except urllib.error.HTTPError as error:
                if error.code == 304:
                    return 304, etag or "", b""
                raise

        status, etag, _ = read("/api/v2/summary.json")
        # Every worker has the page cached and answers the old ETag with 304.
        assert all(read("/api/v2/summary.json", etag)[0] == 304 for _ in range(6))
        for n in range(3):
            created = writer.post(
                f"{BASE_V1}/incidents",
                headers=headers,
                json={"incident": {"name": f"Outage {n}", "status": "investigating"}},
            )
            assert created.status_code == 201
            for _ in range(6):  # several reads, so that both workers answer
                status, new_etag, body = read("/api/v2/summary.json", etag)
                assert status == 200 and new_etag != etag
                names = [i["name"] for i in json.loads(body)["incidents"]]
                assert f"Outage {n}" in names
                assert read(f"/incidents/{created.get_json()['id']}")[0] == 200
            etag = new_etag


def test_a_staff_members_sign_ins_keep_the_cache_but_their_name_does_not(db, css, story):
    before = version_queries.current(db)
    css.session_version += 1
    db.commit()
    assert version_queries.current(db) == before
    css.name = "Casey from support"  # shown as the author of updates
    db.commit()
    assert version_queries.current(db).version == before.version + 1


def test_readers_arriving_together_wait_for_one_render(app, story):
    renders = render_cache().renders
    barrier = threading.Barrier(8)

    def read(_: int) -> bytes:
        client = app.test_client()
        barrier.wait()
        return client.get("/maintenance.ics").get_data()

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(read, range(8)))
    assert len(set(bodies)) == 1
    assert render_cache().renders == renders + 1
