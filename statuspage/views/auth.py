"""Staff sign-in with a password, its second factor, and sign-out. A failed sign-in says the
same whatever was wrong, and is recorded in the audit log.

Sign-in starts a new session (security.start_session); sign-out ends that session on the
server, so a cookie copied before it no longer opens anything. Sign-in is limited twice:
per client (the real one behind TRUSTED_PROXIES), so one address cannot hammer it, and per
account, so many addresses cannot guess one password, while bad sign-ins against one account
never lock out another. The per-account budget is one for the password and the second factor
(a failed code spends it as a wrong password does).

An admin or CSS staff member signing in with a password needs a second factor
(`services.factors`): a code of their authenticator app or a recovery code; one without an
authenticator sets one up before anything else opens. An engineer who set one up of their
own accord is asked for it too. LOCAL_LOGIN=off leaves passwords to
the break-glass admins; everyone else signs in through the directory (views/sso.py).
"""

from __future__ import annotations

from typing import Any

import segno
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from markupsafe import Markup
from werkzeug.wrappers import Response

from statuspage import clock, sso
from statuspage.extensions import db, limiter
from statuspage.forms.staff import EnrolForm, LoginForm, LogoutForm, SignInCodeForm
from statuspage.queries import staff as staff_queries
from statuspage.security import (
    begin_pending,
    clear_session,
    current_session,
    password_hash_method,
    pending_next,
    pending_user,
    policy,
    start_session,
)
from statuspage.services import ValidationError, factors, sessions, staff
from statuspage.views.helpers import apply_errors, commit, local_path

bp = Blueprint("auth", __name__)

PER_CLIENT = "10 per minute"
PER_ACCOUNT = "5 per minute; 20 per hour"
# The scope of the per-account budget that the password and the second factor share.
ACCOUNT_SCOPE = "sign-in-account"
# The session key holding the fingerprint of the authenticator secret this browser is
# setting up (so a reload shows the same QR code, and only to this browser).
ENROLLING = "_enrolling"


def account_key() -> str:
    """The rate-limit key of the account a sign-in names: the address typed on the password
    form, or the account whose password this browser gave before its second factor."""
    user = pending_user() if request.endpoint != "auth.login" else None
    if user is not None:
        return staff.account_key(user.email)
    return staff.account_key(request.form.get("email") or "")


def _failed(response: Response) -> bool:
    return response.status_code == 401


per_account = limiter.shared_limit(
    PER_ACCOUNT, ACCOUNT_SCOPE, methods=["POST"], key_func=account_key, deduct_when=_failed
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(PER_CLIENT, methods=["POST"])
@per_account
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    page = {"form": form, "sso": sso.configured(), "local": current_app.config["LOCAL_LOGIN"]}
    if form.validate_on_submit():
        now = clock.now()
        user = staff.authenticate(
            db.session,
            form.email.data or "",
            form.password.data or "",
            hash_method=password_hash_method(),
            policy=policy(),
        )
        if user is None:
            staff.sign_in_failed(db.session, form.email.data or "", reason="password", now=now)
            commit()
            form.form_errors.append(_("Invalid email or password."))
            return render_template("auth/login.html", **page), 401
        next_path = local_path(request.args.get("next"), "")
        enrolled = factors.enrolled(db.session, user)
        if enrolled or factors.required(user):
            commit()  # a password rehashed at today's parameters
            begin_pending(user, next_path)
            if enrolled:
                return redirect(url_for("auth.second_factor"))
            return redirect(url_for("auth.enrol"))
        start_session(user, sessions.PASSWORD)
        commit()
        return redirect(next_path or url_for("admin.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", **page), status


def _start_again() -> Response:
    flash(_("Sign in again: the step before was not finished in time."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(PER_CLIENT, methods=["POST"])
@per_account
def second_factor() -> Any:
    """The second step: a code of the authenticator app, or a recovery code."""
    user = pending_user()
    if user is None:
        return _start_again()
    form = SignInCodeForm()
    if form.validate_on_submit():
        now = clock.now()
        used = factors.verify(db.session, user, form.code.data or "", now)
        if used is None:
            staff.sign_in_failed(db.session, user.email, reason="second_factor", now=now)
            commit()
            form.code.errors = [_(factors.WRONG_CODE)]
            return render_template("auth/code.html", form=form), 401
        next_path = pending_next()
        start_session(user, sessions.PASSWORD)
        commit()
        if used == "recovery":
            left = staff_queries.recovery_codes_left(db.session, user)
            flash(
                _(
                    "You signed in with a recovery code; %(left)d are left. Make new ones "
                    "on your account page if you are running out.",
                    left=left,
                ),
                "info",
            )
        return redirect(next_path or url_for("admin.dashboard"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


def qr_code(uri: str, label: str) -> Markup:
    """The otpauth address as an inline SVG QR code (no script, no inline style)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=4, title=label, svgclass="qr", dark="#000", light="#fff"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 (segno's markup)


def enrolment_page(
    form: EnrolForm, factor: Any, user: Any, status: int, template: str = "auth/enrol.html"
) -> Any:
    """The set-up page: at the first password sign-in (`auth/enrol.html`), or on the account
    page (`admin/authenticator.html`)."""
    uri = factors.provisioning_uri(factor, user.email, current_app.config["STATUSPAGE_NAME"])
    secret = " ".join(factor.secret[i : i + 4] for i in range(0, len(factor.secret), 4))
    return (
        render_template(
            template,
            form=form,
            qr=qr_code(uri, _("QR code for your authenticator app")),
            secret=secret,
        ),
        status,
    )


def enrolling_factor(user: Any) -> Any:
    """The authenticator secret this browser is setting up for `user`: the one it was
    shown, or a new one (another browser's unfinished set-up is never reused)."""
    factor = factors.factor_of(db.session, user)
    if (
        factor is None
        or factor.confirmed_at is not None
        or session.get(ENROLLING) != factors.fingerprint(factor)
    ):
        factor = factors.begin_totp(db.session, user, clock.now())
        commit()
        session[ENROLLING] = factors.fingerprint(factor)
    return factor


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(PER_CLIENT, methods=["POST"])
@per_account
def enrol() -> Any:
    """A password sign-in of a role that needs a second factor, without one yet: set up an
    authenticator, then see the recovery codes once."""
    user = pending_user()
    if user is None:
        return _start_again()
    if factors.enrolled(db.session, user):
        return redirect(url_for("auth.second_factor"))
    factor = enrolling_factor(user)
    form = EnrolForm()
    if form.validate_on_submit():
        now = clock.now()
        try:
            codes = factors.confirm_totp(db.session, user, form.code.data or "", now)
        except ValidationError as exc:
            db.session.rollback()
            staff.sign_in_failed(db.session, user.email, reason="second_factor", now=now)
            commit()
            apply_errors(form, exc.errors)
            return enrolment_page(form, factor, user, 401)
        next_path = pending_next()
        start_session(user, sessions.PASSWORD)
        commit()
        return render_template(
            "auth/recovery_codes.html",
            codes=codes,
            next=next_path or url_for("admin.dashboard"),
        )
    return enrolment_page(form, factor, user, 422 if request.method == "POST" else 200)


@bp.post("/logout")
def logout() -> Any:
    form = LogoutForm()
    if form.validate_on_submit():
        row = current_session() if current_user.is_authenticated else None
        if row is not None:
            sessions.end(db.session, current_user, row, reason="signed out", now=clock.now())
            commit()
        logout_user()
        clear_session()
        flash(_("You are signed out."), "success")
    return redirect(url_for("public.index"))
