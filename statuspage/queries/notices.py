"""Reads about notices and their deliveries, for the staff pages."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage.models import Delivery, Notice


def delivery_counts(session: Session) -> dict[int, dict[str, int]]:
    """{notice id: {delivery status: count, "possibly_duplicated": count}} for staff."""
    counts: dict[int, dict[str, int]] = {}
    rows = session.execute(
        select(
            Delivery.notice_id, Delivery.status, Delivery.possibly_duplicated, func.count()
        ).group_by(Delivery.notice_id, Delivery.status, Delivery.possibly_duplicated)
    )
    for notice_id, status, duplicated, n in rows:
        entry = counts.setdefault(notice_id, {})
        entry[status] = entry.get(status, 0) + n
        if duplicated:
            entry["possibly_duplicated"] = entry.get("possibly_duplicated", 0) + n
    return counts


def recent_notices(session: Session, limit: int) -> list[Notice]:
    """The newest notices, newest first."""
    return list(
        session.scalars(
            select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)
        )
    )
