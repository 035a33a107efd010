"""Security headers on every response: CSP without inline script, frame protection, nosniff,
Referrer-Policy, HSTS over https, and no-store on staff pages; cached public pages too."""

from __future__ import annotations

import re

from flask import g

from tests.helpers import PROJECT_ROOT, csrf_of, login

ROOT = PROJECT_ROOT
STAFF_CSP_FRAMES = "frame-ancestors 'none'"


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def assert_common(response) -> None:
    policy = csp(response)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_public_pages_carry_the_headers_and_frame_only_by_this_site(client):
    for path in ("/", "/history", "/maintenance", "/subscribe", "/static/style.css", "/nope"):
        response = client.get(path)
        assert_common(response)
        assert csp(response)["frame-ancestors"] == "'self'", path
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "Strict-Transport-Security" not in response.headers, path
        response.close()


def test_cached_public_pages_get_the_headers_and_stay_shared(client):
    first = client.get("/")
    again = client.get("/")
    unchanged = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304
    for response in (first, again, unchanged):
        assert_common(response)
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "Set-Cookie" not in response.headers
        assert response.headers["Cache-Control"].startswith("public")
    assert first.get_data() == again.get_data()


def test_staff_pages_are_never_framed_nor_stored(client, admin):
    for path in ("/login", "/api/v1/pages/calltower/incidents"):
        response = client.get(path)
        assert_common(response)
        assert csp(response)["frame-ancestors"] == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
    login(client, admin)
    for path in ("/admin/", "/admin/tokens", f"/admin/users/{admin.id}"):
        g.pop("_login_user", None)
        response = client.get(path)
        assert response.status_code == 200, path
        assert csp(response)["frame-ancestors"] == "'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Cache-Control"] == "no-store", path


def test_the_page_showing_a_new_token_is_not_stored(client, admin):
    login(client, admin)
    html = client.get("/admin/tokens").get_data(as_text=True)
    csrf = csrf_of(html)
    g.pop("_login_user", None)
    response = client.post(
        "/admin/tokens",
        data={
            "csrf_token": csrf,
            "user_id": str(admin.id),
            "name": "ci",
            "scopes": "read",
            "days": "90",
        },
    )
    assert response.status_code == 200 and "sp_" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_frame_ancestors_lets_listed_origins_frame_the_embed_only(app, client):
    app.config["FRAME_ANCESTORS"] = "https://portal.example.com  https://intranet.example.com"
    embed = client.get("/embed")
    frames = csp(embed)["frame-ancestors"]
    assert frames == "'self' https://portal.example.com https://intranet.example.com"
    assert "X-Frame-Options" not in embed.headers  # it cannot name other origins
    public = client.get("/")  # the rest of the site stays framed by this site only
    assert csp(public)["frame-ancestors"] == "'self'"
    assert public.headers["X-Frame-Options"] == "SAMEORIGIN"
    staff = client.get("/login")
    assert csp(staff)["frame-ancestors"] == "'none'"
    assert staff.headers["X-Frame-Options"] == "DENY"


def test_hsts_only_over_https(app, client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    app.config["STATUSPAGE_URL"] = "https://status.example.com"
    assert "max-age=" in client.get("/login").headers["Strict-Transport-Security"]


def test_pages_need_no_inline_script_or_style():
    """The CSP refuses inline script, event-handler attributes and style attributes, so the
    pages carry none (mail templates are not pages: mail clients need inline styles)."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        if "email" in template.parts:
            continue
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\ssrc=)[^>]*>",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"<style",
        ):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{template.relative_to(ROOT)}: {pattern}")
    assert offenders == []
