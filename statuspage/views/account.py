"""A staff member's own account: where they are signed in (each session revocable), their
authenticator and recovery codes, and their Manage API tokens (made, listed with last use,
revoked). Every staff member reaches it; admins manage everyone's from /admin/users and
/admin/tokens.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from statuspage import clock
from statuspage.extensions import db
from statuspage.forms.staff import ConfirmForm, DeleteForm, EnrolForm, OwnTokenForm
from statuspage.models.vocab import STAFF_ROLES
from statuspage.queries import staff as staff_queries
from statuspage.security import current_session, role_required
from statuspage.services import PermissionDenied, ValidationError, factors, sessions, staff
from statuspage.views.auth import ENROLLING, enrolling_factor, enrolment_page
from statuspage.views.confirm import confirmation_page
from statuspage.views.helpers import apply_errors, commit

bp = Blueprint("account", __name__, url_prefix="/admin/account")

# The set-up page of an authenticator, inside the staff layout.
PAGE = "admin/authenticator.html"
# The token form's field names for the service's.
TOKEN_ALIASES = {"expires": "days"}


def token_label(token: Any) -> str:
    return f"{token.prefix}… ({token.name})" if token.name else f"{token.prefix}…"


def _page(form: OwnTokenForm, status: int = 200, plaintext: str | None = None) -> Any:
    me = current_user._get_current_object()
    return render_template(
        "admin/account.html",
        sessions=staff_queries.open_sessions(db.session, me),
        this_session=current_session(),
        authenticator=staff_queries.authenticator(db.session, me),
        codes_left=staff_queries.recovery_codes_left(db.session, me),
        needs_factor=factors.required(me),
        tokens=staff_queries.tokens_of(db.session, me),
        form=form,
        plaintext=plaintext,
        end_form=DeleteForm(prefix="end"),
        codes_form=DeleteForm(prefix="codes"),
        at=clock.now(),
    ), status


@bp.get("/")
@role_required(*STAFF_ROLES)
def index() -> Any:
    return _page(OwnTokenForm())


@bp.post("/tokens")
@role_required(*STAFF_ROLES)
def create_token() -> Any:
    """A token of the signed-in staff member's own, shown once on the page."""
    form = OwnTokenForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    now = clock.now()
    try:
        plaintext, _token = staff.create_token(
            db.session,
            current_user,
            current_user,
            name=form.name.data or "",
            scopes=list(form.scopes.data or []),
            expires_at=staff.token_expiry(now, form.days.data),
            now=now,
        )
    except ValidationError as exc:
        db.session.rollback()
        apply_errors(form, exc.errors, TOKEN_ALIASES)
        return _page(form, 422)
    commit()
    return _page(OwnTokenForm(formdata=None), 200, plaintext)


@bp.route("/tokens/<token_id>/revoke", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def revoke_token(token_id: str) -> Any:
    token = staff_queries.get_token(db.session, token_id)
    if token.user_id != current_user.id:
        abort(404)
    form = ConfirmForm(prefix="rv")
    if form.validate_on_submit():
        staff.revoke_token(db.session, current_user, token, clock.now())
        commit()
        flash(_("Token revoked."), "success")
        return redirect(url_for("account.index"))
    return confirmation_page(
        form,
        title=_("Revoke API token"),
        question=_("Revoke your token %(label)s?", label=token_label(token)),
        consequences=[
            _("Every tool using it is refused from the next request on."),
            _("A revoked token cannot be restored; create a new one instead."),
        ],
        button=_("Revoke token"),
        cancel=url_for("account.index"),
        refused=_("Nothing was revoked: confirm with the red button."),
    )


@bp.post("/sessions/<session_id>/end")
@role_required(*STAFF_ROLES)
def end_session(session_id: str) -> Any:
    """Sign one of my devices out (this one too, if chosen)."""
    row = staff_queries.get_session(db.session, session_id)
    if row.user_id != current_user.id or not DeleteForm(prefix="end").validate_on_submit():
        abort(404 if row.user_id != current_user.id else 400)
    sessions.end(db.session, current_user, row, reason="revoked by its user", now=clock.now())
    commit()
    flash(_("That session is signed out."), "success")
    return redirect(url_for("account.index"))


@bp.route("/authenticator", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def authenticator() -> Any:
    """Set up an authenticator while signed in (the first, or after removing one)."""
    me = current_user._get_current_object()
    if factors.enrolled(db.session, me):
        return redirect(url_for("account.index"))
    factor = enrolling_factor(me)
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            codes = factors.confirm_totp(db.session, me, form.code.data or "", clock.now())
        except ValidationError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
            return enrolment_page(form, factor, me, 422, PAGE)
        commit()
        session.pop(ENROLLING, None)
        return render_template(
            "admin/recovery_codes.html", codes=codes, next=url_for("account.index")
        )
    return enrolment_page(form, factor, me, 422 if request.method == "POST" else 200, PAGE)


@bp.post("/recovery-codes")
@role_required(*STAFF_ROLES)
def recovery_codes() -> Any:
    """Ten new recovery codes, shown once; the old ones stop working."""
    if not DeleteForm(prefix="codes").validate_on_submit():
        abort(400)
    try:
        codes = factors.new_recovery_codes(db.session, current_user, clock.now())
    except ValidationError:
        db.session.rollback()
        return redirect(url_for("account.authenticator"))
    commit()
    return render_template("admin/recovery_codes.html", codes=codes, next=url_for("account.index"))


@bp.route("/authenticator/remove", methods=["GET", "POST"])
@role_required(*STAFF_ROLES)
def remove_authenticator() -> Any:
    form = ConfirmForm(prefix="rm")
    if form.validate_on_submit():
        try:
            factors.remove(db.session, current_user, current_user, clock.now())
        except PermissionDenied:  # pragma: no cover (one's own is always allowed)
            abort(403)
        commit()
        flash(_("Your authenticator is removed."), "success")
        return redirect(url_for("account.index"))
    consequences = [_("Its codes and your recovery codes stop working at once.")]
    if factors.required(current_user):
        consequences.append(
            _("Your role needs one: your next sign-in with a password sets up a new one.")
        )
    return confirmation_page(
        form,
        title=_("Remove authenticator"),
        question=_("Remove the authenticator app from your account?"),
        consequences=consequences,
        button=_("Remove authenticator"),
        cancel=url_for("account.index"),
        refused=_("Nothing was removed: confirm with the red button."),
    )
