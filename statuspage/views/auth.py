"""Staff login and logout. A failed login says the same whatever was wrong.

Sign-in starts a new session (security.start_session); sign-out ends every session the user
has open, so a cookie copied before it no longer opens anything. Sign-in is limited twice:
per client (the real one behind TRUSTED_PROXIES), so one address cannot hammer it, and per
account, so many addresses cannot guess one password, while bad logins against one account
never lock out another.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response

from statuspage.extensions import db, limiter
from statuspage.forms import LoginForm, LogoutForm
from statuspage.security import clear_session, password_hash_method, start_session
from statuspage.services import staff
from statuspage.views.helpers import commit, local_path

bp = Blueprint("auth", __name__)

PER_CLIENT = "10 per minute"
PER_ACCOUNT = "5 per minute; 20 per hour"


def account_key() -> str:
    """The rate-limit key of the account a login names, read as sign-in reads it."""
    return staff.account_key(request.form.get("email") or "")


def _failed(response: Response) -> bool:
    return response.status_code == 401


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(PER_CLIENT, methods=["POST"])
@limiter.limit(PER_ACCOUNT, methods=["POST"], key_func=account_key, deduct_when=_failed)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = staff.authenticate(
            db.session,
            form.email.data or "",
            form.password.data or "",
            hash_method=password_hash_method(),
        )
        if user is not None:
            commit()  # a password rehashed at today's parameters
            start_session(user)
            return redirect(local_path(request.args.get("next"), url_for("admin.dashboard")))
        form.form_errors.append(_("Invalid email or password."))
        return render_template("auth/login.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            staff.end_sessions(current_user)
            commit()
        logout_user()
        clear_session()
        flash(_("You are signed out."), "success")
    return redirect(url_for("public.index"))
