"""PostgreSQL restarted under reads and a fan-out, as production runs them (gunicorn with two
gthread workers, one `jobs run`, a local SendGrid-speaking server), on a cluster of the
test's own: no response is a 500, the reads during the gap are served from the last render
(marked stale), and nothing SendGrid had accepted before the restart is sent again.

The four requests in flight when the server goes down were accepted by SendGrid (recorded)
and their answers held until the database is down: the sender learns of the acceptances
only then, and must record them once the database is back rather than leave the batches to
their lease (which would send them all again five minutes later).
"""

from __future__ import annotations

import collections
import json
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from sqlalchemy import select

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import Platform
from statuspage.services import staff
from statuspage.views.caching import STALE_HEADER
from tests import pg
from tests.helpers import NOW, SECRET_KEY
from tests.outbox import add_subscribers
from tests.processes import flask, fresh_database, gunicorn, stop, wait_for
from tests.sendgrid_server import API_KEY, sendgrid_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not pg.available(), reason=pg.SKIP_REASON),
]

SUBSCRIBERS = 5000  # five requests of 1,000: four in flight at the restart, one after
READS = ["/", "/api/v2/summary.json", "/history.rss", "/maintenance.ics", "/maintenance"]


def seed(url: str) -> tuple[str, int]:
    """Subscribers of Cisco; an admin's Manage API token and Cisco's id (returned)."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        admin = staff.create_user(
            _db.session, None, email="admin@example.com", role="admin", password="x" * 16, now=NOW
        )
        token, _ = staff.create_token(_db.session, None, admin, now=NOW)
        _db.session.commit()
        add_subscribers(_db.session, SUBSCRIBERS)
        cisco = _db.session.scalar(select(Platform.id).where(Platform.slug == "cisco"))
        _db.session.remove()
        _db.engine.dispose()
    return token, cisco


class Readers:
    """Threads reading the public pages in a loop: (sent at, answered at, path, status,
    stale header)."""

    def __init__(self, base: str, threads: int = 6) -> None:
        self.base = base
        self.seen: list[tuple[float, float, str, int, str | None]] = []
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self.loop, args=(i,), daemon=True) for i in range(threads)
        ]

    def loop(self, offset: int) -> None:
        n = offset
        while not self.stop.is_set():
            path = READS[n % len(READS)]
            n += 1
            sent = time.time()
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as response:
                    response.read()
                    status, stale = response.status, response.headers.get(STALE_HEADER)
            except urllib.error.HTTPError as error:
                status, stale = error.code, error.headers.get(STALE_HEADER)
            except OSError:
                status, stale = 0, None  # no answer at all (counted, never expected)
            self.seen.append((sent, time.time(), path, status, stale))

    def __enter__(self) -> Readers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=15)


def test_postgresql_restarted_under_reads_and_a_fan_out(tmp_path, capsys):
    with pg.cluster() as cluster, sendgrid_server() as sendgrid:
        env = fresh_database(cluster, "restart", tmp_path / "instance")
        token, cisco = seed(cluster.url("restart"))
        env.update(
            SENDGRID_API_KEY=API_KEY,
            SENDGRID_HOST=sendgrid.url,
            SENDGRID_TIMEOUT="60",
            DELIVERY_CONCURRENCY="4",
        )
        conninfo = f"host=127.0.0.1 port={cluster.port} user={pg.PG_USER} dbname=restart"
        scheduler = flask(env, tmp_path / "jobs.log", "jobs", "run")
        try:
            with gunicorn(env, tmp_path / "gunicorn.log") as base:
                for path in READS * 12:  # every page rendered in both workers
                    with urllib.request.urlopen(base + path, timeout=10) as response:
                        assert response.status == 200
                sendgrid.gate = threading.Event()
                with Readers(base) as readers:
                    request = urllib.request.Request(
                        f"{base}/api/v1/pages/calltower/incidents",
                        data=json.dumps(
                            {
                                "incident": {
                                    "name": "Calls failing",
                                    "status": "investigating",
                                    "components": {str(cisco): "major_outage"},
                                }
                            }
                        ).encode(),
                        headers={
                            "Authorization": f"OAuth {token}",
                            "Content-Type": "application/json",
                        },
                        method="POST",
                    )
                    with urllib.request.urlopen(request, timeout=10) as created:
                        assert created.status == 201
                    # Four requests accepted by SendGrid, their answers held.
                    wait_for(lambda: len(sendgrid.requests) >= 4, 60, "four requests in flight")
                    time.sleep(0.5)  # the readers render the page after the write meanwhile
                    accepted_before = collections.Counter(sendgrid.recipients())

                    cluster.stop()
                    down = time.time()
                    sendgrid.gate.set()  # the answers arrive while the database is down
                    time.sleep(1.5)
                    starting = time.time()
                    cluster.start()
                    up = time.time()

                    def all_sent() -> bool:
                        with psycopg.connect(conninfo) as conn:
                            left = conn.execute(
                                "SELECT count(*) FROM delivery WHERE status <> 'sent'"
                            ).fetchone()
                        return left == (0,) and len(sendgrid.recipients()) >= SUBSCRIBERS

                    wait_for(all_sent, 120, "every delivery sent", every=0.2)
                    time.sleep(1)  # reads after the restart
                with psycopg.connect(conninfo) as conn:
                    deliveries = conn.execute(
                        "SELECT status, attempts, possibly_duplicated, count(*) FROM delivery "
                        "GROUP BY 1, 2, 3"
                    ).fetchall()
        finally:
            stop(scheduler)

    received = collections.Counter(sendgrid.recipients())
    seen = readers.seen
    # Reads made while the server was down (sent after it stopped, answered before it
    # started again).
    gap = [r for r in seen if down <= r[0] and r[1] <= starting]
    statuses = collections.Counter(r[3] for r in seen)
    stale = [r for r in gap if r[3] == 200 and r[4]]
    with capsys.disabled():
        print(
            f"\nrestart under load: {len(seen)} reads ({dict(statuses)}), {len(gap)} during "
            f"the {up - down:.1f} s gap, {len(stale)} of them stale; "
            f"{sum(received.values())} emails to {len(received)} recipients"
        )

    assert statuses[500] == 0 and statuses[0] == 0, statuses
    assert gap and len(stale) >= len(gap) * 0.9, collections.Counter(r[3] for r in gap)
    # A page a worker had never rendered is 503 with Retry-After, never anything else.
    assert {r[3] for r in gap} <= {200, 503}
    assert all(r[4] for r in gap if r[3] == 200)
    # Once the server is back and the pools have reconnected: served as rendered again.
    after = [r for r in seen if r[0] > up + 0.5]
    assert after and all(r[3] == 200 and not r[4] for r in after)

    assert sum(accepted_before.values()) == 4000
    assert len(received) == SUBSCRIBERS and set(received.values()) == {1}
    assert deliveries == [("sent", 1, False, SUBSCRIBERS)]
