from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import Model, db
from statuspage.models.platforms import Platform
from statuspage.models.staff import User
from statuspage.types import UTCDateTime

series_platform = Table(
    "maintenance_series_platform",
    db.metadata,
    Column("series_id", ForeignKey("maintenance_series.id", ondelete="CASCADE"), primary_key=True),
    Column("platform_id", ForeignKey("platform.id", ondelete="CASCADE"), primary_key=True),
)

window_platform = Table(
    "maintenance_window_platform",
    db.metadata,
    Column("window_id", ForeignKey("maintenance_window.id", ondelete="CASCADE"), primary_key=True),
    Column("platform_id", ForeignKey("platform.id", ondelete="CASCADE"), primary_key=True),
)


class MaintenanceSeries(Model):
    """A recurring maintenance: an RFC 5545 rule anchored at a local start in `timezone`."""

    __tablename__ = "maintenance_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # stable, part of the iCal UID
    title: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(500))
    first_start: Mapped[datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    impact: Mapped[str] = mapped_column(String(16), default="maintenance")
    description: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every change to the series or to any of its occurrences: the SEQUENCE of all
    # the series' calendar entries. It only rises, whatever the edits, where a count of what
    # the calendar shows (EXDATEs) falls when an occurrence is widened back.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    platforms: Mapped[list[Platform]] = relationship(
        secondary=series_platform, order_by=Platform.position
    )
    windows: Mapped[list[MaintenanceWindow]] = relationship(
        back_populates="series", order_by="MaintenanceWindow.starts_at"
    )

    def __repr__(self) -> str:
        return f"<MaintenanceSeries {self.key}>"


class MaintenanceWindow(Model):
    """One maintenance occurrence with its own state, or a one-off (unscheduled) window.

    An occurrence of a series is keyed by its series and `recurrence_id`, the start the rule
    gave it; staff may move it (starts_at differs) without losing that key.
    """

    __tablename__ = "maintenance_window"
    __table_args__ = (UniqueConstraint("series_id", "recurrence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("maintenance_series.id", ondelete="CASCADE"), index=True
    )
    recurrence_id: Mapped[datetime | None] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="scheduled", index=True)
    impact: Mapped[str] = mapped_column(String(16), default="maintenance")
    description: Mapped[str] = mapped_column(Text, default="")
    justification: Mapped[str] = mapped_column(Text, default="")
    # Unscheduled work inside 05:00-23:00: why it cannot wait for the night.
    urgency: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    release_notes: Mapped[str] = mapped_column(Text, default="")
    notices: Mapped[list[str]] = mapped_column(JSON, default=list)
    unscheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Staff changed this occurrence (moved, extended, narrowed, annotated): it is shown as its
    # own calendar entry and a re-expansion of the series leaves it alone.
    customised: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    series: Mapped[MaintenanceSeries | None] = relationship(back_populates="windows")
    platforms: Mapped[list[Platform]] = relationship(
        secondary=window_platform, order_by=Platform.position
    )
    created_by: Mapped[User | None] = relationship()

    @property
    def has_impact(self) -> bool:
        return self.impact == "maintenance"

    @property
    def calendar_sequence(self) -> int:
        """SEQUENCE of this window's calendar entry: its own counter for a one-off window, its
        series' revision for an occurrence (the series event and its RECURRENCE-ID events)."""
        return self.series.revision if self.series is not None else self.sequence

    def __repr__(self) -> str:
        return f"<MaintenanceWindow {self.id} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"
