"""Reads about staff: users, their sessions and second factors, API tokens, the audit log."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage.models import ApiToken, AuditEntry, RecoveryCode, SecondFactor, StaffSession, User
from statuspage.services.errors import get_or_404


def users(session: Session) -> list[User]:
    """Every staff account, active or not, by address."""
    return list(session.scalars(select(User).order_by(User.email)))


def active_users(session: Session) -> list[User]:
    """Staff accounts that may sign in (and so may own a token), by address."""
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.email)))


def tokens(session: Session) -> list[ApiToken]:
    """Every API token, revoked ones included, newest first."""
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """`user`'s API tokens, revoked ones included, newest first."""
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def open_sessions(session: Session, user: User) -> list[StaffSession]:
    """The sessions `user` has open (not ended; a directory session due for its re-check
    included), newest first."""
    return list(
        session.scalars(
            select(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .order_by(StaffSession.signed_in_at.desc(), StaffSession.id.desc())
        )
    )


def get_session(session: Session, session_id: object) -> StaffSession:
    """The session with the id in `session_id`, or NotFound."""
    return get_or_404(session, StaffSession, session_id)


def authenticator(session: Session, user: User) -> SecondFactor | None:
    """`user`'s confirmed authenticator, if any."""
    return session.scalar(
        select(SecondFactor).where(
            SecondFactor.user_id == user.id, SecondFactor.confirmed_at.is_not(None)
        )
    )


def recovery_codes_left(session: Session, user: User) -> int:
    """How many of `user`'s recovery codes are unused."""
    return (
        session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def get_token(session: Session, token_id: object) -> ApiToken:
    """The token with the id in `token_id`, or NotFound."""
    return get_or_404(session, ApiToken, token_id)


def audit_page(session: Session, page: int, per_page: int) -> tuple[list[AuditEntry], int]:
    """One page of the audit log, newest first, and the number of entries in all."""
    total = session.scalar(select(func.count(AuditEntry.id))) or 0
    entries = session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(entries), total
