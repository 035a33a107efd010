"""Who is asking: session login for staff pages, role checks on the server.

Every sign-in opens a row in the server's session table (`services.sessions`); the cookie
carries its random key and the user's `session_version`. Each request looks both up
(`load_user`): a session ended on its own (sign-out, revoked from a sessions list) or with
all of its user's (a new password, disabling, a role change, "sign out everywhere", which
also move the version on) opens nothing, wherever the cookie was copied to. A directory
(SSO) session whose last look at the directory is older than OIDC_RECHECK_MINUTES sends the
next page request to the directory again (silently where the provider's own sign-in holds):
a staff member the directory dropped loses access then.

A password sign-in of a role that needs a second factor is *pending* until the code is
typed: the cookie then names the user (`PENDING`) but signs nobody in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_url, login_user
from werkzeug.wrappers import Response

from statuspage import clock
from statuspage.extensions import db, login_manager
from statuspage.models import StaffSession, User
from statuspage.services import addresses, sessions
from statuspage.services.directory import RoleMapping
from statuspage.services.errors import row_id

P = ParamSpec("P")
R = TypeVar("R")

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

# The session keys: the user's session_version at sign-in, the server session's key, and a
# password sign-in waiting for its second factor.
SESSION_VERSION = "_sv"
SESSION_KEY = "_sid"
PENDING = "_pending"
# How long a password stays good for typing the second factor, or setting one up.
PENDING_FOR = timedelta(minutes=10)


def policy() -> sessions.Policy:
    """The sign-in settings, as the session rules take them."""
    config = current_app.config
    break_glass = set()
    for address in config.get("BREAK_GLASS_ADMINS") or ():
        try:
            break_glass.add(addresses.canonical(address))
        except addresses.AddressError:
            continue  # not an address: names nobody
    return sessions.Policy(
        local_login=bool(config.get("LOCAL_LOGIN", True)),
        break_glass=frozenset(break_glass),
        directory_recheck=timedelta(minutes=float(config.get("OIDC_RECHECK_MINUTES") or 60)),
    )


def role_mapping() -> RoleMapping:
    config = current_app.config
    return RoleMapping(
        claim=str(config.get("OIDC_ROLE_CLAIM") or "roles"),
        values=dict(config.get("OIDC_ROLE_MAP") or {}),
    )


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no types
def load_user(user_id: str) -> User | None:
    key = row_id(user_id)
    user = db.session.get(User, key) if key is not None else None
    if user is None or session.get(SESSION_VERSION) != user.session_version:
        return None
    row = sessions.find(db.session, session.get(SESSION_KEY))
    refused = sessions.refusal(row, user, policy(), clock.now())
    if refused == "directory":
        g.needs_directory = True
    if refused is not None:
        return None
    g.staff_session = row
    return user


@login_manager.unauthorized_handler  # type: ignore[untyped-decorator]  # Flask-Login: no types
def unauthorized() -> Any:
    """Signed out: to the sign-in page. A directory session due for its re-check: to the
    directory, silently, and back to the page asked for (a form sent then is lost: a POST
    cannot be carried through the provider)."""
    if g.get("needs_directory"):
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("sso.start", silent=1, next=target))
    flash(_("Please sign in to see this page."), "info")
    return redirect(login_url("auth.login", next_url=request.url))


def current_session() -> StaffSession | None:
    """The server session of the signed-in user making this request."""
    current_user.is_authenticated  # noqa: B018 (loads the user, and so the session)
    row: StaffSession | None = g.get("staff_session")
    return row


def start_session(user: User, method: str) -> None:
    """Sign `user` in on a brand-new session: nothing of the anonymous one survives (its
    CSRF token, flashes, any planted value), a server session row is opened (audited as a
    sign-in; the caller commits), and the cookie carries its key and the user's
    session_version. Staff sessions last PERMANENT_SESSION_LIFETIME."""
    clear_session()
    key, row = sessions.open_session(
        db.session,
        user,
        method=method,
        now=clock.now(),
        user_agent=request.headers.get("User-Agent", ""),
        address=request.remote_addr or "",
    )
    login_user(user)
    session[SESSION_VERSION] = user.session_version
    session[SESSION_KEY] = key
    session.permanent = True
    g.staff_session = row


def clear_session() -> None:
    """Empty the session, and forget the CSRF token Flask-WTF keeps for this request, so the
    next form carries a new one."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    g.pop("staff_session", None)


def begin_pending(user: User, next_path: str | None) -> None:
    """The password was right and a second factor is needed: remember who, on a new
    session, for PENDING_FOR."""
    clear_session()
    session[PENDING] = {
        "user": user.id,
        "sv": user.session_version,
        "at": clock.now().isoformat(),
        "next": next_path or "",
    }


def pending_user() -> User | None:
    """The user whose password was right in this browser a moment ago, still waiting for
    their second factor; None when there is none or it is too old."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    try:
        at = datetime.fromisoformat(str(pending.get("at")))
    except ValueError:
        return None
    if clock.now() - at > PENDING_FOR:
        return None
    key = row_id(pending.get("user"))
    user = db.session.get(User, key) if key is not None else None
    if user is None or not user.active or user.session_version != pending.get("sv"):
        return None
    return user


def pending_next() -> str:
    pending = session.get(PENDING)
    return str(pending.get("next") or "") if isinstance(pending, dict) else ""


def password_hash_method() -> str:
    """The scrypt parameters new hashes use (PASSWORD_HASH_METHOD; only tests lower it)."""
    return str(current_app.config["PASSWORD_HASH_METHOD"])


def role_required(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """Staff only; with roles given, only those roles. Anonymous users go to the login page."""

    def decorator(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if not current_user.is_authenticated:
                to_login: Response = login_manager.unauthorized()
                return to_login
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
