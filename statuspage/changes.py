"""Which writes change published data, and the version bump they make at commit.

Every session (web requests, jobs, the command line, tests) is watched: a flush or an ORM
`update()`/`delete()`/`insert()` touching a published table marks the transaction, and just
before it commits the single `data_version` row is bumped in the same transaction. Readers
then key their caches on that row (see `statuspage.views.caching`), so nobody has to
remember to invalidate anything, and a write is visible on the next request to any worker.

Tables whose rows no public page shows (the delivery log, subscribers, tokens, the audit
log, the scheduler's job runs) and a notice's progress through delivery do not bump it: an
outage's fan-out would otherwise throw away the rendered pages thousands of readers are
asking for. The bump is taken last in the transaction, so its row lock never stands between
two other locks. Raw SQL strings are not seen; write through the ORM.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import InstanceState, ORMExecuteState, Session

from statuspage.models import (
    ApiToken,
    AuditEntry,
    ConfirmationAllowance,
    DataVersion,
    Delivery,
    JobRun,
    Notice,
    RecoveryCode,
    SchedulerRun,
    SecondFactor,
    StaffSession,
    Subscriber,
    Subscription,
    User,
)
from statuspage.models.versions import ROW_ID

UNPUBLISHED = (
    ApiToken,
    AuditEntry,
    ConfirmationAllowance,
    DataVersion,
    Delivery,
    JobRun,
    RecoveryCode,
    SchedulerRun,
    SecondFactor,
    StaffSession,
    Subscriber,
    Subscription,
)
UNPUBLISHED_TABLES = frozenset(cls.__tablename__ for cls in UNPUBLISHED)
# Rows whose existence shows but only some of whose columns do: a notice's existence (a window
# "delivers notifications") but not its delivery state; a staff member's name (the author of
# an update) but not their sign-ins, password or session version.
SHOWN_COLUMNS: dict[type, frozenset[str]] = {
    Notice: frozenset(),
    User: frozenset({"name", "email"}),
}
PROGRESS_ONLY_TABLES = frozenset({Notice.__tablename__})

_FLAG = "statuspage.publishes"


def _published(obj: object) -> bool:
    return not isinstance(obj, UNPUBLISHED)


def _shown_change(session: Session, obj: object) -> bool:
    if not _published(obj) or not session.is_modified(obj):
        return False
    shown = SHOWN_COLUMNS.get(type(obj))
    if shown is None:
        return True
    # raiseerr=True (the default) spelled out: without it the stubs pick the Optional overload.
    state: InstanceState[Any] = inspect(obj, raiseerr=True)
    return any(state.attrs[name].history.has_changes() for name in shown)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if session.info.get(_FLAG):
        return
    if any(_published(o) for o in (*session.new, *session.deleted)) or any(
        _shown_change(session, o) for o in session.dirty
    ):
        session.info[_FLAG] = True


@event.listens_for(Session, "do_orm_execute")
def _orm_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in UNPUBLISHED_TABLES or (name in PROGRESS_ONLY_TABLES and state.is_update):
        return
    state.session.info[_FLAG] = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()
    if not session.info.pop(_FLAG, False):
        return
    # The wall clock, not the app's pinned `now`: this is HTTP's Last-Modified.
    session.execute(
        update(DataVersion)
        .where(DataVersion.id == ROW_ID)
        .values(version=DataVersion.version + 1, changed_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_FLAG, None)
