"""The embed for other sites: /embed (for an iframe) and /embed.js (the host page's script).

What it shows per platform filter and language, the master case marked, the ETR; its
headers (framed by FRAME_ANCESTORS only, the render cache's validators and 304s); bad
parameters answered 400/404 with a message; and, in chromium, a plain page on another
origin showing it through the snippet. Also the favicon.
"""

from __future__ import annotations

import html
import os
import re
from datetime import date, timedelta

import flask_babel
import pytest

from statuspage.models import Incident
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from statuspage.views.caching import CACHE_CONTROL, render_cache
from tests.browser_checks import CHROMIUM, chromium, other_site
from tests.helpers import NOW, PROJECT_ROOT, master_case, open_incident
from tests.live import serve
from tests.maintenance_fixtures import one_off

ROOT = str(PROJECT_ROOT)
SCREENSHOTS = os.path.join(ROOT, "test-artefacts", "screenshots")
AXE = os.path.join(ROOT, "tests", "js", "node_modules", "axe-core", "axe.min.js")
ETR = NOW + timedelta(hours=3)
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def story(db, css):
    """A master case on Teams (with an ETR), an incident on Cisco, a resolved one on
    Connect, the seeded series (the weekly certificate update), a one-off window on Cisco in
    progress and a Connect release in five days."""
    master = master_case(
        db,
        css,
        case_number="CS-2041",
        title="Inbound calls failing",
        body="",
        now=NOW - 40 * MINUTE,
    )
    incidents.post_update(
        db, css, master, body="Carrier is rerouting.", etr=ETR, now=NOW - timedelta(minutes=10)
    )
    # Two minor incidents, the older one (on Connect) resolved a day ago.
    minor: dict[str, Incident] = {}
    for title, slug, opened in (
        ("Jabber sign-in slow", "cisco", NOW - 20 * MINUTE),
        ("Portal reports late", "calltower-connect", NOW - timedelta(days=2)),
    ):
        fields = {"impact": "minor", "platforms": {slug: "degraded_performance"}}
        minor[slug] = open_incident(db, css, opened, "P3", title=title, body="", **fields)
    incidents.resolve(db, css, minor["calltower-connect"], body="Fixed.", now=NOW - 24 * HOUR)
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    window = one_off(
        db,
        css,
        title="Core router swap",
        starts_at=NOW - 30 * MINUTE,
        ends_at=NOW + 2 * HOUR,
        description="Swap",
        justification="Old hardware",
        urgency="The vendor's support ends tonight",
        now=NOW - HOUR,
    )
    maintenance.set_window_status(db, css, window, "in_progress", NOW - 30 * MINUTE)
    one_off(
        db,
        css,
        title="Connect release 4.2",
        starts_at=NOW + timedelta(days=5),
        ends_at=NOW + timedelta(days=5, hours=2),
        platforms=["calltower-connect"],
        description="New dashboard",
        justification="Sprint release",
        urgency="The release train leaves that day",
        impact="none",
        now=NOW - HOUR,
    )
    db.commit()
    return {"master": master.id}


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


# --- content -------------------------------------------------------------------------------


def test_all_platforms_show_every_open_incident_and_maintenance(client, story):
    response = client.get("/embed?lang=en")
    assert response.status_code == 200
    text = text_of(response)
    assert "Inbound calls failing" in text and "Jabber sign-in slow" in text
    assert "Portal reports late" not in text  # resolved
    assert "Core router swap" in text  # in progress
    assert "Connect release 4.2" in text  # within 14 days
    # the master case comes first
    assert text.index("Inbound calls failing") < text.index("Jabber sign-in slow")


def test_a_platform_filter_narrows_incidents_and_windows(client, story):
    text = text_of(client.get("/embed?platforms=calltower-connect&lang=en"))
    assert "Connect release 4.2" in text
    assert "Jabber sign-in slow" not in text and "Core router swap" not in text
    assert "Skype for Business certificate update" not in text
    # a master case is global: every embed carries it
    assert "Inbound calls failing" in text
    assert "CallTower Connect: Operational" in text

    cisco = text_of(client.get("/embed?platforms=cisco,%20skype-for-business&lang=en"))
    assert "Jabber sign-in slow" in cisco and "Core router swap" in cisco
    assert "Skype for Business certificate update" in cisco
    assert "Connect release 4.2" not in cisco


def test_nothing_to_report_says_so(client, db):
    text = text_of(client.get("/embed?platforms=contact-centre&lang=en"))
    assert "No open incidents and no maintenance in the next 14 days." in text
    assert "Contact Centre: Operational" in text


def test_the_master_case_is_marked_with_its_etr_and_case_number(client, story):
    response = client.get("/embed?platforms=microsoft-teams&lang=en")
    body = response.get_data(as_text=True)
    item = re.search(r'<li class="embed-incident[^"]*master-case[^"]*">(.*?)</li>', body, re.S)
    assert item is not None
    text = html.unescape(re.sub(r"<[^>]+>", " ", item.group(1)))
    assert "Master case (P1G)" in text
    assert "CS-2041" in text
    assert "Estimated time of resolution" in text
    assert 'datetime="2026-11-20T18:00:00Z"' in item.group(1)  # the ETR, NOW + 3 h
    # the ordinary incident has no ETR: it says when it was last updated
    other = text_of(client.get("/embed?platforms=cisco&lang=en"))
    assert other.count("Estimated time of resolution") == 1


def _master_case_without_etr(db, css, opened) -> None:
    """A master case on Cisco (partial outage), opened at `opened`, that gives no ETR."""
    partial = {"cisco": "partial_outage"}
    master_case(
        db, css, case_number="CS-7", title="Fax gateway down", platforms=partial, now=opened
    )


def test_a_master_case_without_etr_shows_its_hourly_update_clock(client, db, css):
    _master_case_without_etr(db, css, NOW - timedelta(minutes=40))
    text = text_of(client.get("/embed?platforms=cisco&lang=en"))
    assert "Next update due Fri, Nov 20, 08:20 MST" in text  # an hour after, in MT
    assert "Estimated time of resolution" not in text


def test_an_overdue_master_case_says_so(client, db, css):
    _master_case_without_etr(db, css, NOW - timedelta(hours=2))
    body = client.get("/embed?lang=en").get_data(as_text=True)
    assert 'class="embed-etr embed-overdue"' in body
    assert "Update overdue" in text_of(client.get("/embed?lang=en"))


def test_every_link_opens_the_status_page_in_a_new_tab(client, story):
    body = client.get("/embed?lang=de").get_data(as_text=True)
    links = re.findall(r"<a\s[^>]*>", body)
    assert len(links) >= 5
    for link in links:
        assert 'target="_blank"' in link and 'rel="noopener"' in link, link
    assert f'href="/incidents/{story["master"]}?lang=de"' in body  # in the embed's language


@pytest.mark.parametrize(
    ("header", "query", "words"),
    [
        ("es", "", ("Caso maestro (P1G)", "Incidentes abiertos", "Investigando")),
        ("en", "lang=de", ("Offene Vorfälle", "Wartung", "Hauptfall (P1G)")),
        ("de-DE,de;q=0.9", "", ("Offene Vorfälle",)),
        ("en-US", "", ("Master case (P1G)", "Open incidents", "Investigating")),
    ],
)
def test_the_readers_language(client, story, header, query, words):
    response = client.get(f"/embed?{query}", headers={"Accept-Language": header})
    text = text_of(response)
    for word in words:
        assert word in text, (word, text[:400])


def test_themes_and_accent(client, story):
    light = client.get("/embed?theme=light&accent=0645AD").get_data(as_text=True)
    assert 'class="embed theme-light accent-text-light"' in light
    assert 'data-accent="#0645ad"' in light
    # a pale accent is too faint for text on white: the stripe only (and links in dark)
    pale = client.get("/embed?theme=auto&accent=%23ffd").get_data(as_text=True)
    assert 'class="embed theme-auto accent-text-dark"' in pale
    assert 'data-accent="#ffffdd"' in pale
    dark = client.get("/embed?theme=dark").get_data(as_text=True)
    assert 'class="embed theme-dark"' in dark and "data-accent" not in dark
    assert 'class="embed theme-auto"' in client.get("/embed").get_data(as_text=True)


# --- bad parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("platforms=cisco,nope", 404, "Unknown platform: nope. Known platforms: calltower-cloud"),
        ("platforms=%00", 400, "platforms: not a platform slug"),
        ("platforms=" + "x" * 65, 400, "platforms: not a platform slug"),
        ("platforms=" + ",".join(f"p{i}" for i in range(51)), 400, "too many platforms"),
        ("theme=neon", 400, "theme must be one of: light, dark, auto"),
        ("accent=red", 400, "accent must be a hex colour"),
        ("accent=%2312345", 400, "accent must be a hex colour"),
        ("accent=javascript:alert(1)", 400, "accent must be a hex colour"),
        ("lang=fr", 400, "lang must be one of: en, es, de"),
    ],
)
def test_bad_parameters_get_a_clear_message_in_the_frame(app, client, query, status, message):
    app.config["FRAME_ANCESTORS"] = "https://portal.example.com"
    response = client.get(f"/embed?{query}", headers={"Accept-Language": "en"})
    assert response.status_code == status
    text = text_of(response)
    assert message in text
    assert 'class="embed-error"' in response.get_data(as_text=True)
    # the message shows inside the host's frame, not the site's layout
    assert "Skip to content" not in text
    assert (
        "frame-ancestors 'self' https://portal.example.com"
        in (response.headers["Content-Security-Policy"])
    )


# --- headers and caching --------------------------------------------------------------------


def test_only_the_embed_is_framed_by_the_configured_origins(app, client, story):
    app.config["FRAME_ANCESTORS"] = "https://portal.example.com"
    embed = client.get("/embed")
    assert (
        "frame-ancestors 'self' https://portal.example.com"
        in (embed.headers["Content-Security-Policy"])
    )
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", "/embed.js", f"/incidents/{story['master']}"):
        other = client.get(path)
        assert "frame-ancestors 'self';" in other.headers["Content-Security-Policy"] + ";", path
        assert other.headers["X-Frame-Options"] == "SAMEORIGIN", path
    # without the setting any site may frame the embed, and still only the embed
    app.config["FRAME_ANCESTORS"] = ""
    embed = client.get("/embed")
    assert "frame-ancestors *;" in embed.headers["Content-Security-Policy"] + ";"
    assert "X-Frame-Options" not in embed.headers
    for path in ("/", "/embed.js", f"/incidents/{story['master']}", "/history"):
        other = client.get(path)
        assert "frame-ancestors 'self';" in other.headers["Content-Security-Policy"] + ";", path
        assert other.headers["X-Frame-Options"] == "SAMEORIGIN", path
    staff = client.get("/login")
    assert "frame-ancestors 'none'" in staff.headers["Content-Security-Policy"]
    assert staff.headers["X-Frame-Options"] == "DENY"


def test_a_wrong_embed_is_framed_by_any_site_too(client):
    """Its message must show in the partner's frame, not a browser's refusal."""
    response = client.get("/embed?theme=purple")
    assert response.status_code == 400
    assert "frame-ancestors *;" in response.headers["Content-Security-Policy"] + ";"


def test_the_embed_sets_no_cookie_even_with_a_language(client):
    response = client.get("/embed?lang=de")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_the_embed_is_cached_and_answers_304(app, client, story):
    first = client.get("/embed?platforms=cisco")
    assert first.headers["Cache-Control"] == CACHE_CONTROL
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    assert "Accept-Language" in first.headers["Vary"]
    renders = render_cache().renders
    again = client.get("/embed?platforms=cisco", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/embed?platforms=cisco").get_data() == first.get_data()
    assert render_cache().renders == renders  # neither was rendered again
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    other = client.get("/embed?platforms=cisco", headers={"Accept-Language": "es"})
    assert other.headers["ETag"] != first.headers["ETag"]


def test_a_change_shows_in_the_embed_at_once(client, db, css, story):
    first = client.get("/embed?platforms=contact-centre&lang=en")
    open_incident(
        db,
        css,
        NOW,
        "P3",
        title="Queue stats missing",
        body="",
        impact="none",
        case_number=None,
        platforms={"contact-centre": "degraded_performance"},
    )
    response = client.get(
        "/embed?platforms=contact-centre&lang=en", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert response.status_code == 200
    assert "Queue stats missing" in text_of(response)


def test_the_script_is_served_cached_and_mounts_iframes_without_inline_code(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == CACHE_CONTROL and response.headers["ETag"]
    assert (
        client.get("/embed.js", headers={"If-None-Match": response.headers["ETag"]}).status_code
        == 304
    )
    script = response.get_data(as_text=True)
    assert "data-status-embed" in script and "/embed" in script
    assert "status-embed:size" in script and "event.origin !== origin" in script
    assert "innerHTML" not in script and "eval(" not in script


def test_the_favicon(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data().startswith(b"<svg")
    assert "max-age=604800" in icon.headers["Cache-Control"]
    old = client.get("/favicon.ico")
    assert old.status_code == 301 and old.headers["Location"].endswith("/favicon.svg")
    assert "max-age=604800" in old.headers["Cache-Control"]
    icon.close()


# --- in a browser, on another site --------------------------------------------------------

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect Portal</title></head>
<body>
<h1>Connect Portal</h1>
<p>Release notes and service status.</p>
<div data-status-embed data-platforms="calltower-connect" data-theme="{theme}"
     data-title="CallTower status"><a href="{base}/">Service status</a></div>
<p id="after">Content below the embed.</p>
<script src="{base}/embed.js" async></script>
</body></html>
"""


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_page_on_another_site_shows_the_embed(app, story, theme):
    with serve(app) as status_origin:
        page = HOST_PAGE.format(base=status_origin, theme=theme)
        # a plain page on another origin (same address, another port), with a strict CSP of its own
        policy = f"default-src 'none'; script-src {status_origin}; frame-src {status_origin}"
        with other_site(page, {"Content-Security-Policy": policy}) as host:
            app.config["FRAME_ANCESTORS"] = host
            _drive(status_origin, host, theme, story)


def _drive(status_origin: str, host: str, theme: str, story: dict[str, int]) -> None:
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(
            viewport={"width": 720, "height": 900},
            timezone_id="America/Denver",
            locale="en-US",
            color_scheme="light",
        )
        if os.path.exists(AXE):
            context.add_init_script(path=AXE)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(host + "/")
        frame_element = page.locator("iframe[title='CallTower status']")
        frame_element.wait_for()
        frame = page.frame_locator("iframe[title='CallTower status']")
        master = frame.locator(".embed-incident.master-case")
        master.wait_for()
        assert "Inbound calls failing" in master.inner_text()
        assert "Master case (P1G)" in master.inner_text()
        assert "Estimated time of resolution" in master.inner_text()
        assert "Connect release 4.2" in frame.locator("main").inner_text()
        assert "Jabber sign-in slow" not in frame.locator("main").inner_text()
        # sized to its content by the frame's message: no scroll bar, nothing cut off
        page.wait_for_function(
            "() => { const f = document.querySelector('iframe');"
            " return f && f.style.visibility === 'visible'; }"
        )
        # the fallback link made way for the frame once it showed the status
        assert page.locator("[data-status-embed] > a").count() == 0
        inner = frame.locator("body").evaluate("b => Math.ceil(b.getBoundingClientRect().height)")
        outer = frame_element.evaluate("f => f.getBoundingClientRect().height")
        assert abs(outer - inner) <= 2, (outer, inner)
        assert inner > 120
        # the theme reached the frame
        background = frame.locator("body").evaluate("b => getComputedStyle(b).backgroundColor")
        assert background == ("rgb(255, 255, 255)" if theme == "light" else "rgb(22, 24, 28)")
        if os.path.exists(AXE):
            frame_page = next(f for f in page.frames if f.url.startswith(status_origin))
            found = frame_page.evaluate(
                "async () => (await axe.run(document)).violations"
                ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id)"
            )
            assert found == [], found
        os.makedirs(SCREENSHOTS, exist_ok=True)
        page.screenshot(
            path=os.path.join(SCREENSHOTS, f"embed-on-host-{theme}.png"), full_page=True
        )
        # a link opens the status page in a new tab, the host page stays
        with context.expect_page() as opened:
            master.get_by_role("link", name="Inbound calls failing").click()
        new_tab = opened.value
        new_tab.wait_for_load_state()
        assert new_tab.url.startswith(f"{status_origin}/incidents/{story['master']}")
        assert page.url.startswith(host)
        assert not [e for e in errors if "Content Security Policy" in e], errors
