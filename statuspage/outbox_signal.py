"""The outbox's wake-up signal: a commit that queues mail wakes the delivery job at once.

The delivery job polls only as a fallback (`DELIVERY_INTERVAL`: retries coming due, expired
leases, writes nobody signalled). Every session, in every process, is watched:
- a flush that adds a `pending` `Notice` (or makes one pending again), or adds or requeues a
  `Delivery` (`queued`), through ORM objects, marks its transaction. Bulk `insert()` and
  `update()` statements are not seen, so that the delivery job's own requeues and retries
  do not wake it in a loop; a writer that queues work with them calls `queued(session)`;
- on PostgreSQL that flush also issues `NOTIFY statuspage_outbox` in the same transaction.
  PostgreSQL delivers it at COMMIT and drops it on rollback, to every session listening
  (`listen()`, run by a started scheduler): a web worker wakes `jobs run` this way;
- after the outermost COMMIT, the wakers this process registered for that database
  (`subscribe()`, done by a started scheduler) are called in the committing thread: the
  in-process wake of the embedded setup (`serve`, one web worker with the scheduler inside).
  On SQLite, the embedded default, this is the only wake: a write made by another process
  (a CLI command) waits for the next poll.

The listeners are registered when this module is imported: `jobs.scheduler` imports it, and
`create_app` loads that with the CLI in every process (web workers included).

A wake is a hint, never the data: the job derives its work from the database, so a spurious
wake costs one empty pass and a lost one at most one poll interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import InstanceState, Session, SessionTransaction

from statuspage.models import Delivery, Notice

log = logging.getLogger(__name__)

CHANNEL = "statuspage_outbox"
RECONNECT_AFTER = 5.0  # seconds between attempts when the listening connection is lost

_QUEUED = "statuspage.outbox_queued"  # session.info: the database this transaction queued in
_lock = threading.Lock()
_wakers: dict[str, list[Callable[[], None]]] = {}


def _key(url: URL | str) -> str:
    return make_url(url).render_as_string(hide_password=False)


def subscribe(url: URL | str, wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` after each commit in this process that queues mail in database `url`;
    returns the function that stops it."""
    key = _key(url)
    with _lock:
        _wakers.setdefault(key, []).append(wake)

    def unsubscribe() -> None:
        with _lock:
            wakers = _wakers.get(key, [])
            if wake in wakers:
                wakers.remove(wake)
            if not wakers:
                _wakers.pop(key, None)

    return unsubscribe


def queued(session: Session) -> None:
    """Say that this transaction queued mail (for writers using bulk statements)."""
    connection = session.connection()
    session.info[_QUEUED] = _key(connection.engine.url)
    if connection.dialect.name == "postgresql":
        # Delivered at COMMIT, dropped on rollback; repeats in one transaction are merged.
        connection.exec_driver_sql(f"NOTIFY {CHANNEL}")


def _queues_mail(obj: object, new: bool) -> bool:
    if isinstance(obj, Notice):
        wanted = "pending"
    elif isinstance(obj, Delivery):
        wanted = "queued"
    else:
        return False
    state: InstanceState[Any] = inspect(obj)
    if new:  # an unset status takes the column default, which is the wanted one
        return state.dict.get("status") in (None, wanted)
    return wanted in state.attrs.status.history.added


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    if any(_queues_mail(o, True) for o in session.new) or any(
        _queues_mail(o, False) for o in session.dirty
    ):
        queued(session)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: nothing is visible yet
        return
    key = session.info.pop(_QUEUED, None)
    if key is None:
        return
    with _lock:
        wakers = list(_wakers.get(key, ()))
    for wake in wakers:
        _call(wake)


def _call(wake: Callable[[], None]) -> None:
    try:
        wake()
    except Exception:  # the write is committed; the poll will find the work
        log.exception("could not wake the delivery job")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction: committed or rolled back
        session.info.pop(_QUEUED, None)


def listen(
    url: URL | str,
    wake: Callable[[], None],
    stop: threading.Event,
    *,
    ready: threading.Event | None = None,
    poll: float = 1.0,
) -> None:
    """Call `wake` whenever a transaction on PostgreSQL database `url` commits queued mail,
    until `stop` is set (checked every `poll` seconds). Reconnects when the connection is
    lost, and wakes once on reconnecting, for what was committed while it was away."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    reconnected = False
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                if ready is not None:
                    ready.set()
                if reconnected:
                    _call(wake)
                while not stop.is_set():
                    for _ in conn.notifies(timeout=poll):
                        _call(wake)
        except psycopg.Error:
            log.warning(
                "lost the connection listening for queued mail; retrying in %s s",
                RECONNECT_AFTER,
                exc_info=True,
            )
            reconnected = True
            stop.wait(RECONNECT_AFTER)
