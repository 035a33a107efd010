"""Public maintenance pages: the month grid and list, and one window's page (rendered once
per data change and minute; see `views.caching`)."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_date, gettext

from statuspage import clock
from statuspage.extensions import db
from statuspage.queries import maintenance as maintenance_queries
from statuspage.services import maintenance as maintenance_service
from statuspage.views.caching import published

bp = Blueprint("maintenance", __name__)

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


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


@bp.get("/maintenance")
@published()
def index() -> str:
    now = clock.now()
    tz_name = current_app.config["STATUSPAGE_TIMEZONE"]
    year, month = _month(now.astimezone(ZoneInfo(tz_name)).date())
    return render_template(
        "maintenance/index.html",
        weeks=maintenance_queries.month_grid(db.session, year, month, tz_name),
        month_label=format_date(date(year, month, 1), "LLLL yyyy"),
        prev_month=_shift(year, month, -1),
        next_month=_shift(year, month, 1),
        active=maintenance_queries.active(db.session),
        upcoming=maintenance_queries.upcoming(db.session, now, days=60),
        recent=maintenance_queries.recent(db.session, now),
    )


@bp.get("/maintenance/<window_id>")
@published()
def detail(window_id: str) -> str:
    window = maintenance_service.get_window(db.session, window_id)
    return render_template("maintenance/detail.html", window=window)
