"""The HTTP edge of the public pages: what a request may change in them.

Nobody outside the rules changes what customers see: a forged `Host` or `X-Forwarded-Host`
is refused and never reaches the shared render cache (absolute links come from
STATUSPAGE_URL); an unknown query parameter never costs a render and uncached renders are
limited per client; the language switch never links off the site; Unicode digits are not
numbers; the manage page is never stored or indexed; the server believes no forwarded header
that TRUSTED_PROXIES does not; and a public response is shared by everyone: it sets no
cookie and does not vary on one.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from datetime import timedelta
from typing import Any

import flask_babel
import pytest
from flask import Flask, request
from sqlalchemy import select

from statuspage import config, create_app
from statuspage.extensions import db as _db
from statuspage.models import Notice, Subscriber
from statuspage.seed.defaults import seed_platforms
from statuspage.server import EmbeddedServer
from statuspage.services import incidents
from statuspage.services.errors import row_id
from statuspage.services.subscriptions import links
from statuspage.views.caching import published, render_cache
from tests.helpers import NOW, SECRET_KEY, app_config, csrf_of, login, post_form
from tests.live import gunicorn
from tests.maintenance_fixtures import one_off

HOSTILE = "attacker.example"
# STATUSPAGE_URL of the test apps is http://localhost.
# The calendar's link names the site's host (a page in another language adds its `?lang=`).
CALENDAR = "webcal://localhost/maintenance.ics"
# The pages that offer the calendar subscription, in each way a reader picks a language.
OFFERING = [
    (path + query, headers)
    for path in ("/", "/maintenance")
    for query, headers in (
        ("", {}),
        ("?lang=es", {}),
        ("?lang=de", {}),
        ("", {"Accept-Language": "de-DE,de;q=0.9"}),
        ("", {"Accept-Language": "es"}),
    )
]


def forged(hops: int) -> dict[str, str]:
    """Headers naming a hostile host: the Host itself, or, behind a trusted proxy, the host
    the proxy says the client asked for."""
    if hops:
        return {"X-Forwarded-Host": HOSTILE, "X-Forwarded-For": "203.0.113.9"}
    return {"Host": HOSTILE}


@pytest.fixture
def make_app(db_url: str, tmp_path, made_apps: list[Flask]):
    """An app on the test database with some settings of its own, seeded; requests run in
    their own app context each (the locale is chosen afresh for every request)."""
    made = made_apps

    def make(**overrides: Any) -> Flask:
        app = create_app({**app_config(db_url, NOW), **overrides})
        app.instance_path = str(tmp_path / "instance")
        with app.app_context():
            if not made:
                _db.create_all()
                seed_platforms(_db.session, NOW)
                _db.session.commit()
            _db.session.remove()
        made.append(app)
        return app

    return make


# --- 1. A forged host never reaches the cached pages ------------------------------------


@pytest.mark.parametrize("hops", [0, 1], ids=["host", "x-forwarded-host"])
def test_a_hostile_host_is_refused_and_never_reaches_the_cached_pages(make_app, hops):
    client = make_app(TRUSTED_PROXIES=hops).test_client()
    refused = []
    for path, headers in OFFERING:
        hostile = client.get(path, headers={**headers, **forged(hops)})
        visitor = client.get(path, headers=headers)
        page = visitor.get_data(as_text=True)
        assert visitor.status_code == 200, path
        assert HOSTILE not in page, (path, headers)
        assert f'href="{CALENDAR}' in page, (path, headers)
        refused.append(hostile.status_code == 400 and HOSTILE not in hostile.get_data(as_text=True))
    assert all(refused)


def raw_get(base: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """A GET with exactly these headers (http.client sends the given Host as it is)."""
    parts = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        skip = "Host" in headers
        connection.putrequest("GET", path, skip_host=skip, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


@pytest.mark.parametrize("hops", [0, 1], ids=["host", "x-forwarded-host"])
def test_a_hostile_host_never_reaches_gunicorns_cached_pages(app, db_url, hops):
    # One worker: the hostile request and the visitor's meet the same render cache.
    with gunicorn(db_url, workers=1, env={"TRUSTED_PROXIES": str(hops)}) as base:
        refused = []
        for path, headers in OFFERING:
            hostile, body = raw_get(base, path, {**headers, **forged(hops)})
            status, page = raw_get(base, path, headers)
            assert status == 200, path
            assert HOSTILE not in page, (path, headers)
            assert f'href="{CALENDAR}' in page, (path, headers)
            refused.append(hostile == 400 and HOSTILE not in body)
    assert all(refused)


def test_a_trusted_alias_serves_links_of_the_site_address_only(make_app, db):
    app = make_app(EXTRA_TRUSTED_HOSTS="status-alt.example, .internal.example")
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    client = app.test_client()
    for base in ("http://status-alt.example", "http://web1.internal.example:8000"):
        for path in ("/", "/maintenance"):
            page = client.get(path, base_url=base)
            assert page.status_code == 200, (base, path)
            text = page.get_data(as_text=True)
            assert f'href="{CALENDAR}' in text and "example" not in CALENDAR
            assert "status-alt" not in text and "internal.example" not in text
    alias = "http://status-alt.example"
    form = client.get("/subscribe", base_url=alias).get_data(as_text=True)
    token = csrf_of(form)
    added = client.post(
        "/subscribe",
        base_url=alias,
        data={
            "csrf_token": token,
            "channel": "teams",
            "teams_url": "http://127.0.0.1:9/hooks/abcdefghijklmnopqrstuvwxyz",
            "platforms": ["cisco"],
            "incidents": "y",
            "language": "en",
            "timezone": "America/Denver",
        },
    )
    assert added.status_code == 200
    text = added.get_data(as_text=True)
    assert "http://localhost/subscriptions/manage/" in text and "status-alt" not in text
    with app.app_context():
        subscriber = _db.session.scalar(select(Subscriber))
        manage = links.manage_path(SECRET_KEY, subscriber)
    personal = client.get(manage, base_url=alias).get_data(as_text=True)
    assert "status-alt" not in personal


def test_trusted_hosts_are_the_sites_own_plus_loopback_for_a_loopback_site_plus_extras():
    assert config.trusted_hosts("https://status.example.com", "") == ["status.example.com"]
    assert config.trusted_hosts("https://status.example.com:8443/", "a.example b.example,") == [
        "status.example.com",
        "a.example",
        "b.example",
    ]
    for loopback in ("http://127.0.0.1:5000", "http://localhost", "http://[::1]:8000"):
        hosts = config.trusted_hosts(loopback, "")
        assert {"localhost", "127.0.0.1", "[::1]"} <= set(hosts), loopback


def test_an_unknown_host_is_refused_on_every_kind_of_page(make_app):
    client = make_app(STATUSPAGE_URL="https://status.example.com").test_client()
    for path in ("/", "/api/v2/summary.json", "/subscribe", "/login", "/nope", "/healthz"):
        assert client.get(path).status_code == 400, path  # the test client says "localhost"
        ok = client.get(path, base_url="https://status.example.com")
        assert ok.status_code in (200, 404), path


# --- 2. Unknown query parameters cost nothing; uncached renders are limited ------------


PUBLISHED = [
    "/",
    "/history",
    "/history?page=1",
    "/help",
    "/maintenance",
    "/maintenance?view=list",
    "/embed?platforms=cisco",
    "/embed.js",
    "/api/v2/summary.json",
    "/maintenance.ics",
    "/history.rss",
]


def test_unknown_query_parameters_share_the_pages_render(client):
    for path in PUBLISHED:
        first = client.get(path)
        assert first.status_code == 200, path
        renders = render_cache().renders
        joiner = "&" if "?" in path else "?"
        for n in range(3):
            again = client.get(f"{path}{joiner}cb={n}&utm_source=x{n}")
            assert again.status_code == 200, path
            assert again.headers["ETag"] == first.headers["ETag"], path
            assert again.get_data() == first.get_data(), path
        assert render_cache().renders == renders, path


def test_repeated_or_reordered_parameters_share_a_render(client, db):
    slugs = "platform=cisco&platform=calltower-connect"
    first = client.get(f"/maintenance?{slugs}")
    renders = render_cache().renders
    for query in (
        "platform=calltower-connect&platform=cisco",
        f"{slugs}&platform=cisco",
    ):
        again = client.get(f"/maintenance?{query}")
        assert again.get_data() == first.get_data(), query
    once = client.get("/history?page=1").get_data()
    assert client.get("/history?page=1&page=2").get_data() == once  # the first page is read
    assert client.get("/history?cb=2&page=1").get_data() == once
    assert render_cache().renders == renders + 1  # /history?page=1 once


def test_a_published_view_reads_only_the_parameters_it_declares(own_app):
    app, client = own_app, own_app.test_client()

    @app.get("/probe")
    @published(params=("a",), repeatable=("b",))
    def probe() -> str:
        return repr(sorted(request.args.items(multi=True)))

    body = client.get("/probe?a=1&a=2&b=y&b=x&b=y&c=3&lang=de").get_data(as_text=True)
    assert body == repr([("a", "1"), ("b", "x"), ("b", "y"), ("lang", "de")])
    # A language the site does not speak is no parameter at all.
    assert "zz" not in client.get("/probe?lang=zz").get_data(as_text=True)


def test_uncached_renders_are_limited_per_client_and_cached_reads_are_free(app, client, db):
    app.config.update(RATELIMIT_ENABLED=True, PUBLIC_RENDER_LIMIT="5 per minute")
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert other.get("/").status_code == 200  # rendered by someone else
    for _ in range(20):  # cached reads cost nothing
        assert client.get("/").status_code == 200
    # Five renders: pages past the last one (404, never cached, each rendered).
    codes = [client.get(f"/history?page={n}").status_code for n in range(100, 106)]
    assert codes == [404] * 5 + [429]
    refused = client.get("/history?page=200")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert client.get("/").status_code == 200  # a cached page is still served
    assert client.get("/history?page=100", headers={"If-None-Match": '"x"'}).status_code == 429
    assert other.get("/history?page=300").status_code == 404  # another client's budget


# --- 3. The language switch stays on this site -----------------------------------------


def language_links(html: str) -> list[str]:
    nav = re.search(r'<nav class="languages".*?</nav>', html, re.S).group(0)
    return re.findall(r'href="([^"]*)"', nav)


@pytest.mark.parametrize(
    "path_info",
    ["/\\evil.example/", "//evil.example/", "/\\/evil.example", "///evil.example/x?lang=de"],
)
def test_the_language_switch_on_an_error_page_stays_on_this_site(client, path_info):
    assert client.get("/%5Cevil.example/").status_code == 404  # as a browser sends it
    # The path as the server hands it to the app, whatever a client library makes of it.
    response = client.get("/", environ_overrides={"PATH_INFO": path_info})
    assert response.status_code == 404
    links = language_links(response.get_data(as_text=True))
    assert links == ["/?lang=en", "/?lang=es", "/?lang=de"], links


def test_the_language_switch_is_built_from_the_route_and_its_declared_query(client, db, css):
    incident = incidents.create_incident(db, css, title="Calls dropping", now=NOW)
    db.commit()
    page = client.get(f"/incidents/{incident.id}?lang=es&x=%5C%5Cevil").get_data(as_text=True)
    assert language_links(page) == [
        f"/incidents/{incident.id}?lang={c}" for c in ("en", "es", "de")
    ]
    flask_babel.refresh()
    history = client.get("/history?platform=cisco&cb=1").get_data(as_text=True)
    assert language_links(history) == [
        f"/history?platform=cisco&amp;lang={c}" for c in ("en", "es", "de")
    ]


# --- 4. Unicode digits are not numbers ---------------------------------------------------


@pytest.mark.parametrize(
    "path, status",
    [
        ("/history?page=²", 400),
        ("/history?page=１", 400),
        ("/incidents/²", 404),
        ("/incidents/１", 404),
        ("/maintenance/²", 404),
        ("/maintenance/٣", 404),
        ("/maintenance?month=２０２６-１２", 400),
        ("/subscribe?incident=²", 200),
        ("/api/v2/incidents/²", 404),
    ],
)
def test_unicode_digits_are_refused_never_a_500(client, db, css, path, status):
    incidents.create_incident(db, css, title="Number one", now=NOW)
    db.commit()
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert "Number one" not in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["²", "１", "٣"])
def test_staff_list_pages_take_ascii_page_numbers_only(client, db, admin, page):
    incident = incidents.create_incident(db, admin, title="Number one", now=NOW)
    db.commit()
    notice = db.scalar(select(Notice).where(Notice.incident_id == incident.id))
    login(client, admin)
    for path in ("/admin/audit", "/admin/subscribers/", f"/admin/notices/{notice.id}"):
        assert client.get(f"{path}?page=2").status_code == 200, path
        assert client.get(f"{path}?page={page}").status_code == 400, path


def test_an_id_is_ascii_digits_only():
    assert row_id("42") == 42
    for raw in ("²", "１", "٣", "4²", "", "-1", "0", " 1"):
        assert row_id(raw) is None, raw


# --- 5. Secret pages, forwarded headers, shared responses -------------------------------


def test_pages_behind_a_secret_link_are_neither_stored_nor_indexed(app, client, db):
    reader = {"email": "reader@example.com", "platforms": ["cisco"], "incidents": "y"}
    post_form(client, "/subscribe", reader, language="en", timezone="America/Denver")
    subscriber = db.scalar(select(Subscriber))
    confirm = db.scalar(select(Notice)).payload["confirm_url"]
    secret = app.config["SECRET_KEY"]
    paths = [
        urllib.parse.urlsplit(confirm).path,
        links.manage_path(secret, subscriber),
        links.unsubscribe_path(secret, subscriber),
    ]
    for path in paths:
        for response in (client.get(path), client.get(path + "?lang=de")):
            assert response.status_code == 200, path
            assert response.headers["Cache-Control"] == "no-store", path
            assert response.headers["X-Robots-Tag"] == "noindex, nofollow", path
    saved = client.post(paths[1], data={"language": "de", "timezone": "UTC"})
    assert saved.headers["Cache-Control"] == "no-store"
    assert saved.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_gunicorn_believes_no_forwarded_header_without_trusted_proxies(app, db_url):
    spoofed = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"}
    with gunicorn(db_url, workers=1) as base:
        parts = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.request("GET", "/login", headers=spoofed)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
    assert response.status == 200
    # From 127.0.0.1 too: only TRUSTED_PROXIES decides whom to believe.
    assert response.getheader("Strict-Transport-Security") is None


def test_the_embedded_server_believes_no_forwarded_header_either():
    def no_app() -> Flask:
        raise AssertionError("the app is only loaded in a worker")

    cfg = EmbeddedServer(no_app, bind="127.0.0.1:0", scheduler=False).cfg
    assert cfg.secure_scheme_headers == {}
    assert cfg.forwarded_allow_ips == []
    assert cfg.forwarder_headers == []


def test_lang_on_a_public_page_sets_no_cookie_and_is_carried_by_its_links(client):
    response = client.get("/?lang=de")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="de">' in html
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"].startswith("public")
    assert 'href="/maintenance?lang=de"' in html and 'href="/history?lang=de"' in html
    assert 'href="/subscribe?lang=de"' in html and 'href="/?lang=de"' in html
    maintenance = client.get("/maintenance?lang=de").get_data(as_text=True)
    assert re.search(r'href="\?month=\d{4}-\d{2}&amp;lang=de" rel="next"', maintenance)
    assert '<input type="hidden" name="lang" value="de">' in maintenance
    flask_babel.refresh()
    english = client.get("/").get_data(as_text=True)  # nothing remembered for the next reader
    assert '<html lang="en">' in english and 'href="/maintenance">' in english


def test_public_responses_do_not_vary_on_cookie_and_ignore_a_language_cookie(client):
    client.set_cookie("lang", "de")
    for path in ("/", "/maintenance", "/history", "/embed", "/history.rss"):
        response = client.get(path)
        flask_babel.refresh()
        assert "Cookie" not in response.headers.get("Vary", ""), path
        assert "Accept-Language" in response.headers["Vary"], path
        if path != "/history.rss":
            assert '<html lang="en"' in response.get_data(as_text=True), path
    spanish = client.get("/", headers={"Accept-Language": "es"})
    assert '<html lang="es">' in spanish.get_data(as_text=True)


def test_a_language_chosen_on_a_private_page_is_remembered_there_privately(client):
    chosen = client.get("/subscribe?lang=de")
    assert "lang=de" in chosen.headers["Set-Cookie"]
    assert "public" not in chosen.headers.get("Cache-Control", "")
    flask_babel.refresh()
    assert '<html lang="de">' in client.get("/subscribe").get_data(as_text=True)
    flask_babel.refresh()
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


def test_a_window_page_carries_the_language_too(client, db, css):
    window = one_off(db, css, title="Core router swap", starts_at=NOW + timedelta(hours=3))
    db.commit()
    page = client.get(f"/maintenance/{window.id}?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in page and 'href="/maintenance?lang=es"' in page
