"""Pages outlive the database: while it cannot be reached every published read serves its
last render, marked stale; a read with no render and any write answer 503 with Retry-After,
never 500. And no reader waits on a render that replaces an older one.

"Unreachable" is made here by failing every statement as a dropped connection fails it (the
driver's own OperationalError, so SQLAlchemy treats it as a disconnect); a real restart of
PostgreSQL under load is tests/operations/test_outage_restart.py.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import flask_babel
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from statuspage.queries import platforms as platform_queries
from statuspage.services import incidents, staff
from statuspage.views.caching import STALE_HEADER, render_cache
from tests.helpers import NOW, csrf_of, open_incident, token_headers
from tests.maintenance_fixtures import one_off
from tests.outage import outage

BASE_V1 = "/api/v1/pages/calltower"
STALE_LINE = b'<p class="flash stale-notice" role="status">'


@contextmanager
def unreachable(
    app: Flask, *, unless: Callable[[str], bool] = lambda statement: False
) -> Iterator[None]:
    """Every statement (but those `unless` lets through) fails as on a dropped connection."""
    with outage(lambda statement: not unless(statement)):
        yield


@pytest.fixture
def story(db, css):
    at = NOW - timedelta(hours=2)
    incident = open_incident(
        db, css, at, title="Calls dropping in Phoenix", platforms={"cisco": "partial_outage"}
    )
    swap = {"starts_at": NOW + timedelta(hours=3), "ends_at": NOW + timedelta(hours=4)}
    window = one_off(db, css, title="Core router swap", **swap)
    db.commit()
    return {"incident": incident.id, "window": window.id}


def read(client: FlaskClient, path: str, **kwargs: object) -> TestResponse:
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    return client.get(path, **kwargs)


def pages(story) -> list[str]:
    return [
        "/",
        f"/incidents/{story['incident']}",
        "/history",
        "/maintenance",
        f"/maintenance/{story['window']}",
        "/embed",
        "/?lang=es",
    ]


MACHINE_READS = ["/api/v2/summary.json", "/history.rss", "/history.atom", "/maintenance.ics"]


def without_line(body: bytes) -> bytes:
    start = body.index(STALE_LINE)
    end = body.index(b"</p>", start) + len(b"</p>")
    assert body[start - 1 : start] == b"\n"
    return body[: start - 1] + body[end:]


def test_published_reads_serve_their_last_render_marked_stale_while_the_database_is_away(
    app, client, story
):
    normal = {path: read(client, path) for path in [*pages(story), *MACHINE_READS]}
    assert all(r.status_code == 200 for r in normal.values())
    with unreachable(app):
        for path, before in normal.items():
            stale = read(client, path)
            assert stale.status_code == 200, path
            assert stale.headers[STALE_HEADER] == "2026-11-20T15:00:00+00:00", path
            assert stale.headers["Cache-Control"] == "no-cache", path
            assert "ETag" not in stale.headers and "Last-Modified" not in stale.headers, path
            body = stale.get_data()
            if before.content_type.startswith("text/html"):
                # The page as rendered, with one line saying as of when.
                assert body.count(STALE_LINE) == 1, path
                assert without_line(body) == before.get_data(), path
                zipped = read(client, path, headers={"Accept-Encoding": "gzip"})
                assert zipped.headers["Content-Encoding"] == "gzip"
                assert gzip.decompress(zipped.get_data()) == body, path
            else:
                assert body == before.get_data(), path


def test_the_stale_line_names_the_time_in_the_readers_language(app, client, story):
    for path in ("/?lang=es", "/?lang=de", "/"):
        read(client, path)
    with unreachable(app):
        english = read(client, "/").get_data(as_text=True)
        spanish = read(client, "/?lang=es").get_data(as_text=True)
        german = read(client, "/?lang=de").get_data(as_text=True)
    assert "This page shows the information as of" in english
    assert "Esta página muestra la información de" in spanish
    assert "Diese Seite zeigt den Stand von" in german
    # The moment, as every other moment on the page: Mountain Time with UTC beside it.
    assert 'datetime="2026-11-20T15:00:00Z"' in english


def test_a_read_with_no_render_answers_503_with_retry_after_never_500(app, client, story):
    with unreachable(app):
        page = client.get("/")
        api = client.get("/api/v2/summary.json")
        form = client.get("/subscribe")
        calendar = client.get("/maintenance.ics")
    for response in (page, api, form, calendar):
        assert response.status_code == 503, response.request.path
        assert response.headers["Retry-After"] == "5"
    assert api.get_json() == {"error": "service unavailable"}
    assert "briefly unavailable" in page.get_data(as_text=True)


def test_a_write_answers_503_with_retry_after_while_the_database_is_away(app, client, db, css):
    plaintext, _ = staff.create_token(db, None, css, now=NOW)
    db.commit()
    form = client.get("/subscribe").get_data(as_text=True)
    token = csrf_of(form)
    with unreachable(app):
        created = client.post(
            f"{BASE_V1}/incidents",
            headers=token_headers(plaintext),
            json={"incident": {"name": "Outage", "status": "investigating"}},
        )
        subscribed = client.post(
            "/subscribe",
            data={"csrf_token": token, "email": "a@example.com", "platforms": ["cisco"]},
        )
    assert created.status_code == 503 and created.headers["Retry-After"] == "5"
    assert created.get_json() == {"error": "service unavailable"}
    assert subscribed.status_code == 503 and subscribed.headers["Retry-After"] == "5"


def test_a_commit_the_database_cannot_take_answers_503_with_retry_after(app, client, db, css):
    plaintext, _ = staff.create_token(db, None, css, now=NOW)
    db.commit()
    # Everything reads and flushes; the commit's last statement (the version bump) is refused
    # as a dropped connection refuses it.
    with unreachable(app, unless=lambda statement: "UPDATE data_version" not in statement):
        created = client.post(
            f"{BASE_V1}/incidents",
            headers=token_headers(plaintext),
            json={"incident": {"name": "Outage", "status": "investigating"}},
        )
    assert created.status_code == 503 and created.headers["Retry-After"] == "5"


def test_a_render_that_loses_the_database_midway_serves_the_last_render(app, client, story):
    before = client.get("/")
    # A new minute: the key changes, the version read works, the render's reads fail.
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=1)
    with unreachable(app, unless=lambda statement: "data_version" in statement):
        stale = client.get("/")
    assert stale.status_code == 200
    assert without_line(stale.get_data()) == before.get_data()
    assert stale.headers[STALE_HEADER] == "2026-11-20T15:00:00+00:00"


def test_once_the_database_is_back_pages_are_served_as_rendered(app, client, db, css, story):
    before = client.get("/")
    with unreachable(app):
        assert client.get("/").headers[STALE_HEADER]
    again = client.get("/")
    assert STALE_HEADER not in again.headers
    assert again.get_data() == before.get_data() and again.headers["ETag"] == before.headers["ETag"]
    incidents.create_incident(db, css, title="Calls failing in Denver", now=NOW)
    db.commit()
    fresh = client.get("/")
    assert "Calls failing in Denver" in fresh.get_data(as_text=True)
    assert STALE_HEADER not in fresh.headers


def test_the_as_of_time_is_when_the_page_was_last_known_current(app, client, story):
    client.get("/history.rss")
    # The same render, found current again five minutes later: it was current then.
    later = NOW + timedelta(minutes=5)
    app.config["FIXED_NOW"] = later
    client.get("/history.rss")
    with unreachable(app):
        stale = client.get("/history.rss")
    assert stale.headers[STALE_HEADER] == "2026-11-20T15:05:00+00:00"


def held_renders(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Renders of the home page wait, once they have started, until they are released:
    the events (started, release)."""
    started, release = threading.Event(), threading.Event()
    real = platform_queries.page_status

    def slow(*args, **kwargs):
        started.set()
        assert release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(platform_queries, "page_status", slow)
    return started, release


def test_a_new_minute_is_rendered_by_one_thread_while_the_others_serve_the_previous_page(
    app, story, monkeypatch
):
    first = app.test_client().get("/")
    renders = render_cache().renders
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=1)
    started, release = held_renders(monkeypatch)
    rendered: list[bytes] = []
    renderer = threading.Thread(
        target=lambda: rendered.append(app.test_client().get("/").get_data())
    )
    renderer.start()
    try:
        assert started.wait(10)
        # Meanwhile: the previous minute's page at once, with its own validators.
        meanwhile = [app.test_client().get("/") for _ in range(3)]
    finally:
        release.set()
        renderer.join(10)
    for response in meanwhile:
        assert response.status_code == 200 and STALE_HEADER not in response.headers
        assert response.get_data() == first.get_data()
        assert response.headers["ETag"] == first.headers["ETag"]
        assert response.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert render_cache().renders == renders + 1
    after = app.test_client().get("/")
    assert after.get_data() == rendered[0] and after.headers["ETag"] != first.headers["ETag"]


def test_a_page_never_rendered_still_makes_its_readers_wait_for_its_first_render(
    app, story, monkeypatch
):
    renders = render_cache().renders
    started, release = held_renders(monkeypatch)
    bodies: list[bytes] = []

    def read() -> None:
        bodies.append(app.test_client().get("/").get_data())

    readers = [threading.Thread(target=read) for _ in range(3)]
    readers[0].start()
    assert started.wait(10)
    for reader in readers[1:]:
        reader.start()
    release.set()
    for reader in readers:
        reader.join(10)
    assert len(bodies) == 3 and len(set(bodies)) == 1
    assert render_cache().renders == renders + 1
