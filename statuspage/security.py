"""Who is asking: session login for staff pages, role checks on the server.

Flask's session is a signed cookie with nothing kept on the server, so a copied cookie would
stay good until it expires. Each user therefore carries a `session_version`, stamped into the
session at sign-in and compared on every request: sign-out, a new password, disabling the
account and an admin's "sign out everywhere" bump it, and every cookie issued before stops
working, wherever it was copied to.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, session
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from statuspage.extensions import db, login_manager
from statuspage.models import User
from statuspage.services.errors import row_id

P = ParamSpec("P")
R = TypeVar("R")

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

# The session key holding the user's session_version at sign-in.
SESSION_VERSION = "_sv"


@login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no types
def load_user(user_id: str) -> User | None:
    key = row_id(user_id)
    user = db.session.get(User, key) if key is not None else None
    if user is None or session.get(SESSION_VERSION) != user.session_version:
        return None
    return user


def start_session(user: User) -> None:
    """Sign `user` in on a brand-new session: nothing of the anonymous one survives (its
    CSRF token, flashes, any planted value), and the cookie carries the user's
    session_version. Staff sessions last PERMANENT_SESSION_LIFETIME."""
    clear_session()
    login_user(user)
    session[SESSION_VERSION] = user.session_version
    session.permanent = True


def clear_session() -> None:
    """Empty the session, and forget the CSRF token Flask-WTF keeps for this request, so the
    next form carries a new one."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


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
