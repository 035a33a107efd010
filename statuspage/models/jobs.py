"""The scheduler's own record: which process ran which job, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import Model
from statuspage.types import UTCDateTime


class SchedulerRun(Model):
    """One run of a scheduled job by the process holding the scheduler lock (`jobs.lock`).

    The start is written only while that process holds the lock (on PostgreSQL in one
    statement with the check that it does), the end once the job's function returned, so
    the table tells from the database alone whether two processes ever ran jobs at once,
    and when each job last ran. `outcome`: `ok` or `failed` (`error` says why); none while
    it runs, or when its process died in it. Runs older than a week are deleted.
    """

    __tablename__ = "scheduler_run"
    __table_args__ = (Index("ix_scheduler_run_job_started_at", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    # host:pid:random, also the scheduler's PostgreSQL application_name ("statuspage
    # scheduler <owner>"), so pg_stat_activity names the process holding the lock.
    owner: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
