"""Staff accounts and Manage API tokens.

Passwords are hashed with scrypt at OWASP's parameters and rehashed at the next sign-in
when the stored hash used others; API tokens are random, shown once, and stored as SHA-256
digests. Failed logins take the same path whether or not the address exists.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from statuspage.i18n import N_
from statuspage.models import ApiToken, User
from statuspage.models.vocab import ROLES
from statuspage.services import addresses, audit, text
from statuspage.services.errors import Errors, PermissionDenied, get_or_404

PASSWORD_MIN = 10
TOKEN_PREFIX = "sp_"
# OWASP's scrypt parameters (N=2^17, r=8, p=1): about 0.3 s and 128 MB per hash. Callers
# pass the app's PASSWORD_HASH_METHOD, which only tests lower.
PASSWORD_HASH_METHOD = "scrypt:131072:8:1"


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """Compared against when the address is unknown, so both paths cost one hash check."""
    return generate_password_hash("not-a-real-password-" + secrets.token_hex(8), method)


def hash_method_of(stored: str) -> str:
    """The method part of a werkzeug hash (`scrypt:32768:8:1$salt$hash` -> `scrypt:32768:8:1`)."""
    return stored.split("$", 1)[0]


def normalise_email(value: str) -> str:
    """The canonical form of a staff address (`addresses.canonical`), or `AddressError` (a
    ValueError) with the reason. Sign-in, the sign-in limiter and user creation all read an
    address through this one function, so every spelling of an address is one account with
    one budget of failed sign-ins."""
    return addresses.canonical(value)


def account_key(value: str) -> str:
    """The sign-in limiter's key for the account a typed address names: a digest of its
    canonical form (no addresses in the rate-limit store). Text that is no address names no
    account; it is keyed on itself, folded the same way."""
    try:
        canonical = normalise_email(value)
    except ValueError:
        canonical = unicodedata.normalize("NFKC", value or "").strip().lower()
    return "account:" + hashlib.sha256(canonical.encode()).hexdigest()


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
    hash_method: str = PASSWORD_HASH_METHOD,
) -> User:
    """Create a staff account. `actor` None means the command line (trusted operator)."""
    require_admin(actor)
    errors = Errors()
    try:
        email = normalise_email(email or "")
    except addresses.AddressError as exc:
        errors.add("email", exc.message)
    else:
        if find_user(session, email) is not None:
            errors.add("email", N_("a user with this address exists"))
    if role not in ROLES:
        errors.add("role", N_("must be one of %(choices)s"), choices=", ".join(ROLES))
    if password is not None and len(password) < PASSWORD_MIN:
        errors.add("password", N_("must be at least %(min)d characters"), min=PASSWORD_MIN)
    if len(name) > 120:
        errors.add("name", N_("must be at most 120 characters"))
    text.check(errors, "name", name)
    errors.raise_if_any()
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=generate_password_hash(password, hash_method) if password else None,
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
    hash_method: str = PASSWORD_HASH_METHOD,
) -> User:
    """Change a user's role, activation or password (admins). A new password or disabling
    the account ends every session the user has open and revokes every Manage API token they
    hold (enabling the account again brings none back)."""
    require_admin(actor)
    errors = Errors()
    if role is not None and role not in ROLES:
        errors.add("role", N_("must be one of %(choices)s"), choices=", ".join(ROLES))
    if password is not None and len(password) < PASSWORD_MIN:
        errors.add("password", N_("must be at least %(min)d characters"), min=PASSWORD_MIN)
    demotes_self = active is False or role not in (None, "admin")
    if actor is not None and actor.id == user.id and demotes_self:
        errors.add("role", N_("you cannot demote or disable yourself"))
    errors.raise_if_any()
    before = snapshot(user)
    if role is not None:
        user.role = role
    if active is False and user.active:
        end_sessions(user)
        revoke_tokens(session, actor, user, reason="user disabled", now=now)
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = generate_password_hash(password, hash_method)
        end_sessions(user)
        revoke_tokens(session, actor, user, reason="password changed", now=now)
    audit.record(session, actor, "user.update", user, before=before, after=snapshot(user), now=now)
    return user


def authenticate(
    session: Session, email: str, password: str, *, hash_method: str = PASSWORD_HASH_METHOD
) -> User | None:
    """The active user with this address and password, or None (no hint which was wrong).

    A password stored with other parameters than `hash_method` is rehashed now, while the
    plaintext is at hand; the caller's commit keeps it.
    """
    user = find_user(session, email or "")
    if user is not None and user.password_hash:
        stored = user.password_hash
    else:
        stored = _dummy_hash(hash_method)
    ok = check_password_hash(stored, password or "")
    if user is None or not user.password_hash or not user.active or not ok:
        return None
    if hash_method_of(user.password_hash) != hash_method:
        user.password_hash = generate_password_hash(password, hash_method)
    return user


def end_sessions(user: User) -> None:
    """Make every session cookie issued to `user` so far worthless (see `security.load_user`)."""
    user.session_version = (user.session_version or 0) + 1


def sign_out_everywhere(session: Session, actor: User | None, user: User, now: datetime) -> None:
    """An admin ends every session `user` has open, on every device, and revokes every
    Manage API token they hold (audited)."""
    require_admin(actor)
    before = {"session_version": user.session_version}
    end_sessions(user)
    revoke_tokens(session, actor, user, reason="signed out everywhere", now=now)
    audit.record(
        session,
        actor,
        "user.sign_out_everywhere",
        user,
        before=before,
        after={"session_version": user.session_version},
        now=now,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, actor: User | None, user: User, *, name: str = "", now: datetime
) -> tuple[str, ApiToken]:
    """Issue a Manage API token for `user`; the plaintext is returned once and never stored."""
    require_admin(actor)
    errors = Errors()
    if len(name) > 120:
        errors.add("name", N_("must be at most 120 characters"))
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


def revoke_tokens(
    session: Session, actor: User | None, user: User, *, reason: str, now: datetime
) -> int:
    """Revoke every token of `user` still working, each audited with `reason`: what a new
    password, disabling and "sign out everywhere" do, since a token outlives any session.
    Returns how many were revoked."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
        audit.record(
            session,
            actor,
            "token.revoke",
            token,
            before={"revoked": False},
            after={"revoked": True, "reason": reason},
            now=now,
        )
    return len(tokens)


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
