"""Benchmarks: `make bench` prints a table. Speed and memory targets live here, not in tests.

Everything runs against this machine only: the app on a loopback port, a local server that
speaks SendGrid's v3 API, and a throwaway SQLite database in a temporary folder.

Measured:
- readers rushing the page during an outage: requests/s and p95 latency for `/`,
  `/api/v2/summary.json`, `/maintenance.ics`, `/history.rss` with concurrent clients;
- notice fan-out and delivery of 10,000 recipients (SendGrid batches of 1,000);
- the import of a 10,000-row MPOC list;
- peak memory (RSS) of the process.
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from statuspage import create_app  # noqa: E402
from statuspage.extensions import db  # noqa: E402
from statuspage.queries import incidents as incident_queries  # noqa: E402
from statuspage.seed.defaults import seed_platforms, seed_series  # noqa: E402
from statuspage.services import incidents, maintenance, staff  # noqa: E402
from statuspage.services import subscriptions as subscription_service  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
LATER = NOW + timedelta(minutes=1)  # subscribers join after the seeded incidents
READERS = int(os.environ.get("BENCH_READERS", "16"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "400"))
SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "10000"))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def seed(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.create_all()
        session = db.session
        seed_platforms(session, NOW)
        seed_series(session, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
        maintenance.expand_series(session, NOW)
        css = staff.create_user(
            session,
            None,
            email="css@example.com",
            role="css",
            password="benchmark-password",
            now=NOW,
        )
        for i in range(60):
            incident = incidents.create_incident(
                session,
                css,
                title=f"Past incident {i}",
                body="Investigating",
                priority="P3",
                platform_statuses={"cisco": "partial_outage"},
                now=NOW,
            )
            incidents.resolve(session, css, incident, body="Resolved", now=NOW)
        incidents.create_incident(
            session,
            css,
            title="Calls failing",
            body="We are **investigating**",
            priority="P1G",
            case_number="CS-1",
            impact="critical",
            platform_statuses={"cisco": "major_outage", "microsoft-teams": "partial_outage"},
            now=NOW,
        )
        session.commit()


def read_rush(base: str, path: str) -> tuple[float, float]:
    """Requests per second and p95 latency (ms) with READERS concurrent clients."""
    latencies: list[float] = []

    def one(_: int) -> None:
        start = time.perf_counter()
        with urllib.request.urlopen(base + path, timeout=30) as response:
            response.read()
        latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    with ThreadPoolExecutor(READERS) as pool:
        list(pool.map(one, range(REQUESTS)))
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    return REQUESTS / elapsed, p95


def main() -> None:
    from werkzeug.serving import make_server

    from jobs import scheduler as job_scheduler
    from tests.sendgrid_server import API_KEY, sendgrid_server

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp, sendgrid_server() as sendgrid:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "SECRET_KEY": "bench",
                "RATELIMIT_ENABLED": False,
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_HOST": sendgrid.url,
                "STATUSPAGE_URL": "http://127.0.0.1",
            }
        )
        app.instance_path = tmp
        seed(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        for path in ("/", "/api/v2/summary.json", "/maintenance.ics", "/history.rss"):
            try:
                rps, p95 = read_rush(base, path)
            except urllib.error.HTTPError as exc:
                rows.append((f"GET {path}", f"HTTP {exc.code}", "not measured"))
                continue
            rows.append(
                (f"GET {path} ({READERS} readers)", f"{rps:,.0f} req/s", f"p95 {p95:,.0f} ms")
            )
        server.shutdown()

        job_scheduler.tick(app, NOW)  # the seeded incidents' notices go to nobody yet
        csv_lines = ["email,name,organisation,platforms,topics,language"] + [
            f"mpoc{i}@example.com,Contact {i},Org {i % 50},cisco;microsoft-teams,"
            f"incidents;maintenance,en"
            for i in range(SUBSCRIBERS)
        ]
        with app.app_context():
            rows_in = list(subscription_service.read_csv(io.StringIO("\n".join(csv_lines))))
            took = timed(
                lambda: (
                    subscription_service.import_contacts(db.session, rows_in, now=LATER),
                    db.session.commit(),
                )
            )
        rows.append(
            (
                f"import {SUBSCRIBERS:,} MPOC rows",
                f"{SUBSCRIBERS / took:,.0f} rows/s",
                f"{took:.1f} s",
            )
        )

        with app.app_context():
            css = staff.find_user(db.session, "css@example.com")
            master = incident_queries.open_incidents(db.session)[0]
            incidents.post_update(db.session, css, master, body="Still investigating", now=LATER)
            db.session.commit()
        took = timed(lambda: job_scheduler.tick(app, LATER))
        sent = len(sendgrid.recipients())
        rows.append(
            (
                f"fan out and deliver to {sent:,} recipients",
                f"{sent / took:,.0f} recipients/s",
                f"{took:.1f} s, {len(sendgrid.requests)} requests",
            )
        )
    rows.append(("peak memory (RSS)", f"{rss_mb():,.0f} MB", ""))

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)} | {'throughput':>22} | detail")
    print(f"{'-' * width}-+-{'-' * 22}-+-{'-' * 24}")
    for name, value, detail in rows:
        print(f"{name.ljust(width)} | {value:>22} | {detail}")


if __name__ == "__main__":
    main()
