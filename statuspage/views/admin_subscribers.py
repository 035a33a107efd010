"""Staff page of URL subscribers: webhooks, Microsoft Teams and Slack channels.

Any staff member sees them, with their state, why one is quarantined (paused after its
endpoint kept failing) and the last delivery error; CSS staff and admins lift a quarantine
(a CSRF-checked POST; the service checks the role again and audits it).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from statuspage import channels, clock
from statuspage.extensions import db
from statuspage.models.vocab import CSS_ROLES, STAFF_ROLES
from statuspage.queries import channels as channel_queries
from statuspage.security import role_required
from statuspage.services import ValidationError
from statuspage.services.subscriptions import pauses
from statuspage.views.helpers import commit, page_number

bp = Blueprint("admin_subscribers", __name__, url_prefix="/admin/subscribers")

PER_PAGE = 50


@bp.get("/")
@role_required(*STAFF_ROLES)
def endpoints() -> Any:
    state = request.args.get("state", "")
    if state and state not in channel_queries.STATES:
        abort(400)
    page = page_number()
    rows, total = channel_queries.url_subscribers(
        db.session, state=state or None, page=page, per_page=PER_PAGE
    )
    return render_template(
        "admin/subscribers.html",
        rows=rows,
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        state=state,
        states=channel_queries.STATES,
        form=FlaskForm(),
        can_lift=current_user.role in CSS_ROLES,
        channel_labels={c.name: c.staff_label for c in channels.all_channels()},
    )


@bp.post("/<subscriber_id>/unquarantine")
@role_required(*CSS_ROLES)
def unquarantine(subscriber_id: str) -> Any:
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        pauses.lift_quarantine(db.session, current_user, subscriber_id, clock.now())
    except ValidationError:
        db.session.rollback()
        flash(_("That subscriber is not quarantined."), "error")
        return redirect(url_for(".endpoints"))
    commit()
    flash(_("Quarantine lifted: the endpoint receives notices again."), "success")
    return redirect(url_for(".endpoints"))
