"""`make bench` (`python -m benchmarks`): build the data set, load the servers, print the table.

`--smoke` runs the same steps on a tiny data set with one-second load runs (the test suite
runs it to prove every row is produced; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks import dataset, load, report, servers  # noqa: E402
from benchmarks.report import Row  # noqa: E402

READ_WORKERS = 2
# Measured on the 2-core machine with this data set (2 workers, 64 connections, 3 s runs,
# other work loading it): gthread (4 threads) served the pages 1,500-3,200 req/s and their
# 304s 2,500-4,400; sync 1,500-2,400 and 1,700-2,900 (its static file was faster: 3,600 vs
# 2,900). Sync closes the connection after every response, so wrk reconnects each time.
WORKER_CLASS = "gthread"
SENDGRID_LATENCY = 0.05  # seconds the local SendGrid server takes per request
PG_WORKERS = 4  # the README's production command
# The throwaway cluster of the tests (tests/pg.py: no fsync), with room for a million rows.
PG_SETTINGS = {"shared_buffers": "256MB"}
GZIP = {"Accept-Encoding": "gzip"}  # as browsers and feed readers ask


def environment(tmp: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
        "SECRET_KEY": "benchmark-secret-key-of-at-least-32-characters",
        "STATUSPAGE_INSTANCE_PATH": f"{tmp}/instance",
        "STATUSPAGE_URL": "http://127.0.0.1",
        "RATELIMIT_ENABLED": "0",
    }


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, dict(response.headers.items()), response.read()


def first_calendar_render(app, base: str) -> Row:  # type: ignore[no-untyped-def]
    """/maintenance.ics right after a write (nothing cached for the new data), 3 times."""
    from statuspage.extensions import db
    from statuspage.models import Platform
    from statuspage.services import platforms as platform_service
    from statuspage.services import staff

    for _ in range(10):  # every worker past its first request: imports, templates
        get(base + "/maintenance.ics", GZIP)
    took = []
    for i in range(3):
        with app.app_context():
            admin = staff.find_user(db.session, dataset.ADMIN_EMAIL)
            platform = db.session.query(Platform).filter_by(slug="contact-centre").one()
            platform_service.update_platform(
                db.session,
                admin,
                platform,
                description=f"Cloud contact centre services ({i}).",
                now=datetime.now(UTC),
            )
            db.session.commit()
        started = time.perf_counter()
        get(base + "/maintenance.ics", GZIP)
        took.append((time.perf_counter() - started) * 1000)
    median = statistics.median(took)
    return report.limit_row(
        "first render of /maintenance.ics (400 days)",
        median,
        f"{median:,.0f} ms (of 3: {', '.join(f'{t:,.0f}' for t in took)})",
        report.CALENDAR_MS,
        f"< {report.CALENDAR_MS:.0f} ms",
    )


def cold_calendar_render(app) -> Row:  # type: ignore[no-untyped-def]
    """The same calendar in this process with nothing reused: what a worker that has never
    rendered it pays (the reused Markdown and event lines cleared), median of 3."""
    from calendars import ical
    from statuspage.extensions import db
    from statuspage.renderers import markdown, publish
    from statuspage.views import feeds

    took = []
    with app.test_request_context():
        for _ in range(4):
            ical._single_event.cache_clear()
            markdown._render.cache_clear()
            markdown._plain.cache_clear()
            db.session.expunge_all()
            started = time.perf_counter()
            publish.maintenance_calendar(db.session, feeds.site(), None)
            took.append((time.perf_counter() - started) * 1000)
    took = took[1:]  # the first also compiles the statements
    median = statistics.median(took)
    return report.limit_row(
        "first render in a fresh worker (nothing reused)",
        median,
        f"{median:,.0f} ms (of 3: {', '.join(f'{t:,.0f}' for t in took)})",
        report.CALENDAR_MS,
        f"< {report.CALENDAR_MS:.0f} ms",
    )


def read_rows(base: str, built: dataset.Built, seconds: float) -> list[Row]:
    run: Callable[[str, dict[str, str], float], load.Result] = (
        load.wrk if load.wrk_path() else load.python_client
    )
    static = run(base + "/static/style.css", GZIP, seconds)
    rows = [report.http_row("GET /static/style.css", static, None, None)]
    for path in (
        "/",
        f"/incidents/{built.incident_id}",
        "/api/v2/summary.json",
        "/maintenance.ics",
        "/history.rss",
    ):
        # Every worker past its first render of the page (measured in rows of their own):
        # the runs measure the steady state, a new minute's renders included.
        for _ in range(4 * PG_WORKERS):
            get(base + path, GZIP)
        plain = run(base + path, GZIP, seconds)
        rows.append(report.http_row(f"GET {path}", plain, static.rps, report.CACHED_SHARE))
        # A page that moves with the clock changes its ETag every minute; wrk would keep
        # sending the old one, which no real client does, so the run stays in one minute.
        left = 60 - time.time() % 60
        if left < seconds + 1:
            time.sleep(left + 0.2)
        _, headers, _ = get(base + path, GZIP)
        etag = headers.get("ETag")
        if etag is None:
            rows.append(Row(f"GET {path} If-None-Match", "no ETag sent", verdict="missed"))
            continue
        conditional = run(base + path, {**GZIP, "If-None-Match": etag}, seconds)
        rows.append(
            report.http_row(
                f"GET {path} If-None-Match", conditional, static.rps, report.NOT_MODIFIED_SHARE
            )
        )
    return rows


def measure_fan_out(app, base: str, sendgrid, built, size, limit: float):  # type: ignore[no-untyped-def]
    """One incident notice to every subscriber, created through the Manage API at `base`
    and delivered by the scheduler to the local SendGrid server: (seconds from the API call
    to the last recipient accepted or None, requests made, recipients received)."""
    from statuspage.extensions import db

    # Steady state first: the scheduler's first passes have nothing left to do.
    deadline = time.monotonic() + 120
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        with app.app_context():
            quiet = quiet + 1 if dataset.pending_notices(datetime.now(UTC)) == 0 else 0
            db.session.remove()
        time.sleep(0.5)
    attempts_before, seen = sendgrid.attempts, len(sendgrid.requests)
    body = {
        "incident": {
            "name": "Calls to PSTN numbers failing",
            "status": "investigating",
            "impact_override": "major",
            "body": "We are investigating failed outbound calls.",
            "components": {str(built.platform_id): "major_outage"},
        }
    }
    request = urllib.request.Request(
        f"{base}/api/v1/pages/calltower/incidents",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"OAuth {built.token}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60):
            pass
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"the Manage API answered {exc.code}") from None
    received, finished = 0, None
    give_up = time.monotonic() + limit
    while time.monotonic() < give_up:
        for sent in sendgrid.requests[seen:]:
            received += sum(
                1
                for p in sent["personalizations"]
                for to in p["to"]
                if to["email"].startswith("mpoc")
            )
            seen += 1
        if received >= size.subscribers:
            finished = time.perf_counter()
            break
        time.sleep(0.01)
    wall = finished - started if finished is not None else None
    return wall, sendgrid.attempts - attempts_before, received


def wall_row(size, wall: float | None, received: int, limit: float, waited: float) -> Row:  # type: ignore[no-untyped-def]
    """The fan-out's wall time; when it did not finish within `waited` seconds, how many
    were received by then and the pace that makes per 100,000."""
    if wall is not None:
        shown = f"{wall:.1f} s"
    else:
        pace = f", {waited * 100_000 / received:,.0f} s per 100,000" if received else ""
        shown = f"timed out ({received:,} received in {waited:.0f} s{pace})"
    return report.limit_row(
        f"fan-out to {size.subscribers:,} subscribers (wall)",
        wall,
        shown,
        limit,
        f"<= {limit:.0f} s",
    )


def rss_row(what: str, rss: float, limit: float) -> Row:
    return report.limit_row(what, rss, f"{rss:,.0f} MB", limit, f"<= {limit:.0f} MB")


def fan_out_rows(app, env: dict[str, str], tmp: str, built, size) -> list[Row]:  # type: ignore[no-untyped-def]
    """The fan-out through the embedded server (gunicorn, one worker, the scheduler inside),
    timed from the API call to the last recipient accepted."""
    from tests.sendgrid_server import API_KEY, sendgrid_server

    with sendgrid_server() as sendgrid:
        if not hasattr(sendgrid, "latency"):
            raise RuntimeError("tests/sendgrid_server.py cannot delay every request")
        sendgrid.latency = SENDGRID_LATENCY
        env = {**env, "SENDGRID_API_KEY": API_KEY, "SENDGRID_HOST": sendgrid.url}
        with servers.embedded(env, Path(tmp) / "embedded.log") as server:
            limit = 600 if size is dataset.FULL else 120
            wall, made, received = measure_fan_out(app, server.base, sendgrid, built, size, limit)
            rss = server.peak_rss_mb()
    allowed = math.ceil(size.subscribers / 1000) + len(set(dataset.LANGUAGES))
    return [
        wall_row(size, wall, received, report.FAN_OUT_S, limit),
        report.limit_row(
            "fan-out requests to SendGrid",
            made,
            f"{made:,} requests",
            allowed,
            f"<= {allowed} (1 per 1,000 + 1 per language)",
        ),
        rss_row("peak RSS of the serving worker", rss, report.RSS_MB),
    ]


def postgres(args: argparse.Namespace, smoke: bool, seconds: float) -> tuple[str, list[Row]]:
    """The PostgreSQL run on a throwaway cluster: the read rows against gunicorn
    (PG_WORKERS workers) with one `jobs run` beside it, then one notice fanned out to the
    PostgreSQL data set's subscribers by that `jobs run`. Returns the table's heading and
    rows."""
    from statuspage import create_app
    from tests import pg
    from tests.sendgrid_server import API_KEY, sendgrid_server

    size = dataset.SMOKE if smoke else dataset.FULL_PG
    if args.pg_subscribers:
        size = dataclasses.replace(size, subscribers=args.pg_subscribers)
    with (
        pg.cluster(PG_SETTINGS) as cluster,
        tempfile.TemporaryDirectory(prefix="statuspage-bench-pg-") as tmp,
    ):
        cluster.create_database(template=None, name="bench")
        env = {**environment(tmp), "DATABASE_URL": cluster.url("bench")}
        os.environ.update(env)
        flask = [os.path.join(servers.BIN, "flask"), "--app", "statuspage"]
        subprocess.run([*flask, "init"], env=env, check=True, capture_output=True)
        app = create_app()
        print(
            f"PostgreSQL: building the data set ({size.incidents:,} incidents, "
            f"{size.subscribers:,} subscribers)",
            flush=True,
        )
        built_at = time.monotonic()
        built = dataset.build(app, size, datetime.now(UTC))
        build_s = time.monotonic() - built_at
        rows: list[Row] = []
        with sendgrid_server() as sendgrid:
            sendgrid.latency = SENDGRID_LATENCY
            env = {**env, "SENDGRID_API_KEY": API_KEY, "SENDGRID_HOST": sendgrid.url}
            print(
                f"PostgreSQL: gunicorn {PG_WORKERS} {args.worker_class} workers and one jobs run",
                flush=True,
            )
            with (
                servers.reader(
                    env,
                    Path(tmp) / "reader.log",
                    workers=PG_WORKERS,
                    worker_class=args.worker_class,
                ) as reader,
                servers.scheduler(env, Path(tmp) / "jobs.log") as jobs,
            ):
                loads = [os.getloadavg()[0]]
                if load.wrk_path() or smoke:
                    rows += read_rows(reader.base, built, seconds)
                print(f"PostgreSQL: fan-out to {size.subscribers:,} by jobs run", flush=True)
                loads.append(os.getloadavg()[0])
                limit = 120 if smoke else 900
                wall, made, received = measure_fan_out(
                    app, reader.base, sendgrid, built, size, limit
                )
                web_rss = reader.peak_rss_mb()
                jobs_rss = servers.peak_rss_mb(jobs.pid)
        allowed = max(math.ceil(size.subscribers / 1000), len(set(dataset.LANGUAGES)))
        rows += [
            wall_row(size, wall, received, report.PG_FAN_OUT_S, limit),
            report.limit_row(
                "fan-out requests to SendGrid",
                made,
                f"{made:,} requests",
                allowed,
                f"<= {allowed:,} (1 per 1,000)",
            ),
            rss_row("peak RSS of a web worker (largest)", web_rss, report.PG_RSS_MB),
            rss_row("peak RSS of jobs run", jobs_rss, report.PG_RSS_MB),
        ]
        with app.app_context():
            from statuspage.extensions import db

            db.engine.dispose()
    heading = (
        f"statuspage benchmark: PostgreSQL 15 (a throwaway cluster in {cluster.root.parent}); "
        f"readers: gunicorn {PG_WORKERS} {args.worker_class} workers beside one jobs run, "
        f"{client()}, {seconds:g} s per run; "
        f"fan-out: jobs run, SendGrid answering in {SENDGRID_LATENCY * 1000:.0f} ms\n"
        f"data: {size.incidents:,} incidents, {size.updates:,} updates, {built.windows:,} "
        f"windows, {size.subscribers:,} subscribers (built in {build_s:.0f} s)\n"
        f"load average (1 min): {loads[0]:.1f} as the load runs began, {loads[1]:.1f} as the "
        "fan-out began"
    )
    return heading, rows


def sqlite(args: argparse.Namespace, seconds: float) -> tuple[str, list[Row]]:
    """The SQLite run: the data set in a temporary file, read through gunicorn
    (READ_WORKERS workers), the fan-out through the embedded server. Returns the table's
    heading and rows."""
    size = dataset.SMOKE if args.smoke else dataset.FULL
    with tempfile.TemporaryDirectory(prefix="statuspage-bench-") as tmp:
        env = environment(tmp)
        os.environ.update(env)  # the data set is written in this process, to the same database
        flask = [os.path.join(servers.BIN, "flask"), "--app", "statuspage"]
        subprocess.run([*flask, "init"], env=env, check=True, capture_output=True)

        from statuspage import create_app

        app = create_app()
        print(
            f"building the data set ({size.incidents:,} incidents, {size.updates:,} updates, "
            f"{size.windows:,} one-off windows, {size.subscribers:,} subscribers)",
            flush=True,
        )
        built_at = time.monotonic()
        built = dataset.build(app, size, datetime.now(UTC))
        build_s = time.monotonic() - built_at

        rows: list[Row] = []
        print(f"serving it: gunicorn, {READ_WORKERS} {args.worker_class} workers", flush=True)
        with servers.reader(
            env, Path(tmp) / "reader.log", workers=READ_WORKERS, worker_class=args.worker_class
        ) as reader:
            loads = [os.getloadavg()[0]]
            rows.append(first_calendar_render(app, reader.base))
            rows.append(cold_calendar_render(app))
            if load.wrk_path() or args.smoke:
                rows += read_rows(reader.base, built, seconds)
        print("fan-out through the embedded server (flask serve)", flush=True)
        loads.append(os.getloadavg()[0])
        rows += fan_out_rows(app, env, tmp, built, size)
    heading = (
        f"statuspage benchmark: SQLite; readers: gunicorn {READ_WORKERS} {args.worker_class} "
        f"workers, {client()}, {seconds:g} s per run; fan-out: flask serve, SendGrid "
        f"answering in {SENDGRID_LATENCY * 1000:.0f} ms\n"
        f"data: {size.incidents:,} incidents, {size.updates:,} updates, {built.windows:,} "
        f"windows, {size.subscribers:,} subscribers (built in {build_s:.0f} s)\n"
        f"load average (1 min): {loads[0]:.1f} as the load runs began, {loads[1]:.1f} as the "
        "fan-out began"
    )
    return heading, rows


def client() -> str:
    if load.wrk_path():
        return f"wrk {load.WRK_THREADS} threads {load.CONNECTIONS} connections"
    return f"a Python client with {load.PYTHON_CLIENTS} threads (wrk not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny data, one-second runs")
    parser.add_argument("--seconds", type=float, help="length of each load run (default 3)")
    parser.add_argument("--worker-class", default=WORKER_CLASS, choices=["sync", "gthread"])
    parser.add_argument("--no-postgres", action="store_true", help="leave out the PostgreSQL run")
    parser.add_argument("--postgres-only", action="store_true", help="only the PostgreSQL run")
    parser.add_argument(
        "--pg-subscribers", type=int, help="subscribers of the PostgreSQL run (1,000,000)"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (1 if args.smoke else 3)
    began = time.monotonic()
    load_before = os.getloadavg()
    if not load.wrk_path() and not args.smoke:
        print("wrk is not installed (Debian: apt-get install wrk); skipping the load runs.")

    from tests import pg

    tables: list[tuple[str, list[Row]]] = []
    if not args.postgres_only:
        tables.append(sqlite(args, seconds))
    if args.no_postgres:
        pass
    elif not pg.available():
        print(f"{pg.SKIP_REASON} (the PostgreSQL table)")
    else:
        tables.append(postgres(args, args.smoke, seconds))
    for heading, rows in tables:
        print()
        print(heading)
        print()
        print(report.render(rows))
    print()
    load_after = os.getloadavg()
    print(
        f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
        f"({os.cpu_count()} CPUs, {cpu_model()}; other work on the machine skews the "
        f"figures); {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, total {time.monotonic() - began:.0f} s"
    )
    return 0


def cpu_model() -> str:
    """The processor's name as /proc/cpuinfo gives it (Linux), for the record of a run."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "processor unknown"


if __name__ == "__main__":
    sys.exit(main())
