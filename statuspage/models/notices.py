from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import db
from statuspage.models.subscribers import Subscriber
from statuspage.types import UTCDateTime


class Notice(db.Model):
    """One thing to tell people (the outbox). `key` makes creating it twice impossible.

    Status: `pending` until its audience is fanned out into deliveries, then `queued`, then
    `done`; or `cancelled` (its window was cancelled or moved) or `skipped` (an announcement
    whose window had already started when it came due).
    """

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    # Who receives it: "incidents" / "maintenance" subscribers of `platform_ids` (plus the
    # incident's own subscribers), "components" (the webhook subscribers of `platform_ids`:
    # a platform's status change), or "direct" to `direct_email`.
    audience: Mapped[str] = mapped_column(String(16))
    platform_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    window_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_window.id", ondelete="SET NULL"), index=True
    )
    direct_email: Mapped[str | None] = mapped_column(String(254))
    direct_subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="Delivery.id"
    )

    def __repr__(self) -> str:
        return f"<Notice {self.key} {self.status}>"


class Delivery(db.Model):
    """One notice to one recipient. `(notice, email)` is unique: nobody is queued twice.

    `sending` rows carry a lease; a sender that dies leaves its lease to expire and the row
    is sent again, marked `possibly_duplicated`, because the request may have reached the
    provider before the process was killed.
    """

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("notice_id", "email"),
        # The next due delivery, in (time, id) order, read off the index: without `id` in
        # it PostgreSQL sorts every queued row for each claim (a million-row fan-out: ~1 s).
        Index("ix_delivery_claim", "status", "next_attempt_at", "id"),
        # A sender's batch: one notice, language and zone, in id order, without reading
        # every other queued row of a large notice again for each batch.
        Index("ix_delivery_batch", "notice_id", "status", "language", "timezone", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="SET NULL"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))  # or a webhook's URL
    # email | webhook | teams | slack: a delivery to a URL is a request of its own, never
    # batched
    channel: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    possibly_duplicated: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    notice: Mapped[Notice] = relationship(back_populates="deliveries")
    subscriber: Mapped[Subscriber | None] = relationship()
