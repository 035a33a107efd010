"""Whether this service is ready to do its whole job (`/readyz`, `flask doctor`).

Ready means: the database answers, its schema is at the migrations' head (`flask init` has
run for this code), and the scheduler has been heard from lately: some job finished a run
(successfully or not) within two of the scheduler's longest interval (its jobs' runs are
recorded by `jobs.heartbeat`). Each answer is one word, never a detail that could help an
attacker (no versions, hosts or errors).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session

from statuspage.queries import health
from statuspage.queries import operations as queries

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
# The scheduler is silent once no job has run for this many of its longest interval.
INTERVALS_OF_SILENCE = 2


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations this code ships (read once per process)."""
    return frozenset(ScriptDirectory(MIGRATIONS).get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in ScriptDirectory(MIGRATIONS).walk_revisions())


@dataclass(frozen=True)
class Readiness:
    database: str  # ok | error
    migrations: str  # ok | behind (run `flask init`) | unknown (not this code's) | error
    scheduler: str  # ok | silent | never (no run recorded) | error

    @property
    def ready(self) -> bool:
        return (self.database, self.migrations, self.scheduler) == ("ok", "ok", "ok")

    def as_dict(self) -> dict[str, str]:
        return {
            "database": self.database,
            "migrations": self.migrations,
            "scheduler": self.scheduler,
        }


def migrations_state(revision: str | None) -> str:
    if revision is not None and revision in migration_heads():
        return "ok"
    if revision is not None and revision in known_revisions():
        return "behind"
    return "unknown"


def scheduler_state(session: Session, now: datetime) -> str:
    runs = queries.job_runs(session)
    if not runs:
        return "never"
    longest = max(run.interval_seconds for run in runs)
    newest = max(run.last_run_at for run in runs)
    heard = now - newest <= timedelta(seconds=INTERVALS_OF_SILENCE * longest)
    return "ok" if heard else "silent"


def check(session: Session, now: datetime) -> Readiness:
    """The three checks; a database that fails leaves the other two unknown."""
    try:
        health.ping(session)
    except Exception:
        session.rollback()
        return Readiness("error", "error", "error")
    try:
        migrations = migrations_state(queries.schema_revision(session))
        scheduler = scheduler_state(session, now)
    except Exception:  # a schema without the tables: not this code's
        session.rollback()
        return Readiness("ok", "unknown", "error")
    session.rollback()
    return Readiness("ok", migrations, scheduler)
