"""Staff accounts and Manage API tokens.

Passwords are hashed (scrypt); API tokens are random, shown once, and stored as SHA-256
digests. Failed logins take the same path whether or not the address exists.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from statuspage.models import ApiToken, User
from statuspage.models.vocab import ROLES
from statuspage.services import audit, text
from statuspage.services.errors import Errors, PermissionDenied, get_or_404

PASSWORD_MIN = 10
TOKEN_PREFIX = "sp_"
# Compared against when the address is unknown, so both paths cost one hash check.
_DUMMY_HASH = generate_password_hash("not-a-real-password-" + secrets.token_hex(8))


def normalise_email(value: str) -> str:
    """Return the canonical form of an address, or raise ValueError with the reason."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


def snapshot(user: User) -> dict[str, Any]:
    return {"email": user.email, "name": user.name, "role": user.role, "active": user.active}


def require_admin(actor: User | None) -> None:
    if actor is not None and actor.role != "admin":
        raise PermissionDenied("only admins manage users and tokens")


def find_user(session: Session, email: str) -> User | None:
    try:
        email = normalise_email(email)
    except ValueError:
        return None
    return session.scalar(select(User).where(func.lower(User.email) == email))


def create_user(
    session: Session,
    actor: User | None,
    *,
    email: str,
    role: str,
    password: str | None = None,
    name: str = "",
    now: datetime,
) -> User:
    """Create a staff account. `actor` None means the command line (trusted operator)."""
    require_admin(actor)
    errors = Errors()
    try:
        email = normalise_email(email or "")
    except ValueError as exc:
        errors.add("email", str(exc))
    else:
        if find_user(session, email) is not None:
            errors.add("email", "a user with this address exists")
    if role not in ROLES:
        errors.add("role", f"must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < PASSWORD_MIN:
        errors.add("password", f"must be at least {PASSWORD_MIN} characters")
    if len(name) > 120:
        errors.add("name", "must be at most 120 characters")
    text.check(errors, "name", name)
    errors.raise_if_any()
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password) if password else None,
        active=True,
        created_at=now,
    )
    session.add(user)
    audit.record(session, actor, "user.create", user, before=None, after=snapshot(user), now=now)
    return user


def update_user(
    session: Session,
    actor: User | None,
    user: User,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    now: datetime,
) -> User:
    """Change a user's role, activation or password (admins)."""
    require_admin(actor)
    errors = Errors()
    if role is not None and role not in ROLES:
        errors.add("role", f"must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < PASSWORD_MIN:
        errors.add("password", f"must be at least {PASSWORD_MIN} characters")
    demotes_self = active is False or role not in (None, "admin")
    if actor is not None and actor.id == user.id and demotes_self:
        errors.add("role", "you cannot demote or disable yourself")
    errors.raise_if_any()
    before = snapshot(user)
    if role is not None:
        user.role = role
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = generate_password_hash(password)
    audit.record(session, actor, "user.update", user, before=before, after=snapshot(user), now=now)
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this address and password, or None (no hint which was wrong)."""
    user = find_user(session, email or "")
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password or "")
    if user is None or not user.password_hash or not user.active or not ok:
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, actor: User | None, user: User, *, name: str = "", now: datetime
) -> tuple[str, ApiToken]:
    """Issue a Manage API token for `user`; the plaintext is returned once and never stored."""
    require_admin(actor)
    errors = Errors()
    if len(name) > 120:
        errors.add("name", "must be at most 120 characters")
    text.check(errors, "name", name)
    errors.raise_if_any()
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=_digest(plaintext),
        prefix=plaintext[:10],
        created_at=now,
    )
    session.add(token)
    audit.record(
        session,
        actor,
        "token.create",
        token,
        before=None,
        after={"user": user.email, "name": token.name, "prefix": token.prefix},
        now=now,
    )
    return plaintext, token


def revoke_token(session: Session, actor: User | None, token: ApiToken, now: datetime) -> None:
    require_admin(actor)
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(
            session,
            actor,
            "token.revoke",
            token,
            before={"revoked": False},
            after={"revoked": True},
            now=now,
        )


def authenticate_token(session: Session, plaintext: str, now: datetime) -> User | None:
    """The active user owning this unrevoked token, or None."""
    if not plaintext or len(plaintext) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    token.last_used_at = now
    return token.user


def get_user(session: Session, user_id: int | str) -> User:
    return get_or_404(session, User, user_id)
