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

import sqlite3

from sqlalchemy import exc

# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER = 5

# libpq settings for every PostgreSQL connection: a server that stops answering (a cut
# network, a host gone) is noticed in seconds rather than the system's minutes. A connection
# attempt gives up after 5 s; an idle connection is probed after 10 s, every 5 s, and given
# up after 3 unanswered probes; data unacknowledged for 20 s ends the connection.
POSTGRESQL_CONNECT_ARGS = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
}


# SQLite says "OperationalError" for a missing table too; these are its words for a file it
# cannot get at right now.
SQLITE_UNREACHABLE = ("locked", "busy", "unable to open", "disk i/o error")


def unreachable(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached (rather than refused a
    statement): a restart, a failover, a cut network, a busy SQLite file."""
    if isinstance(error, exc.TimeoutError):
        return True
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        if isinstance(error.orig, sqlite3.Error):
            return any(words in str(error.orig).lower() for words in SQLITE_UNREACHABLE)
        return True
    return False
