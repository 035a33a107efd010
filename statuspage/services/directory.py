"""Accounts that follow the directory: staff who sign in through OpenID Connect (Entra ID or
any standard provider) get the role the directory's claims give them, at every sign-in.

The role comes from one claim (`roles`, Entra ID's app roles, or `groups`) whose values are
mapped to `admin`, `css` or `engineer` by a setting; several matching values give the
strongest role, and no matching value gives no access. `follow` is called with the claims of
an ID token the edge has verified (signature against the provider's keys, issuer, audience,
nonce, expiry):

- the first sign-in creates the staff member with the mapped role (audited as the
  directory); an account made before by hand with the same address, and not yet tied to a
  directory account, is tied to this one from then on;
- every sign-in sets the role again; a new role ends the user's other sessions and revokes
  their API tokens, which were made under the old one;
- a sign-in the directory gives no role refuses access, ends every session and revokes
  every token; the account is disabled until the directory gives it a role again (an admin's
  own disabling is never undone by the directory);
- a break-glass admin's address never signs in through the directory: that account is the
  way in when the directory is down or wrong, and the directory must not change its role.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.models import User
from statuspage.models.vocab import ROLES
from statuspage.services import addresses, audit, sessions, staff, text

LABEL = "directory"


@dataclass(frozen=True)
class RoleMapping:
    """Which claim carries the roles, and which of its values mean which role."""

    claim: str = "roles"
    values: Mapping[str, str] = field(
        default_factory=lambda: {role: role for role in ROLES}  # `admin` means admin...
    )

    def role(self, claims: Mapping[str, Any]) -> str | None:
        """The strongest role the claims give, or None."""
        raw = claims.get(self.claim)
        found = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        given = {self.values[v] for v in found if isinstance(v, str) and v in self.values}
        for role in ROLES:  # strongest first
            if role in given:
                return role
        return None


class NoAccess(Exception):
    """The directory's answer lets nobody in: `reason` is `no_role` (no mapped value),
    `no_address` (no usable address to create the account with), `disabled` (an admin
    disabled the account) or `break_glass` (a break-glass account)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _address(claims: Mapping[str, Any]) -> str | None:
    for name in ("email", "preferred_username", "upn"):
        value = claims.get(name)
        if isinstance(value, str):
            try:
                return addresses.canonical(value)
            except addresses.AddressError:
                continue
    return None


def _name(claims: Mapping[str, Any]) -> str:
    value = claims.get("name")
    return value.strip()[:120] if isinstance(value, str) and text.is_clean(value) else ""


def find(session: Session, issuer: str, subject: str) -> User | None:
    return session.scalar(
        select(User).where(User.sso_issuer == issuer, User.sso_subject == subject)
    )


def follow(
    session: Session,
    *,
    issuer: str,
    claims: Mapping[str, Any],
    mapping: RoleMapping,
    break_glass: frozenset[str] = frozenset(),
    now: datetime,
) -> User:
    """The staff member these verified claims sign in, with the role the directory gives
    them now; NoAccess when it gives none (see the module's docstring). Every refusal is
    audited as a failed sign-in."""
    subject = str(claims.get("sub") or "")
    address = _address(claims)
    role = mapping.role(claims)
    user = find(session, issuer, subject)
    if user is None and address is not None:
        linked = staff.find_user(session, address)
        if linked is not None and linked.sso_subject is None:
            user = linked
    email = user.email if user is not None else address
    try:
        if email is not None and email in break_glass:
            raise NoAccess("break_glass")
        if role is None:
            if user is not None:
                _lose_access(session, user, now)
            raise NoAccess("no_role")
        if user is None:
            if address is None:
                raise NoAccess("no_address")
            user = staff.create_user(
                session, None, email=address, role=role, name=_name(claims), now=now
            )
            user.sso_issuer, user.sso_subject = issuer, subject
            audit.record(
                session,
                None,
                "user.link",
                user,
                before=None,
                after={"issuer": issuer, "subject": subject},
                now=now,
                label=LABEL,
            )
            return user
        if user.sso_subject is None:
            user.sso_issuer, user.sso_subject = issuer, subject
            audit.record(
                session,
                None,
                "user.link",
                user,
                before=None,
                after={"issuer": issuer, "subject": subject},
                now=now,
                label=LABEL,
            )
        if not user.active and not user.disabled_by_directory:
            raise NoAccess("disabled")
        _keep_up(session, user, role, now)
        return user
    except NoAccess as refused:
        audit.record(
            session,
            None,
            "sign_in.failure",
            user,
            before=None,
            after={"method": "sso", "reason": refused.reason, "email": email or "", "sub": subject},
            now=now,
            label=LABEL,
            object_type="User",
        )
        raise


def refused(session: Session, *, reason: str, detail: str = "", now: datetime) -> None:
    """Record a directory sign-in refused before any account was named: the provider's
    error, or an answer that failed its checks (state, issuer, ID token)."""
    audit.record(
        session,
        None,
        "sign_in.failure",
        None,
        before=None,
        after={"method": "sso", "reason": reason, "detail": detail[:200]},
        now=now,
        label=LABEL,
        object_type="User",
    )


def _keep_up(session: Session, user: User, role: str, now: datetime) -> None:
    """The directory gives `user` `role` now: enable the account it had disabled, and take
    the new role (ending the sessions and tokens made under the old one)."""
    before = staff.snapshot(user)
    changed = False
    if not user.active:
        user.active, user.disabled_by_directory = True, False
        changed = True
    if user.role != role:
        user.role = role
        sessions.end_all(session, user, reason="role changed in the directory", now=now)
        staff.revoke_tokens(session, None, user, reason="role changed in the directory", now=now)
        changed = True
    if changed:
        audit.record(
            session,
            None,
            "user.update",
            user,
            before=before,
            after=staff.snapshot(user),
            now=now,
            label=LABEL,
        )


def _lose_access(session: Session, user: User, now: datetime) -> None:
    """The directory gives `user` no role: every session and token ends, the account is
    disabled until the directory gives it a role again."""
    if not user.active:
        return
    before = staff.snapshot(user)
    user.active, user.disabled_by_directory = False, True
    sessions.end_all(session, user, reason="no role in the directory", now=now)
    staff.revoke_tokens(session, None, user, reason="no role in the directory", now=now)
    audit.record(
        session,
        None,
        "user.update",
        user,
        before=before,
        after=staff.snapshot(user),
        now=now,
        label=LABEL,
    )
