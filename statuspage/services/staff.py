"""Staff accounts and Manage API tokens.

Passwords are hashed with scrypt at OWASP's parameters and rehashed at the next sign-in
when the stored hash used others; API tokens are random, shown once, and stored as SHA-256
digests. Failed logins take the same path whether or not the address exists.

A token is named, carries scopes (`read`: incidents, maintenance and components; `write`:
changing them; `subscribers`: reading and changing subscribers, who are personal data) and
expires (90 days unless asked otherwise, a year at most). It acts as its owner, under its
owner's role, and dies with its owner's access: a new password, disabling the account, a
role change and "sign out everywhere" revoke every token the user holds, each revocation
audited. Its use is recorded on the token (`last_used_at`, to the minute) and in the audit
log at most once an hour per token, so automation polling every few seconds does not flood
the log.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from statuspage.i18n import N_
from statuspage.models import ApiToken, User
from statuspage.models.vocab import ROLES
from statuspage.services import addresses, audit, sessions, text
from statuspage.services.errors import Errors, PermissionDenied, get_or_404

PASSWORD_MIN = 10
TOKEN_PREFIX = "sp_"
# OWASP's scrypt parameters (N=2^17, r=8, p=1): about 0.3 s and 128 MB per hash. Callers
# pass the app's PASSWORD_HASH_METHOD, which only tests lower.
PASSWORD_HASH_METHOD = "scrypt:131072:8:1"
# What a Manage API token may be allowed to do; each API route needs one of them.
TOKEN_SCOPES = ("read", "write", "subscribers")
TOKEN_DAYS = 90
TOKEN_DAYS_MAX = 366
# Use of a token is written to the token at most this often, and audited at most hourly.
TOKEN_USE_PRECISION = timedelta(minutes=1)
TOKEN_USE_AUDITED_EVERY = timedelta(hours=1)


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
    """Change a user's role, activation or password (admins). A new password, disabling the
    account or a new role ends every session the user has open and revokes every Manage API
    token they hold (enabling the account again brings none back)."""
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
    if role is not None and role != user.role:
        user.role = role
        sessions.end_all(session, user, reason="role changed", now=now)
        revoke_tokens(session, actor, user, reason="role changed", now=now)
    if active is False and user.active:
        sessions.end_all(session, user, reason="user disabled", now=now)
        revoke_tokens(session, actor, user, reason="user disabled", now=now)
    if active is not None:
        user.active = active
        # An admin's decision: the directory no longer enables the account by itself.
        user.disabled_by_directory = False
    if password is not None:
        user.password_hash = generate_password_hash(password, hash_method)
        sessions.end_all(session, user, reason="password changed", now=now)
        revoke_tokens(session, actor, user, reason="password changed", now=now)
    audit.record(session, actor, "user.update", user, before=before, after=snapshot(user), now=now)
    return user


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    hash_method: str = PASSWORD_HASH_METHOD,
    policy: sessions.Policy | None = None,
) -> User | None:
    """The active user with this address and password, or None (no hint which was wrong).
    With a `policy`, only a user it lets sign in with a password (local passwords on, or a
    break-glass admin; never an account the directory manages).

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
    if policy is not None and not policy.password_allowed(user):
        return None
    if hash_method_of(user.password_hash) != hash_method:
        user.password_hash = generate_password_hash(password, hash_method)
    return user


def sign_in_failed(
    session: Session, typed: str, *, reason: str, now: datetime, method: str = "password"
) -> None:
    """Record a failed sign-in in the audit log: what was typed as the address (the account
    it names, if any), the way in and why (`password`, `second_factor`, `no_role`...)."""
    user = find_user(session, typed)
    audit.record(
        session,
        None,
        "sign_in.failure",
        user,
        before=None,
        after={"method": method, "reason": reason, "email": (typed or "")[:254]},
        now=now,
        label="anonymous",
        object_type="User",
    )


def sign_out_everywhere(session: Session, actor: User | None, user: User, now: datetime) -> None:
    """An admin ends every session `user` has open, on every device, and revokes every
    Manage API token they hold (audited)."""
    require_admin(actor)
    before = {"session_version": user.session_version}
    sessions.end_all(session, user, reason="signed out everywhere", now=now)
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


def _may_manage_tokens_of(actor: User | None, user: User) -> None:
    if actor is not None and actor.id != user.id and actor.role != "admin":
        raise PermissionDenied("only admins manage another staff member's tokens")


def token_expiry(now: datetime, days: int | None = None) -> datetime:
    """When a token made now expires: `days` from now (TOKEN_DAYS by default)."""
    return now + timedelta(days=TOKEN_DAYS if days is None else days)


def create_token(
    session: Session,
    actor: User | None,
    user: User,
    *,
    name: str = "",
    scopes: tuple[str, ...] | list[str] = TOKEN_SCOPES,
    expires_at: datetime | None = None,
    now: datetime,
) -> tuple[str, ApiToken]:
    """Issue a Manage API token for `user` (by the user themself, an admin, or the operator
    at the command line): named, with `scopes`, expiring at `expires_at` (90 days from now
    by default, at most a year). The plaintext is returned once and never stored."""
    _may_manage_tokens_of(actor, user)
    errors = Errors()
    if len(name) > 120:
        errors.add("name", N_("must be at most 120 characters"))
    text.check(errors, "name", name)
    wanted = [scope for scope in TOKEN_SCOPES if scope in scopes]
    if not wanted or len(wanted) != len(set(scopes)):
        errors.add(
            "scopes", N_("choose one or more of %(choices)s"), choices=", ".join(TOKEN_SCOPES)
        )
    expires = expires_at or token_expiry(now)
    if expires <= now:
        errors.add("expires", N_("must be in the future"))
    elif expires > now + timedelta(days=TOKEN_DAYS_MAX):
        errors.add("expires", N_("must be at most %(days)d days away"), days=TOKEN_DAYS_MAX)
    if not user.active:
        errors.add("user", N_("a disabled account cannot hold tokens"))
    errors.raise_if_any()
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=_digest(plaintext),
        prefix=plaintext[:10],
        scopes=" ".join(wanted),
        expires_at=expires,
        created_at=now,
    )
    session.add(token)
    audit.record(
        session,
        actor,
        "token.create",
        token,
        before=None,
        after={
            "user": user.email,
            "name": token.name,
            "prefix": token.prefix,
            "scopes": token.scopes,
            "expires_at": expires.isoformat(),
        },
        now=now,
        label="cli",
    )
    return plaintext, token


def revoke_token(
    session: Session,
    actor: User | None,
    token: ApiToken,
    now: datetime,
    reason: str = "revoked",
) -> None:
    """Revoke one token: its owner, an admin, or the operator. Audited with `reason`."""
    _may_manage_tokens_of(actor, token.user)
    if token.revoked_at is None:
        token.revoked_at = now
        token.revoked_reason = reason
        audit.record(
            session,
            actor,
            "token.revoke",
            token,
            before={"revoked": False},
            after={"revoked": True, "reason": reason},
            now=now,
            label="cli",
        )


def revoke_tokens(
    session: Session, actor: User | None, user: User, *, reason: str, now: datetime
) -> int:
    """Revoke every token of `user` still working, each audited with `reason`: what a new
    password, disabling, a role change and "sign out everywhere" do, since a token outlives
    any session. Returns how many were revoked."""
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for token in tokens:
        token.revoked_at = now
        token.revoked_reason = reason
        audit.record(
            session,
            actor,
            "token.revoke",
            token,
            before={"revoked": False},
            after={"revoked": True, "reason": reason},
            now=now,
            label="directory" if reason.endswith("directory") else "system",
        )
    return len(tokens)


def token_for(session: Session, plaintext: str, now: datetime) -> ApiToken | None:
    """The working token with this plaintext: not revoked, not expired, its owner active;
    or None. Its use is noted on it (to the minute) and audited (at most hourly)."""
    if not plaintext or len(plaintext) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plaintext)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    if now >= token.expires_at:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_PRECISION:
        token.last_used_at = now
    if token.use_recorded_at is None or now - token.use_recorded_at >= TOKEN_USE_AUDITED_EVERY:
        token.use_recorded_at = now
        audit.record(
            session,
            token.user,
            "token.use",
            token,
            before=None,
            after={"prefix": token.prefix, "name": token.name},
            now=now,
        )
    return token


def authenticate_token(session: Session, plaintext: str, now: datetime) -> User | None:
    """The active user owning this working token, or None."""
    token = token_for(session, plaintext, now)
    return token.user if token is not None else None


def get_user(session: Session, user_id: int | str) -> User:
    return get_or_404(session, User, user_id)
