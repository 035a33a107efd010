"""What counts as "the database cannot be reached", for the code that carries on without it.

A restarted, failed-over or cut-off database shows in SQLAlchemy as an `OperationalError`
(refused or dropped connection, "terminating connection due to administrator command",
SQLite's "database is locked"), an `InterfaceError` (a connection already closed), a
`DBAPIError` whose connection was invalidated, or the pool's `TimeoutError` (no connection
to be had). The readers serve their last render (`views.caching`), a request that needs the
database answers 503 (`views.errors`), and a sender retries its record of the provider's
answer (`jobs.durable`) on exactly these; any other error is a bug and stays one.
"""

from __future__ import annotations

from sqlalchemy import exc

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER = 5


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (rather than refused a
    statement): a restart, a failover, a cut network, a busy SQLite file."""
    if isinstance(error, exc.OperationalError | exc.InterfaceError | exc.TimeoutError):
        return True
    return isinstance(error, exc.DBAPIError) and bool(error.connection_invalidated)
