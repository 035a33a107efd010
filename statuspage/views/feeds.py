"""Machine-readable publications: the maintenance calendars (iCal) and the RSS/Atom feeds.

Readers rush these during an outage, so rendered bytes are cached per app and keyed by a
fingerprint of the data (see publish.RenderCache); ETags let clients skip unchanged bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, request

from calendars import feeds
from statuspage import clock, publish
from statuspage.extensions import db
from statuspage.services import platforms as platform_service

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


def render_cached(key: tuple[object, ...], build: Callable[[], bytes]) -> bytes:
    cache = current_app.extensions.setdefault("publish_cache", publish.RenderCache())
    return cache.get(db.session, key, build)


def _hour(now: datetime) -> str:
    # Feeds cover a window of time around now; within the hour it is the same window.
    return now.strftime("%Y%m%d%H")


def _reply(body: bytes, mimetype: str, filename: str | None = None) -> Response:
    response = Response(body, content_type=mimetype)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.add_etag()
    return response.make_conditional(request)


def _calendar(platform: Platform | None) -> Response:
    body = render_cached(
        ("ics", platform.slug if platform else None),
        lambda: publish.maintenance_calendar(db.session, site(), platform),
    )
    name = f"{platform.slug}-maintenance.ics" if platform else "maintenance.ics"
    return _reply(body, CALENDAR_TYPE, name)


@bp.get("/maintenance.ics")
def calendar() -> Response:
    return _calendar(None)


@bp.get("/platforms/<slug>/maintenance.ics")
def platform_calendar(slug: str) -> Response:
    return _calendar(platform_service.get_by_slug(db.session, slug))


def _feed_info(title: str, path: str, page: str) -> feeds.FeedInfo:
    s = site()
    return feeds.FeedInfo(
        title=title,
        description=f"{s.name}: {title}",
        link=s.url + page,
        self_url=s.url + path,
        feed_id=s.url + path,
    )


def _history(platform: Platform | None, kind: str) -> Response:
    now = clock.now()
    prefix = f"/platforms/{platform.slug}" if platform else ""
    title = f"{platform.name} history" if platform else "Incident and maintenance history"

    def build() -> bytes:
        info = _feed_info(title, f"{prefix}/history.{kind}", "/history")
        items = publish.history_items(db.session, site(), now, platform)
        return feeds.build_atom(info, items) if kind == "atom" else feeds.build_rss(info, items)

    body = render_cached(("history", kind, prefix, _hour(now)), build)
    return _reply(body, ATOM_TYPE if kind == "atom" else RSS_TYPE)


@bp.get("/history.rss")
def history_rss() -> Response:
    return _history(None, "rss")


@bp.get("/history.atom")
def history_atom() -> Response:
    return _history(None, "atom")


@bp.get("/platforms/<slug>/history.rss")
def platform_history_rss(slug: str) -> Response:
    return _history(platform_service.get_by_slug(db.session, slug), "rss")


@bp.get("/platforms/<slug>/history.atom")
def platform_history_atom(slug: str) -> Response:
    return _history(platform_service.get_by_slug(db.session, slug), "atom")


def _maintenance(platform: Platform | None) -> Response:
    now = clock.now()
    prefix = f"/platforms/{platform.slug}" if platform else ""
    title = f"{platform.name} maintenance" if platform else "Maintenance windows"

    def build() -> bytes:
        info = _feed_info(title, f"{prefix}/maintenance.rss", "/maintenance")
        return feeds.build_rss(info, publish.maintenance_items(db.session, site(), now, platform))

    return _reply(render_cached(("maintenance", prefix, _hour(now)), build), RSS_TYPE)


@bp.get("/maintenance.rss")
def maintenance_rss() -> Response:
    return _maintenance(None)


@bp.get("/platforms/<slug>/maintenance.rss")
def platform_maintenance_rss(slug: str) -> Response:
    return _maintenance(platform_service.get_by_slug(db.session, slug))
