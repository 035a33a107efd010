from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import Model
from statuspage.models.subscribers import Subscriber
from statuspage.types import UTCDateTime


class Notice(Model):
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
    # incident's own subscribers), "components" (the subscribers of `platform_ids` whose
    # channel takes a platform's status change: webhooks), or "direct" to `direct_address`.
    audience: Mapped[str] = mapped_column(String(16))
    platform_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="SET NULL"), index=True
    )
    window_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_window.id", ondelete="SET NULL"), index=True
    )
    # A direct notice's one address (with its subscriber, or alone: mail to staff).
    direct_address: Mapped[str | None] = mapped_column("direct_email", String(254))
    direct_subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The request (or job run) that caused it, carried into its deliveries and their log
    # lines (`statuspage.logs`): one id follows a staff action to every recipient.
    request_id: Mapped[str | None] = mapped_column(String(64))

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notice", cascade="all, delete-orphan", order_by="Delivery.id"
    )

    def __repr__(self) -> str:
        return f"<Notice {self.key} {self.status}>"


class Delivery(Model):
    """One notice to one recipient. `(notice, address)` is unique: nobody is queued twice.

    Status: `queued`, `sending` (claimed under a lease), `sent`, `failed`, `cancelled`, or
    `held`: beyond its channel's ceiling (so many a notice, so many an hour), kept for staff
    to release (`released_at`), never dropped silently. `sending` rows carry a lease; a
    sender that dies leaves its lease to expire and the row is sent again, marked
    `possibly_duplicated`, because the request may have reached the provider before the
    process was killed. A provider that names its messages (`provider_id`) reports on each
    later (`provider_status`: delivered, failed...).
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
    address: Mapped[str] = mapped_column("email", String(254))
    # The subscriber's channel (`statuspage.channels`), whose batch size, ceilings and
    # sender it goes by.
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
    # Its notice's request id, copied at fan-out.
    request_id: Mapped[str | None] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    provider_status: Mapped[str | None] = mapped_column(String(32))
    provider_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    notice: Mapped[Notice] = relationship(back_populates="deliveries")
    subscriber: Mapped[Subscriber | None] = relationship()
