"""Single sign-on through the company directory (OpenID Connect; `statuspage/sso.py` speaks
the protocol, `services.directory` decides who gets in with which role).

`/login/sso` sends the browser to the provider; `/login/sso/callback` takes its answer,
verified, and signs the staff member in with the role the directory gives them now. A
directory session due for its re-check comes here silently (`silent=1`, `prompt=none`): the
same session goes on when the directory still gives a role, and ends when it gives none.
Where the provider's own sign-in is gone, the browser is sent to sign in there again.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import logout_user

from statuspage import clock, sso
from statuspage.extensions import db, limiter
from statuspage.security import (
    SESSION_KEY,
    clear_session,
    policy,
    role_mapping,
    start_session,
)
from statuspage.services import directory, sessions
from statuspage.views.helpers import commit, local_path

bp = Blueprint("sso", __name__)

# The session keys: where to go after the directory answered, and whether it was a re-check.
NEXT = "_sso_next"
SILENT = "_sso_silent"
# The provider's answers that mean "sign in with me again" to a silent request.
SIGN_IN_AGAIN = {
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
}


def _callback_url() -> str:
    """The redirect URI registered at the provider: STATUSPAGE_URL + /login/sso/callback."""
    return str(current_app.config["STATUSPAGE_URL"]).rstrip("/") + url_for("sso.callback")


@bp.get("/login/sso")
@limiter.limit("30 per minute")
def start() -> Any:
    if not sso.configured():
        abort(404)
    silent = request.args.get("silent") == "1"
    session[NEXT] = local_path(request.args.get("next"), "")
    session[SILENT] = silent
    try:
        return sso.start(_callback_url(), silent=silent)
    except sso.SignInError as exc:
        current_app.logger.warning("single sign-on could not start: %s", exc)
        return render_template("auth/no_access.html", reason=exc.reason), 503


@bp.get("/login/sso/callback")
@limiter.limit("30 per minute")
def callback() -> Any:
    if not sso.configured():
        abort(404)
    now = clock.now()
    next_path = local_path(session.pop(NEXT, ""), "") or url_for("admin.dashboard")
    silent = bool(session.pop(SILENT, False))
    try:
        claims = sso.finish()
    except sso.SignInError as exc:
        if silent and exc.reason in SIGN_IN_AGAIN:
            _end_current(now, reason="directory sign-in gone")
            flash(_("Your sign-in has to be checked with the directory again."), "info")
            return redirect(url_for("sso.start", next=next_path))
        directory.refused(db.session, reason=exc.reason, detail=exc.detail, now=now)
        commit()
        status = 503 if exc.reason == "unreachable" else 401
        return render_template("auth/no_access.html", reason=exc.reason), status
    try:
        user = directory.follow(
            db.session,
            issuer=sso.issuer(),
            claims=claims,
            mapping=role_mapping(),
            break_glass=policy().break_glass,
            now=now,
        )
    except directory.NoAccess as refused:
        _end_current(now, reason="no access in the directory")
        commit()
        logout_user()
        clear_session()
        return render_template("auth/no_access.html", reason=refused.reason), 403
    row = sessions.find(db.session, session.get(SESSION_KEY))
    if silent and row is not None and row.user_id == user.id and row.ended_at is None:
        sessions.directory_checked(row, now)
    else:
        start_session(user, sessions.SSO)
    commit()
    return redirect(next_path)


def _end_current(now: Any, *, reason: str) -> None:
    row = sessions.find(db.session, session.get(SESSION_KEY))
    if row is not None and row.ended_at is None:
        sessions.end(db.session, None, row, reason=reason, now=now)
        commit()
