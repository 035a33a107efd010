from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage.extensions import Model
from statuspage.models.platforms import Platform
from statuspage.models.staff import User
from statuspage.models.vocab import OPEN_INCIDENT_STATUSES, ORIGINAL_LANGUAGE, PRIORITIES
from statuspage.types import UTCDateTime

MINUTE = timedelta(minutes=1)


def whole_minute_after(moment: datetime) -> datetime:
    """`moment` rounded up to its minute: 16:23:27 -> 16:24:00, 16:24:00 stays.

    Deadlines are whole minutes: pages show them to the minute and are rendered once a
    minute (`views.caching`), so a page rendered for the minute a deadline names already
    says it has come, and the overdue job agrees with it to the second.
    """
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + MINUTE


def text_in(original: str, versions: dict[str, str] | None, language: str) -> str:
    """The version of a staff-written text in `language`, or the original."""
    if language == ORIGINAL_LANGUAGE:
        return original
    return (versions or {}).get(language) or original


class Incident(Model):
    """An incident; with priority P1G it is a master case affecting several organisations."""

    __tablename__ = "incident"
    # Every public page asks for the open master cases (the banner): one index lookup.
    __table_args__ = (Index("ix_incident_priority_status", "priority", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    impact: Mapped[str] = mapped_column(String(16), default="none")
    priority: Mapped[str] = mapped_column(String(4), default="P3")
    status: Mapped[str] = mapped_column(String(16), default="investigating")
    case_number: Mapped[str | None] = mapped_column(String(64))
    customer_case_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The title in the site's other languages ({"es": ..., "de": ...}); `title` is the original.
    title_translations: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    monitoring_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    created_by: Mapped[User | None] = relationship()
    platforms: Mapped[list[IncidentPlatform]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentPlatform.id"
    )
    updates: Mapped[list[IncidentUpdate]] = relationship(
        back_populates="incident",
        cascade="all, delete-orphan",
        order_by="(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())",
    )

    @property
    def is_master_case(self) -> bool:
        return self.priority == "P1G"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INCIDENT_STATUSES

    @property
    def last_update_at(self) -> datetime:
        """When the public last heard about it: the newest update, or the start."""
        return max((u.display_at for u in self.updates), default=self.started_at)

    @property
    def latest_update(self) -> IncidentUpdate | None:
        """The newest timeline entry (by display time, then id), or None."""
        return max(self.updates, key=lambda u: (u.display_at, u.id or 0), default=None)

    def title_in(self, language: str) -> str:
        """The title in `language` where staff gave it, else the original."""
        return text_in(self.title, self.title_translations, language)

    def has_title_in(self, language: str) -> bool:
        return language == ORIGINAL_LANGUAGE or bool((self.title_translations or {}).get(language))

    @property
    def etr(self) -> datetime | None:
        """While open, the estimated time of resolution the newest update gave, or None.

        The plan lets CSS give an ETR instead of scheduled updates.
        """
        latest = self.latest_update
        return latest.etr if self.is_open and latest is not None else None

    @property
    def next_update_due(self) -> datetime | None:
        """When the public must next hear about it while open, or None: the newest update's
        ETR when it gave one (the plan's ETR stands for the scheduled updates), else the
        priority's interval after the newest update (P1G: hourly). A whole minute (see
        `whole_minute_after`): an update posted at 16:23:27 is due by 17:24."""
        if not self.is_open:
            return None
        etr = self.etr
        if etr is not None:
            return whole_minute_after(etr)
        interval = PRIORITIES[self.priority].update_interval
        if interval is None:
            return None
        return whole_minute_after(self.last_update_at + interval)

    def is_update_overdue(self, now: datetime) -> bool:
        """Whether the next update's deadline has come at `now`: from the first instant of
        the minute it names, so a page rendered for that minute says so."""
        due = self.next_update_due
        return due is not None and now >= due

    def __repr__(self) -> str:
        return f"<Incident {self.id} {self.priority} {self.status}>"


class IncidentPlatform(Model):
    """A platform an incident affects, and the status the incident puts it in."""

    __tablename__ = "incident_platform"
    __table_args__ = (UniqueConstraint("incident_id", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(32))

    incident: Mapped[Incident] = relationship(back_populates="platforms")
    platform: Mapped[Platform] = relationship()


class IncidentUpdate(Model):
    """One entry of an incident's timeline."""

    __tablename__ = "incident_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incident.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    display_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deliver_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    # An estimated time of resolution given instead of scheduled updates (support plan).
    etr: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The text in the site's other languages ({"es": ..., "de": ...}); `body` is the original.
    body_translations: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    # When staff last corrected the text (shown as "edited"), or None.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    incident: Mapped[Incident] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    def body_in(self, language: str) -> str:
        """The text in `language` where staff gave it, else the original."""
        return text_in(self.body, self.body_translations, language)

    def has_body_in(self, language: str) -> bool:
        return language == ORIGINAL_LANGUAGE or bool((self.body_translations or {}).get(language))

    platform_changes: Mapped[list[IncidentUpdatePlatform]] = relationship(
        back_populates="update", cascade="all, delete-orphan", order_by="IncidentUpdatePlatform.id"
    )


class IncidentUpdatePlatform(Model):
    """A platform whose status an update changed (Statuspage's affected_components)."""

    __tablename__ = "incident_update_platform"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_id: Mapped[int] = mapped_column(
        ForeignKey("incident_update.id", ondelete="CASCADE"), index=True
    )
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    old_status: Mapped[str] = mapped_column(String(32))
    new_status: Mapped[str] = mapped_column(String(32))

    update: Mapped[IncidentUpdate] = relationship(back_populates="platform_changes")
    platform: Mapped[Platform] = relationship()
