from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import Model
from statuspage.models.incidents import Incident
from statuspage.models.platforms import Platform
from statuspage.types import UTCDateTime


class Subscriber(Model):
    """An address that receives notices by one channel (`mode`: email, webhook, teams,
    slack, ...; `statuspage.channels`), in its language and time zone.

    `address` is what the channel reaches: a mailbox, an endpoint's URL (one subscriber per
    URL), a phone number. Nothing but the confirmation is sent until `confirmed_at` is set
    (double opt-in: a link, an echo, a welcome answered, a code typed, as the channel
    confirms); contacts imported from an organisation's MPOC list are confirmed by the import.

    A channel that signs what it sends keeps a secret (`webhook_secret`). `quarantined_at`
    (with the reason) pauses an address that kept failing: it receives nothing until staff
    lift the quarantine. `stopped_at`: the recipient told the channel's provider to stop
    (an SMS STOP); nothing is sent until they start again.
    """

    __tablename__ = "subscriber"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column("email", String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="America/Denver")
    # web | import | api (created by staff through the API, confirmed without an opt-in
    # mail) | api_optin (created through the API, confirming by the opt-in mail)
    source: Mapped[str] = mapped_column(String(16), default="web")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Raised on unsubscribe-all, so links mailed earlier stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    # The channel's name (`statuspage.channels`): email, webhook, teams, slack, ...
    mode: Mapped[str] = mapped_column(String(16), default="email", server_default="email")
    webhook_secret: Mapped[str | None] = mapped_column(String(64))
    quarantined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quarantine_reason: Mapped[str | None] = mapped_column(Text)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Wrong codes typed since the last code was sent (a channel confirmed by a code).
    verification_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.id"
    )

    @property
    def state(self) -> str:
        """Statuspage's subscriber state: `active` (confirmed, subscribed to something),
        `unconfirmed` (waiting for the opt-in), `quarantined` (an address paused after
        repeated failure) or `unsubscribed` (nothing left, or the recipient said stop)."""
        if not self.subscriptions or self.stopped_at is not None:
            return "unsubscribed"
        if self.quarantined_at is not None:
            return "quarantined"
        return "active" if self.confirmed_at is not None else "unconfirmed"

    def __repr__(self) -> str:
        return f"<Subscriber {self.id}>"


class Subscription(Model):
    """A subscriber's interest in a platform (incidents and/or maintenance) or one incident."""

    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "platform_id"),
        UniqueConstraint("subscriber_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscriber.id", ondelete="CASCADE"), index=True
    )
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    incidents: Mapped[bool] = mapped_column(Boolean, default=True)
    maintenance: Mapped[bool] = mapped_column(Boolean, default=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    platform: Mapped[Platform | None] = relationship()
    incident: Mapped[Incident | None] = relationship()


class ConfirmationAllowance(Model):
    """The confirmation-mail throttle of one mailbox, kept in the database so it holds
    across workers: when the last confirmation mail was queued, and how many were queued in
    the run of mails it belongs to.

    Keyed by the mailbox (`services.addresses.mailbox_key`, a digest), not the address, so
    `ann+1@example.com`, `ann+2@example.com` and `ANN@example.com` share one allowance.
    """

    __tablename__ = "confirmation_allowance"

    mailbox: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent: Mapped[int] = mapped_column(Integer)
