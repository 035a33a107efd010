"""Who is asking: session login for staff pages, role checks on the server."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from statuspage.extensions import db, login_manager
from statuspage.models import User
from statuspage.services.errors import row_id

F = TypeVar("F", bound=Callable[..., Any])

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    key = row_id(user_id)
    return db.session.get(User, key) if key is not None else None


def role_required(*roles: str) -> Callable[[F], F]:
    """Staff only; with roles given, only those roles. Anonymous users go to the login page."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
