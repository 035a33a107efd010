"""Public maintenance pages: the month as a grid or a list, narrowed by platform and impact,
and one window's page (rendered once per data change, minute and query; see
`views.caching`, whose key holds every query argument, so each filter has its own body).

Query arguments of /maintenance, all optional, all plain links or a GET form (no script):
`month=YYYY-MM` (default: this month in the provider's zone), `view=grid|list` (default
grid), `platform=<slug>` (repeatable: windows touching any of them), `impact=with|without`
(customer impact or none). A platform that does not exist is a 404 page that says so and
offers the list (as /history); any other value outside these is a 400 saying what is
accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_date, gettext

from statuspage import clock
from statuspage.extensions import db
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries
from statuspage.renderers.templating import carried_language, format_day
from statuspage.renderers.templating import format_recurrence as recurrence_words
from statuspage.services import maintenance as maintenance_service
from statuspage.views.caching import published

bp = Blueprint("maintenance", __name__)

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
VIEWS = ("grid", "list")
# The reader's words for impact -> the windows' impact values.
IMPACTS = {"with": "maintenance", "without": "none"}


def _month(now_local: date) -> tuple[int, int]:
    raw = request.args.get("month")
    if raw is None:
        return now_local.year, now_local.month
    match = MONTH_RE.match(raw)
    if (
        not match
        or not (1 <= int(match.group(2)) <= 12)
        or not (2000 <= int(match.group(1)) <= 2100)
    ):
        abort(400, description=gettext("month must look like 2026-12"))
    return int(match.group(1)), int(match.group(2))


def _shift(year: int, month: int, delta: int) -> str:
    index = year * 12 + (month - 1) + delta
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Choice:
    """What the reader asked for; `link` writes it back as a query with some parts changed."""

    view: str
    month: str
    platforms: tuple[str, ...]
    impact: str  # "", "with" or "without"
    lang: str | None = None  # a language chosen with `?lang=`, carried on by every link

    def link(self, **changes: Any) -> str:
        values = {**self.__dict__, **changes}
        query: list[tuple[str, str]] = [("month", values["month"])]
        if values["view"] != "grid":
            query.append(("view", values["view"]))
        query.extend(("platform", slug) for slug in values["platforms"])
        if values["impact"]:
            query.append(("impact", values["impact"]))
        if values["lang"]:
            query.append(("lang", values["lang"]))
        return "?" + urlencode(query)

    @property
    def filtered(self) -> bool:
        return bool(self.platforms or self.impact)


def _choice(month: str, known_slugs: list[str]) -> tuple[Choice, str | None]:
    """The reader's choice, and the first platform slug that names no platform (then the
    page says so and offers the list, as /history does)."""
    view = request.args.get("view") or "grid"
    if view not in VIEWS:
        abort(400, description=gettext("view must be grid or list"))
    wanted = tuple(dict.fromkeys(p.strip() for p in request.args.getlist("platform")))
    unknown = next((p for p in wanted if p and p not in known_slugs), None)
    impact = request.args.get("impact") or ""
    if impact and impact not in IMPACTS:
        abort(400, description=gettext("impact must be with or without"))
    choice = Choice(
        view, month, tuple(p for p in wanted if p in known_slugs), impact, carried_language()
    )
    return choice, unknown


@bp.get("/maintenance")
@published(params=("month", "view", "impact"), repeatable=("platform",))
def index() -> str | tuple[str, int]:
    now = clock.now()
    tz_name = current_app.config["STATUSPAGE_TIMEZONE"]
    today = now.astimezone(ZoneInfo(tz_name)).date()
    year, month = _month(today)
    platforms = platform_queries.platforms(db.session)
    choice, unknown = _choice(f"{year:04d}-{month:02d}", [p.slug for p in platforms])
    page: dict[str, Any] = {
        "choice": choice,
        "unknown": unknown,
        "platforms": platforms,
        "today": today,
        "today_label": format_day(today, year=False),
        "rendered_at": now,
        "month_label": format_date(date(year, month, 1), "LLLL yyyy"),
        "prev_month": _shift(year, month, -1),
        "next_month": _shift(year, month, 1),
        "this_month": f"{today.year:04d}-{today.month:02d}",
        "active": [],
        "recurrences": {},
    }
    if unknown is not None:
        return render_template("maintenance/index.html", **page), 404
    only = maintenance_queries.WindowFilter(choice.platforms, IMPACTS.get(choice.impact))
    page["active"] = maintenance_queries.active(db.session, only=only)
    if choice.view == "grid":
        page["weeks"] = maintenance_queries.month_grid(
            db.session, year, month, tz_name, today=today, only=only
        )
        page["upcoming"] = maintenance_queries.upcoming(db.session, now, days=60, only=only)
        page["recent"] = maintenance_queries.recent(db.session, now, only=only)
    else:
        page["agenda"] = maintenance_queries.month_list(
            db.session, year, month, tz_name, today=today, only=only
        )
        page["recurrences"] = {
            series_id: recurrence_words(series)
            for series_id, series in maintenance_queries.series_by_id(db.session).items()
        }
    return render_template("maintenance/index.html", **page)


@bp.get("/maintenance/<window_id>")
@published()
def detail(window_id: str) -> str:
    window = maintenance_service.get_window(db.session, window_id)
    return render_template(
        "maintenance/detail.html",
        window=window,
        recurrence=recurrence_words(window.series) if window.series is not None else None,
    )
