"""No N+1: the pages readers and staff open most run a fixed number of SQL statements,
however many incidents, updates and windows there are.

Each page is counted cold, as the first request after a write would be: the render cache
(when the app has one) is emptied and the session starts with nothing loaded, so the count
is the cost of rendering, not of answering from the cache.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from statuspage.models import User
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.helpers import login
from tests.pages.support import SLUGS, add_windows, counting

PAGES = ["/", "/api/v2/summary.json", "/history", "/admin/"]
BOUND = 40
PRIORITIES = ["P3", "P2", "P1", "P4"]


def add_incidents(
    session: Session, actor: User, now: datetime, *, count: int, updates: int, open_every: int
) -> None:
    """`count` incidents of `updates` timeline entries each; every `open_every`-th stays open
    (one of them a master case), the others end resolved."""
    for i in range(count):
        started = now - timedelta(days=60) + timedelta(minutes=37 * i)
        slug = SLUGS[i % len(SLUGS)]
        is_open = i % open_every == 0
        master = is_open and i % (open_every * 4) == 0
        incident = incidents.create_incident(
            session,
            actor,
            title=f"Calls failing on {slug} #{i}",
            body="We are investigating.",
            priority="P1G" if master else PRIORITIES[i % len(PRIORITIES)],
            case_number=f"CS-{i}" if master else None,
            impact="major",
            platform_statuses={slug: "partial_outage"},
            now=started,
        )
        middle = updates - 1 if is_open else updates - 2
        for n in range(middle):
            incidents.post_update(
                session,
                actor,
                incident,
                status="identified",
                body=f"Update {n + 1}: still working on it.",
                now=started + timedelta(minutes=5 * (n + 1)),
            )
        if not is_open:
            incidents.resolve(
                session, actor, incident, body="Resolved.", now=started + timedelta(minutes=30)
            )
        session.commit()


def cold_counts(app: Flask, admin: User) -> dict[str, int]:
    counts = {}
    for path in PAGES:
        cache = app.extensions.get("render_cache")
        if cache is not None:
            cache.clear()
        client = app.test_client()
        # A fresh app context: an empty session and `g`, as a worker's request starts with,
        # so lazy loads are not hidden by what the set-up already loaded.
        with app.app_context():
            if path.startswith("/admin"):
                login(client, admin)
            with counting() as statements:
                response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        counts[path] = len(statements)
    return counts


@pytest.mark.slow
def test_page_queries_do_not_grow_with_the_data(app, db, admin, now):
    seed_series(db, now, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, now)
    db.commit()
    add_incidents(db, admin, now, count=4, updates=5, open_every=2)
    add_windows(db, admin, now, count=2, offset=0)
    small = cold_counts(app, admin)

    # 200 incidents (20 open, 5 of them master cases) with 1,000 updates, and 100 windows.
    add_incidents(db, admin, now, count=196, updates=5, open_every=10)
    add_windows(db, admin, now, count=98, offset=2)
    large = cold_counts(app, admin)

    report = {path: (small[path], large[path]) for path in PAGES}
    assert all(s == large[p] for p, s in small.items()), f"statements (small, large): {report}"
    assert all(n < BOUND for n in large.values()), f"statements (small, large): {report}"
    # A count of one or two would be the render cache answering, not the page rendering.
    assert all(n >= 5 for n in small.values()), f"statements (small, large): {report}"
