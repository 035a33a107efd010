"""The database "going away" in a test: statements fail as on a dropped connection, with
the driver's own OperationalError raised where the driver's errors are (inside the
execution), so SQLAlchemy treats it as a disconnect and wraps it as it wraps a real one.
A real restart of PostgreSQL is tests/operations/test_outage_restart.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from statuspage.extensions import db as _db


@contextmanager
def outage(when: Callable[[str], bool]) -> Iterator[list[str]]:
    """Statements for which `when(statement)` is true fail as on a dropped connection;
    yields the list of those refused."""
    engine = _db.engine
    error = engine.dialect.loaded_dbapi.OperationalError
    # What each driver says when the database cannot be reached.
    words = (
        "unable to open database file"
        if engine.dialect.name == "sqlite"
        else "server closed the connection unexpectedly"
    )
    refused: list[str] = []

    def fail(cursor, statement, *args):
        if when(statement):
            refused.append(statement)
            raise error(words)

    hooks = ("do_execute", "do_executemany", "do_execute_no_params")
    for hook in hooks:
        event.listen(engine, hook, fail)
    try:
        yield refused
    finally:
        for hook in hooks:
            event.remove(engine, hook, fail)
