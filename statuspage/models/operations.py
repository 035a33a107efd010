"""What the service knows of its own running: when each scheduled job last ran.

One row per job, written by the job process after each run (`jobs.heartbeat`) and read by
`/readyz`, the metrics endpoint and `flask doctor`: a reader in any process learns whether
the scheduler is alive without asking it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import Model
from statuspage.types import UTCDateTime


class JobRun(Model):
    """The latest run of one scheduled job (`name`), successful or not, and its interval."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Seconds between two runs as the scheduler that wrote the row has it.
    interval_seconds: Mapped[float] = mapped_column(Float)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_duration_seconds: Mapped[float] = mapped_column(Float)
    # The last failure's exception type and message, kept until the next success.
    last_error: Mapped[str | None] = mapped_column(Text)
