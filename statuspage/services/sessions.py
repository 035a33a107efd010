"""Staff sessions on the server: one row per sign-in on one device, so each can be listed
(device, address, time) and ended on its own.

The session cookie carries a random key; the row keeps its SHA-256 digest. Every request
looks the row up (`security.load_user`) and `refusal` says whether it still opens anything:
not once ended (sign-out, revoked from the list, "sign out everywhere", a new password,
disabling, a role change), not a password session of someone local passwords are no longer
open to, and not a directory (SSO) session whose last look at the directory is older than
the re-check setting: that one needs the directory again (`needs_directory`), so a staff
member the directory drops loses access then, not when the cookie expires.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from statuspage.models import StaffSession, User
from statuspage.services import audit, text
from statuspage.services.errors import PermissionDenied

PASSWORD = "password"
SSO = "sso"


@dataclass(frozen=True)
class Policy:
    """The sign-in settings a session is held to (built from the app's configuration)."""

    local_login: bool = True
    break_glass: frozenset[str] = frozenset()
    directory_recheck: timedelta = timedelta(hours=1)

    def password_allowed(self, user: User) -> bool:
        """Whether `user` may sign in with a password: local passwords are on, or the
        account is a named break-glass admin; never an account the directory manages
        (it signs in through the directory, which decides its role)."""
        if user.sso_subject is not None:
            return False
        return self.local_login or (user.role == "admin" and user.email in self.break_glass)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _one_line(value: str, limit: int) -> str:
    return text.one_line(value)[:limit]


def open_session(
    session: Session,
    user: User,
    *,
    method: str,
    now: datetime,
    user_agent: str = "",
    address: str = "",
) -> tuple[str, StaffSession]:
    """A new session for `user` signed in by `method` ("password" or "sso"): returns the
    key for the cookie (never stored) and the row. Audited as `sign_in`."""
    key = secrets.token_urlsafe(32)
    row = StaffSession(
        user_id=user.id,
        key_hash=_digest(key),
        method=method,
        signed_in_at=now,
        directory_checked_at=now if method == SSO else None,
        user_agent=_one_line(user_agent, 255),
        address=_one_line(address, 64),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        user,
        "sign_in",
        user,
        before=None,
        after={"method": method, "session": row.id, "device": row.user_agent, "address": address},
        now=now,
    )
    return key, row


def find(session: Session, key: object) -> StaffSession | None:
    """The session whose cookie carries `key`, ended or not."""
    if not isinstance(key, str) or not key or len(key) > 100:
        return None
    return session.scalar(select(StaffSession).where(StaffSession.key_hash == _digest(key)))


def refusal(row: StaffSession | None, user: User, policy: Policy, now: datetime) -> str | None:
    """Why this session no longer opens anything for `user`, or None when it does:
    "ended", "local_login" (passwords closed to this account since), or "directory" (a
    directory session due for its re-check)."""
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return "ended"
    if row.method == PASSWORD and not policy.password_allowed(user):
        return "local_login"
    if row.method == SSO and needs_directory(row, policy, now):
        return "directory"
    return None


def needs_directory(row: StaffSession, policy: Policy, now: datetime) -> bool:
    """Whether a directory session's last look at the directory is too old to go on."""
    checked = row.directory_checked_at or row.signed_in_at
    return now >= checked + policy.directory_recheck


def directory_checked(row: StaffSession, now: datetime) -> None:
    """The directory was asked again and still gives this user a role: the session goes on
    for another re-check period."""
    row.directory_checked_at = now


def end(
    session: Session, actor: User | None, row: StaffSession, *, reason: str, now: datetime
) -> bool:
    """End one session: its owner signing out ("signed out"), or revoking it from their list,
    or an admin doing so. Audited; returns whether it was still open."""
    if actor is not None and actor.id != row.user_id and actor.role != "admin":
        raise PermissionDenied("only admins end another staff member's sessions")
    if row.ended_at is not None:
        return False
    row.ended_at = now
    row.ended_reason = reason
    audit.record(
        session,
        actor,
        "sign_out" if reason == "signed out" else "session.revoke",
        row,
        before=None,
        after={"user": row.user.email, "reason": reason, "device": row.user_agent},
        now=now,
    )
    return True


def end_all(session: Session, user: User, *, reason: str, now: datetime) -> int:
    """End every session `user` has open, on every device: the session version moves on too,
    so no cookie issued before opens anything. Returns how many rows were open (the caller
    audits the event that caused it)."""
    user.session_version = (user.session_version or 0) + 1
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
