"""The embed for other sites, and the site's icon.

- `/embed`: a compact page for an `<iframe>` on another site (the Connect Portal posts
  release notices "within the portal"): open incidents (master cases first and marked, with
  their estimated time of resolution) and maintenance in progress or starting within 14 days,
  for `?platforms=slug,slug` (all when absent), in `?lang=` or the reader's language, themed
  by `?theme=light|dark|auto` and `?accent=` (a hex colour). Its links open the status page
  in a new tab. Only this page may be framed by the origins in FRAME_ANCESTORS
  (`statuspage.headers`); it is rendered once per data change and minute like every public
  page (`views.caching`).
- `/embed.js`: the host page's script. It turns each `<div data-status-embed>` into that
  iframe and sizes the iframe to its content from the frame's `postMessage`, so a host page
  needs neither inline script nor anything but this origin in its CSP. See docs/embed.md.
- `/favicon.svg` and `/favicon.ico` (a permanent redirect to it, for clients that ask for
  the old name): static bytes that change only with a release, cached for a week rather
  than keyed on the data version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import gettext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as WerkzeugResponse

from statuspage import clock, colours
from statuspage.extensions import db
from statuspage.i18n import N_
from statuspage.queries import embed as embed_queries
from statuspage.views.caching import published

bp = Blueprint("embed", __name__)

THEMES = ("auto", "light", "dark")
# The embed's own backgrounds (static/embed.css): an accent is used for text (links) only in
# the schemes where it reaches 4.5:1 on them; elsewhere it colours the stripe alone.
BACKGROUNDS = {"light": "#ffffff", "dark": "#16181c"}
MAX_PLATFORMS = 50
MAX_SLUG = 64
ICON_MAX_AGE = 7 * 24 * 3600
HTTP_TITLES = {400: N_("Bad request"), 404: N_("Not found")}


@dataclass(frozen=True)
class EmbedOptions:
    slugs: tuple[str, ...]
    theme: str
    accent: str | None
    accent_text: tuple[str, ...]  # the schemes ("light", "dark") where the accent colours links
    lang: str | None


def parse_options(args: Mapping[str, str], languages: list[str]) -> EmbedOptions:
    """The embed's query, or a 400 saying which parameter is wrong and what it takes."""
    slugs: list[str] = []
    for raw in (args.get("platforms") or "").split(","):
        slug = raw.strip()
        if not slug:
            continue
        if len(slug) > MAX_SLUG or not slug.isprintable():
            abort(400, description=gettext("platforms: not a platform slug"))
        if slug not in slugs:
            slugs.append(slug)
    if len(slugs) > MAX_PLATFORMS:
        abort(400, description=gettext("platforms: too many platforms"))
    theme = args.get("theme") or "auto"
    if theme not in THEMES:
        abort(400, description=gettext("theme must be one of: light, dark, auto"))
    accent = None
    raw_accent = args.get("accent")
    if raw_accent:
        accent = colours.parse_hex(raw_accent)
        if accent is None:
            abort(
                400,
                description=gettext("accent must be a hex colour such as 0645ad or #0645ad"),
            )
    lang = args.get("lang") or None
    if lang is not None and lang not in languages:
        abort(
            400, description=gettext("lang must be one of: %(codes)s", codes=", ".join(languages))
        )
    accent_text = tuple(
        scheme
        for scheme, background in BACKGROUNDS.items()
        if accent and colours.contrast(accent, background) >= colours.TEXT_CONTRAST
    )
    return EmbedOptions(tuple(slugs), theme, accent, accent_text, lang)


@bp.get("/embed")
@published(params=("platforms", "theme", "accent", "lang"))
def embed() -> str:
    options = parse_options(request.args, current_app.config["LANGUAGES"])
    now = clock.now()
    try:
        status = embed_queries.embed_status(db.session, now, options.slugs)
    except embed_queries.UnknownPlatforms as exc:
        abort(
            404,
            description=gettext(
                "Unknown platform: %(unknown)s. Known platforms: %(known)s",
                unknown=", ".join(exc.unknown),
                known=", ".join(exc.known),
            ),
        )
    return render_template(
        "embed/index.html",
        status=status,
        now=now,
        theme=options.theme,
        accent=options.accent,
        accent_text=options.accent_text,
        link_args={"lang": options.lang} if options.lang else {},
        upcoming_days=embed_queries.UPCOMING_DAYS,
    )


@bp.errorhandler(HTTPException)
def embed_error(exc: HTTPException) -> tuple[str, int]:
    """A wrong embed shows its message inside the frame, compact, not the site's page."""
    db.session.rollback()
    status = exc.code or 500
    title = HTTP_TITLES.get(status)
    return (
        render_template(
            "embed/error.html",
            status=status,
            title=gettext(title) if title else exc.name,
            message=exc.description or "",
        ),
        status,
    )


@bp.get("/embed.js")
@published(by_minute=False, by_language=False)
def embed_script() -> Response:
    """The host page's script, at a short stable address (served through the render cache
    for its ETag, 304s and gzip)."""
    path = os.path.join(current_app.static_folder or "static", "embed.js")
    with open(path, "rb") as fh:
        body = fh.read()
    return current_app.response_class(body, content_type="text/javascript; charset=utf-8")


@bp.get("/favicon.svg")
def favicon() -> Response:
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=ICON_MAX_AGE,
    )


@bp.get("/favicon.ico")
def favicon_ico() -> WerkzeugResponse:
    """Browsers and feed readers ask for /favicon.ico whatever the page links: send them to
    the SVG instead of a 404 in every log."""
    response = redirect("/favicon.svg", code=301)
    response.headers["Cache-Control"] = f"public, max-age={ICON_MAX_AGE}"
    return response
