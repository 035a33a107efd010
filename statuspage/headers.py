"""Security headers on every response, set in one after_request hook.

An after_request hook, not a view decorator, so responses the render cache builds from
stored bytes (`views.caching`), error pages, static files and 304s all get them. Nothing
here depends on the reader: public responses stay identical for everyone, and no `Vary` or
`Set-Cookie` is added to them.

- Content-Security-Policy without inline script or style (templates load `static/*.js` and
  `static/*.css` only; Markdown is sanitised to tags without `style` or `on*` attributes).
- Framing: staff pages (`/admin`, `/login`, `/logout`, `/api/v1`) never (`frame-ancestors
  'none'`, `X-Frame-Options: DENY`), so the console cannot be clickjacked; public pages by
  this site only; the embed (`/embed`, views/embed.py) by any site (`frame-ancestors *`), or,
  when FRAME_ANCESTORS lists origins, by this site and those only. The embed is read-only
  public information: no form, no action, no cookie, links that open a new tab, so framing it
  lets a page clickjack nothing, and it must work on a partner's page with default settings
  (docs/embed.md). Every other page keeps its rule.
- `X-Content-Type-Options: nosniff`; `Referrer-Policy: strict-origin-when-cross-origin`
  (public pages carry subscription links whose path is a secret), `no-referrer` for staff.
- HSTS when the request came over https (after ProxyFix, see TRUSTED_PROXIES) or the site's
  address is https.
- `Cache-Control: no-store` on staff pages: nothing of the console, nor a token shown once,
  is kept by a browser or proxy.

flask-talisman was considered: it sets one policy per app or per decorated view, wants to
own the session cookie flags and the https redirect, and is little maintained; the split by
path and the cache's prebuilt responses are simpler to get right in a hook of our own.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.wrappers import Response

STAFF_PREFIXES = ("/admin", "/login", "/logout", "/api/v1")
# The pages other sites may frame: the embed, read-only, links in new tabs (any site by
# default; FRAME_ANCESTORS narrows it to the origins it lists).
EMBED_PATHS = ("/embed",)
HSTS = "max-age=31536000; includeSubDomains"


def is_staff_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in STAFF_PREFIXES)


def content_security_policy(frame_ancestors: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def _https() -> bool:
    return request.is_secure or str(current_app.config.get("STATUSPAGE_URL", "")).startswith(
        "https://"
    )


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    if is_staff_path(request.path):
        headers["Content-Security-Policy"] = content_security_policy("'none'")
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cache-Control"] = "no-store"
    else:
        frame_ancestors = "'self'"
        if request.path in EMBED_PATHS:
            listed = " ".join(str(current_app.config.get("FRAME_ANCESTORS") or "").split())
            frame_ancestors = f"'self' {listed}" if listed else "*"
            # Shown inside other sites and kept by shared caches: it never sets a cookie,
            # not even the language `?lang=` remembers on the site's own pages.
            response.headers.remove("Set-Cookie")
        headers["Content-Security-Policy"] = content_security_policy(frame_ancestors)
        if frame_ancestors == "'self'":
            # X-Frame-Options cannot name other origins; for the embed CSP alone decides.
            headers["X-Frame-Options"] = "SAMEORIGIN"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if _https():
        headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
