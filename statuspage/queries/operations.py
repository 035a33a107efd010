"""Reads about the service's own state, for the metrics endpoint, `/readyz` and `flask doctor`.

Each is one small aggregate the database answers from an index or a small table, cheap
enough to run at every scrape: the numbers are then right whichever process serves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, inspect, select, text
from sqlalchemy.orm import Session

from statuspage.models import Delivery, JobRun, Notice, Subscriber
from statuspage.queries import incidents as incident_queries


@dataclass(frozen=True)
class ChannelQueue:
    """The queued deliveries of one channel: how many, and since when the oldest that is due
    (its `next_attempt_at` passed: queued at first, or its retry's moment) has waited."""

    channel: str
    queued: int
    oldest_due_at: datetime | None


def delivery_queues(session: Session, now: datetime) -> list[ChannelQueue]:
    """Queued deliveries per channel (a retry not yet due counts as queued, not as due)."""
    due = case((Delivery.next_attempt_at <= now, Delivery.next_attempt_at))
    rows = session.execute(
        select(Delivery.channel, func.count(), func.min(due))
        .where(Delivery.status == "queued")
        .group_by(Delivery.channel)
    )
    return [ChannelQueue(channel, int(n), oldest) for channel, n, oldest in rows]


def oldest_pending_notice_due(session: Session, now: datetime) -> datetime | None:
    """The moment of the oldest notice that is due and not yet fanned out to its recipients
    (nothing queued for it yet: the delivery job has not reached it)."""
    return session.scalar(
        select(func.min(Notice.due_at)).where(Notice.status == "pending", Notice.due_at <= now)
    )


def late_notices(session: Session) -> int:
    """Notices created past their moment (marked late: the scheduler was down)."""
    return int(session.scalar(select(func.count()).select_from(Notice).where(Notice.late)) or 0)


def quarantined_subscribers(session: Session) -> dict[str, int]:
    """{channel (the subscriber's mode): subscribers paused after failing for good}."""
    rows = session.execute(
        select(Subscriber.mode, func.count())
        .where(Subscriber.quarantined_at.is_not(None))
        .group_by(Subscriber.mode)
    )
    return {mode: int(n) for mode, n in rows}


def master_cases(session: Session, now: datetime) -> tuple[int, int]:
    """(open master cases, those whose hourly update is overdue at `now`)."""
    cases = incident_queries.open_master_cases(session)
    return len(cases), sum(1 for case_ in cases if case_.is_update_overdue(now))


def job_runs(session: Session) -> list[JobRun]:
    """Each scheduled job's latest run, by name."""
    return list(session.scalars(select(JobRun).order_by(JobRun.name)))


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at; None for a schema built without Alembic."""
    if not inspect(session.get_bind()).has_table("alembic_version"):
        return None
    revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


def database_clock(session: Session) -> datetime | None:
    """The database server's clock (PostgreSQL's `clock_timestamp()`, which moves within a
    transaction); None for SQLite, a file read with this process's own clock."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    moment: datetime | None = session.scalar(text("SELECT clock_timestamp()"))
    return moment
