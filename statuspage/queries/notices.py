"""Reads about notices and their deliveries, for the staff pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from statuspage.models import Delivery, Notice, Subscriber
from statuspage.services.errors import get_or_404


def delivery_counts(session: Session, notice_id: int | None = None) -> dict[int, dict[str, int]]:
    """{notice id: {delivery status: count, "possibly_duplicated": count}} for staff, of
    every notice or of one."""
    counts: dict[int, dict[str, int]] = {}
    query = select(
        Delivery.notice_id, Delivery.status, Delivery.possibly_duplicated, func.count()
    ).group_by(Delivery.notice_id, Delivery.status, Delivery.possibly_duplicated)
    if notice_id is not None:
        query = query.where(Delivery.notice_id == notice_id)
    rows = session.execute(query)
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


def get_notice(session: Session, notice_id: object) -> Notice:
    """The notice with the id in `notice_id`, or NotFound."""
    return get_or_404(session, Notice, notice_id)


def failed_deliveries(
    session: Session, notice_id: int, page: int, per_page: int
) -> tuple[list[Delivery], int]:
    """One page of a notice's failed deliveries (recipient and reason), in the order they
    were queued, and how many failed in all."""
    failed = (Delivery.notice_id == notice_id, Delivery.status == "failed")
    total = session.scalar(select(func.count()).select_from(Delivery).where(*failed)) or 0
    rows = session.scalars(
        select(Delivery)
        .where(*failed)
        .order_by(Delivery.id)
        .offset(max(page - 1, 0) * per_page)
        .limit(per_page)
    )
    return list(rows), int(total)


def recipients_by_channel(session: Session, audience: Select[tuple[Any, ...]]) -> dict[str, int]:
    """{channel: recipients} of a notice's audience (the select of `(subscriber id, ...)`
    rows its fan-out copies into deliveries), by the subscriber's mode: email, webhook,
    teams, slack. What a confirmation page says a change would reach."""
    reached = audience.subquery()
    rows = session.execute(
        select(Subscriber.mode, func.count())
        .join(reached, reached.c[0] == Subscriber.id)
        .group_by(Subscriber.mode)
    )
    return {mode: int(n) for mode, n in rows}
