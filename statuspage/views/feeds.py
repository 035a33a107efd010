"""Machine-readable publications: the maintenance calendars (iCal) and the RSS/Atom feeds.

Readers rush these during an outage, so each is rendered once per data change (feeds also
once per minute, as they cover a span of time around now) and served with validators; see
`views.caching`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app
from flask_babel import get_locale, gettext

from calendars import feeds
from statuspage import clock
from statuspage.extensions import db
from statuspage.renderers import publish
from statuspage.services import platforms as platform_service
from statuspage.views.caching import published

if TYPE_CHECKING:
    from statuspage.models import Platform

bp = Blueprint("feeds", __name__)

CALENDAR_TYPE = "text/calendar; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"


def site() -> publish.Site:
    return publish.Site(
        name=current_app.config["STATUSPAGE_NAME"],
        url=current_app.config["STATUSPAGE_URL"].rstrip("/"),
        timezone=current_app.config["STATUSPAGE_TIMEZONE"],
    )


@bp.after_request
def cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _reply(body: bytes, mimetype: str, filename: str | None = None) -> Response:
    response = Response(body, content_type=mimetype)
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _language() -> str:
    """The reader's language: `?lang=`, else Accept-Language (`statuspage.i18n`)."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def _calendar(platform: Platform | None) -> Response:
    body = publish.maintenance_calendar(db.session, site(), platform, _language())
    name = f"{platform.slug}-maintenance.ics" if platform else "maintenance.ics"
    return _reply(body, CALENDAR_TYPE, name)


@bp.get("/maintenance.ics")
@published(by_minute=False)
def calendar() -> Response:
    return _calendar(None)


@bp.get("/platforms/<slug>/maintenance.ics")
@published(by_minute=False)
def platform_calendar(slug: str) -> Response:
    return _calendar(platform_service.get_by_slug(db.session, slug))


def _feed_info(title: str, path: str, page: str) -> feeds.FeedInfo:
    s = site()
    language = _language()
    return feeds.FeedInfo(
        title=title,
        description=f"{s.name}: {title}",
        link=publish.in_language(s.url + page, language),
        self_url=publish.in_language(s.url + path, language),
        feed_id=s.url + path,
        language=language,
        author=s.name,
        author_uri=s.url + "/",
    )


def _history(platform: Platform | None, kind: str) -> Response:
    now = clock.now()
    prefix = f"/platforms/{platform.slug}" if platform else ""
    title = (
        gettext("%(platform)s history", platform=platform.name)
        if platform
        else gettext("Incident and maintenance history")
    )

    info = _feed_info(title, f"{prefix}/history.{kind}", "/history")
    items = publish.history_items(db.session, site(), now, platform, _language())
    if kind == "atom":
        return _reply(feeds.build_atom(info, items), ATOM_TYPE)
    return _reply(feeds.build_rss(info, items), RSS_TYPE)


@bp.get("/history.rss")
@published()
def history_rss() -> Response:
    return _history(None, "rss")


@bp.get("/history.atom")
@published()
def history_atom() -> Response:
    return _history(None, "atom")


@bp.get("/platforms/<slug>/history.rss")
@published()
def platform_history_rss(slug: str) -> Response:
    return _history(platform_service.get_by_slug(db.session, slug), "rss")


@bp.get("/platforms/<slug>/history.atom")
@published()
def platform_history_atom(slug: str) -> Response:
    return _history(platform_service.get_by_slug(db.session, slug), "atom")


def _maintenance(platform: Platform | None) -> Response:
    now = clock.now()
    prefix = f"/platforms/{platform.slug}" if platform else ""
    title = (
        gettext("%(platform)s maintenance", platform=platform.name)
        if platform
        else gettext("Maintenance windows")
    )

    info = _feed_info(title, f"{prefix}/maintenance.rss", "/maintenance")
    items = publish.maintenance_items(db.session, site(), now, platform, _language())
    return _reply(feeds.build_rss(info, items), RSS_TYPE)


@bp.get("/maintenance.rss")
@published()
def maintenance_rss() -> Response:
    return _maintenance(None)


@bp.get("/platforms/<slug>/maintenance.rss")
@published()
def platform_maintenance_rss(slug: str) -> Response:
    return _maintenance(platform_service.get_by_slug(db.session, slug))
