"""Reads about staff: users, API tokens, the audit log."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage.models import ApiToken, AuditEntry, User
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
