from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import Model
from statuspage.types import UTCDateTime


class User(UserMixin, Model):
    """A staff member: `admin`, `css` (Client Services Support) or `engineer`."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("sso_issuer", "sso_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Stamped into the session at sign-in; bumping it (sign-out, a new password, disabling,
    # "sign out everywhere") makes every cookie issued before worthless.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The directory account (OpenID Connect issuer and subject) this staff member signs in
    # as; None for an account that only signs in with a password.
    sso_issuer: Mapped[str | None] = mapped_column(String(255))
    sso_subject: Mapped[str | None] = mapped_column(String(255))
    # Disabled because the directory gave no role at a sign-in (not by an admin): a later
    # sign-in the directory gives a role enables the account again.
    disabled_by_directory: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    @property
    def is_active(self) -> bool:  # Flask-Login reads this to refuse disabled accounts.
        return self.active

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Model):
    """A Manage API token; only its SHA-256 digest is stored. It acts as its owner with the
    scopes it was given (space-separated: `read`, `write`, `subscribers`) until it expires
    or is revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scopes: Mapped[str] = mapped_column(
        String(64), default="read write subscribers", server_default="read write subscribers"
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Why it was revoked (who did it is in the audit log), and when its use was last audited
    # (use is recorded at most once an hour per token).
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    use_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()


class StaffSession(Model):
    """One sign-in on one device: the cookie carries a random key whose SHA-256 digest is
    `key_hash`. A session ends at sign-out, when revoked from the sessions list, and with
    every other session of its user ("sign out everywhere", a new password, disabling, a
    role change). A directory (SSO) session also needs the directory again once
    `directory_checked_at` is older than the re-check setting."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(16))  # "password" or "sso"
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    directory_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class SecondFactor(Model):
    """A staff member's TOTP authenticator (RFC 6238): its base32 secret, confirmed once a
    code from it was typed, and the last time step accepted, so no code is taken twice."""

    __tablename__ = "second_factor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_step: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()


class RecoveryCode(Model):
    """One single-use recovery code, stored as its SHA-256 digest (codes carry 80 random
    bits, so a digest cannot be walked back)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Model):
    """Who changed what, when, with the object's state before and after."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    actor: Mapped[User | None] = relationship()
