"""Public pages: status, incidents, history, health.

Readers rush these during an outage: each is rendered once per data change (and minute,
where the clock shows) and served with validators; see `views.caching`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import SQLAlchemyError

from statuspage import clock
from statuspage.extensions import db
from statuspage.queries import health
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.reader import shared_read
from statuspage.renderers.templating import format_day, provider_zone
from statuspage.services import incidents as incident_service
from statuspage.services.errors import whole_number
from statuspage.views.caching import published

if TYPE_CHECKING:
    from statuspage.models import Incident

bp = Blueprint("public", __name__)

# The home page lists incidents resolved this many days back (Statuspage's past incidents).
PAST_DAYS = 7


def _master_case_banner() -> list[Incident]:
    """The open master cases, read only by a page that shows them (the site layout, once).

    A cached page stays right: opening, updating or resolving an incident bumps the data
    version the render cache keys on. An error page must still render when the database
    is what failed, so a failed read shows no banner.
    """
    try:
        return incident_queries.master_case_banner(db.session)
    except SQLAlchemyError:
        db.session.rollback()
        return []


@bp.app_context_processor
def master_case_banner() -> dict[str, Callable[[], list[Incident]]]:
    """Every page on the site layout carries a banner linking to each open master case."""
    return {"master_case_banner": _master_case_banner}


@bp.after_app_request
def remember_language(response: Response) -> Response:
    """`?lang=` on a page made for one reader (a form, the staff console) remembers the
    language for that reader's next such pages, in a cookie; the response setting it is
    private. A shared page never sets it: its links carry `?lang=` on instead, and a cookie
    on a response every reader shares would be handed to all of them."""
    wanted = request.args.get("lang")
    if (
        wanted is None
        or wanted not in current_app.config["LANGUAGES"]
        or request.cookies.get("lang") == wanted
        or shared_read()
        or response.cache_control.public
    ):
        return response
    response.set_cookie("lang", wanted, max_age=365 * 86400, samesite="Lax", httponly=True)
    if not response.cache_control.no_store:
        response.cache_control.private = True
    return response


@bp.app_template_filter("bar_day")
def day_label(value: datetime) -> str:
    """One day of the 90-day bars in the reader's words: `Fri, Nov 20, 2026`."""
    return format_day(value.date())


@bp.get("/")
@published()
def index() -> str:
    now = clock.now()
    session = db.session
    platforms = platform_queries.platforms(session)
    open_incidents = incident_queries.open_incidents(session)
    clocks = {i.id: (i.next_update_due, i.is_update_overdue(now)) for i in open_incidents}
    return render_template(
        "public/index.html",
        status=platform_queries.page_status(session, now),
        platforms=platforms,
        bars=platform_queries.availability_bars(session, platforms, now),
        incidents=open_incidents,
        clocks=clocks,
        past=incident_queries.recently_resolved(session, now, days=PAST_DAYS),
        past_days=PAST_DAYS,
        active=maintenance_queries.active(session),
        upcoming=maintenance_queries.upcoming(session, now, days=14),
    )


@bp.get("/incidents/<incident_id>")
@published()
def incident(incident_id: str) -> str:
    found = incident_service.get(db.session, incident_id)
    now = clock.now()
    return render_template(
        "public/incident.html",
        incident=found,
        next_due=found.next_update_due,
        overdue=found.is_update_overdue(now),
    )


# Every page on the site layout moves with the clock while a master case is open: its
# banner turns to "Update overdue" the minute the deadline comes (`published` keys by minute).


@bp.get("/history")
@published(params=("page", "platform"))
def history() -> str | tuple[str, int]:
    """Closed incidents by month, newest first, paginated, for one platform or all
    (`?platform=slug`; an unknown one is a 404 that says so and offers the list)."""
    page = whole_number(request.args.get("page", "1"))
    if page is None or not 1 <= page <= 100_000:
        abort(400, description=gettext("page must be a whole number from 1"))
    session = db.session
    choices = platform_queries.platforms(session)
    wanted = request.args.get("platform", "").strip()
    platform = platform_queries.by_key(session, wanted) if wanted else None
    if wanted and platform is None:
        return render_template(
            "public/history.html",
            months=[],
            platforms=choices,
            platform=None,
            unknown=wanted,
            page=1,
            pages=1,
            total=0,
        ), 404
    per_page = current_app.config["HISTORY_PAGE_SIZE"]
    items, total = incident_queries.history_page(session, page, per_page, platform)
    pages = max((total + per_page - 1) // per_page, 1)
    if page > pages:
        abort(404)
    return render_template(
        "public/history.html",
        months=incident_queries.by_month(items, provider_zone()),
        platforms=choices,
        platform=platform,
        unknown=None,
        page=page,
        pages=pages,
        total=total,
    )


@bp.get("/help")
@published()
def help_page() -> str:
    """The support plan on the page: the priority table, the ETR and the contacts."""
    return render_template("public/help.html")


@bp.get("/healthz")
def healthz() -> Any:
    try:
        health.ping(db.session)
    except Exception:  # any database failure means "not healthy", never a 500 page
        db.session.rollback()
        return jsonify(status="error", database="error"), 503
    response = jsonify(status="ok", database="ok")
    response.headers["Cache-Control"] = "no-store"
    return response
