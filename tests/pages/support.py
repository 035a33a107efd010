"""What the page tests (and the maintenance pages' tests) share: windows in bulk and counting
the statements a request runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from statuspage.extensions import db as _db
from statuspage.models import User
from tests.maintenance_fixtures import one_off

SLUGS = ["cisco", "microsoft-teams", "contact-centre", "calltower-cloud", "calltower-connect"]


def add_windows(session: Session, actor: User, now: datetime, *, count: int, offset: int) -> None:
    """One-off windows, one every three hours from an hour from now."""
    for i in range(offset, offset + count):
        start = now + timedelta(hours=1 + 3 * i)
        when = {"starts_at": start, "ends_at": start + timedelta(hours=1), "now": now}
        one_off(
            session, actor, title=f"Carrier work {i}", platforms=[SLUGS[i % len(SLUGS)]], **when
        )
    session.commit()


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL statements run on the app's engine while inside, as a list."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
