"""Prometheus metrics: served only to a scraper holding METRICS_TOKEN; the notice pipeline,
the scheduler, master cases, the render cache, requests by route and the database pool; and
under several gunicorn workers (multiprocess mode) beside `jobs run`, every series moves as a
notice is sent, a delivery fails and a master case goes overdue."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update

from jobs import delivery
from jobs import scheduler as job_scheduler
from statuspage import create_app, metrics
from statuspage.models import Delivery, Incident, Notice, Platform
from statuspage.queries import operations as operation_queries
from statuspage.services import incidents
from statuspage.services.subscriptions import channel_signup
from tests.api.support import BASE, cisco_id, token_for
from tests.helpers import NOW, PROJECT_ROOT, SECRET_KEY, app_config, open_incident
from tests.live import gunicorn
from tests.outbox import add_subscribers
from tests.sendgrid_server import API_KEY, sendgrid_server

ROOT = str(PROJECT_ROOT)
TOKEN = "metrics-token-" + "k" * 40


def sample(name: str, **labels: str) -> float:
    """This process's value of a series (0 when it has none yet)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, token: str = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.status_code
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(series, name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


# --- who may read them ----------------------------------------------------------------


def test_metrics_are_not_served_by_default(app, client):
    assert app.config["METRICS_TOKEN"] is None
    response = client.get("/metrics")
    assert response.status_code == 404
    assert b"statuspage_" not in response.get_data()


def test_metrics_need_the_bearer_token(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and b"statuspage_" not in refused.get_data()
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    served = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert served.status_code == 200 and served.content_type.startswith("text/plain")
    assert served.headers["Cache-Control"] == "no-store"
    assert b"statuspage_database_up 1.0" in served.get_data()


@pytest.mark.one_backend
def test_a_guessable_metrics_token_stops_the_app_at_start(db_url):
    with pytest.raises(RuntimeError, match="METRICS_TOKEN is 6 characters"):
        create_app({**app_config(db_url, NOW), "METRICS_TOKEN": "secret"})


# --- events counted where they happen -------------------------------------------------


def test_deliveries_provider_errors_and_retries_are_counted_by_channel(app, db, css, sendgrid):
    add_subscribers(db, 2, language="en")
    add_subscribers(db, 3, language="de", prefix="de")
    open_incident(db, css)
    before = {
        "sent": sample("statuspage_deliveries_total", channel="email", outcome="sent"),
        "failed": sample("statuspage_deliveries_total", channel="email", outcome="failed"),
        "retried": sample("statuspage_delivery_retries_total", channel="email"),
        "503": sample("statuspage_provider_errors_total", channel="email", status="503"),
        "403": sample("statuspage_provider_errors_total", channel="email", status="403"),
    }
    app.config["DELIVERY_CONCURRENCY"] = 1  # one batch at a time: the script's order holds
    sendgrid.fail_next(503)  # the first batch (2 in English) is retried
    sendgrid.fail_next(403)  # the second (3 in German) is refused for good
    job_scheduler.tick(app, NOW)
    assert sample("statuspage_delivery_retries_total", channel="email") - before["retried"] == 2
    assert (
        sample("statuspage_deliveries_total", channel="email", outcome="failed") - before["failed"]
        == 3
    )
    assert sample("statuspage_provider_errors_total", channel="email", status="503") == (
        before["503"] + 1
    )
    assert sample("statuspage_provider_errors_total", channel="email", status="403") == (
        before["403"] + 1
    )
    job_scheduler.tick(app, NOW + timedelta(hours=1))  # the retry is due
    assert (
        sample("statuspage_deliveries_total", channel="email", outcome="sent") - before["sent"] == 2
    )


def refused_hook(db) -> channel_signup.ChannelSubscription:
    """A confirmed webhook of Cisco's to a loopback address: allowed when it subscribed,
    refused when sent (so no request is made)."""
    made = channel_signup.subscribe_channel(
        db,
        address="http://127.0.0.1:9/hook",
        platforms=[db.scalar(select(Platform).where(Platform.slug == "cisco"))],
        settings={"WEBHOOK_ALLOW_LOOPBACK": True},
        now=NOW,
    )
    made.subscriber.confirmed_at = NOW
    for sub in made.subscriber.subscriptions:
        sub.confirmed_at = NOW
    db.commit()
    return made


def test_a_webhook_refused_at_send_counts_as_refused_and_is_quarantined(app, client, db, css):
    refused_hook(db)
    app.config["METRICS_TOKEN"] = TOKEN
    assert value(scrape(client), "statuspage_subscribers_quarantined", channel="webhook") == 0
    refused = sample("statuspage_provider_errors_total", channel="webhook", status="refused")
    open_incident(db, css)
    job_scheduler.tick(app, NOW)
    assert sample("statuspage_provider_errors_total", channel="webhook", status="refused") > (
        refused
    )
    assert value(scrape(client), "statuspage_subscribers_quarantined", channel="webhook") == 1


def test_render_cache_hits_misses_and_render_time_per_page(client):
    labels = {"endpoint": "public.index"}
    miss = sample("statuspage_render_cache_lookups_total", **labels, result="miss")
    hit = sample("statuspage_render_cache_lookups_total", **labels, result="hit")
    renders = sample("statuspage_render_seconds_count", **labels)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert sample("statuspage_render_cache_lookups_total", **labels, result="miss") == miss + 1
    assert sample("statuspage_render_cache_lookups_total", **labels, result="hit") == hit + 2
    assert sample("statuspage_render_seconds_count", **labels) == renders + 1
    assert sample("statuspage_render_seconds_sum", **labels) > 0


def test_request_latency_is_labelled_by_route_never_by_path(client, db, css):
    first, second = open_incident(db, css), open_incident(db, css)
    labels = {"endpoint": "public.incident", "method": "GET", "status": "2xx"}
    before = sample("statuspage_http_request_duration_seconds_count", **labels)
    unmatched = {"endpoint": "none", "method": "GET", "status": "4xx"}
    missing = sample("statuspage_http_request_duration_seconds_count", **unmatched)
    assert client.get(f"/incidents/{first.id}").status_code == 200
    assert client.get(f"/incidents/{second.id}").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    assert sample("statuspage_http_request_duration_seconds_count", **labels) == before + 2
    assert sample("statuspage_http_request_duration_seconds_count", **unmatched) == missing + 1
    paths = [
        s.labels
        for family in REGISTRY.collect()
        for s in family.samples
        if s.name.startswith("statuspage_http_request")
    ]
    assert not any("/" in label for labels_ in paths for label in labels_.values())


def test_pool_gauges_follow_the_connections_in_use(app, client, db):
    client.get("/healthz")
    assert sample("statuspage_db_pool_size") > 0
    with db.get_bind().connect():
        in_use = sample("statuspage_db_pool_checked_out")
        assert in_use >= 1
    assert sample("statuspage_db_pool_checked_out") == in_use - 1


# --- state read from the database at scrape time --------------------------------------


def test_queued_deliveries_and_the_oldest_wait_per_channel(app, client, db, css):
    app.config["METRICS_TOKEN"] = TOKEN
    add_subscribers(db, 4)
    open_incident(db, css)
    series = scrape(client)
    # Due at NOW and not fanned out yet: the scrape's clock is NOW + 0.
    assert value(series, "statuspage_notices_oldest_pending_seconds") == 0
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=3)
    assert value(scrape(client), "statuspage_notices_oldest_pending_seconds") == 180
    delivery.fan_out(db, NOW)
    db.execute(
        update(Delivery)
        .where(Delivery.id == db.scalar(select(Delivery.id).limit(1)))
        .values(next_attempt_at=NOW + timedelta(hours=1))  # a retry not yet due
    )
    db.commit()
    series = scrape(client)
    assert value(series, "statuspage_deliveries_queued", channel="email") == 4
    assert value(series, "statuspage_deliveries_oldest_queued_seconds", channel="email") == 180
    assert value(series, "statuspage_notices_oldest_pending_seconds") == 0
    db.execute(update(Delivery).values(status="sent"))
    db.commit()
    series = scrape(client)
    assert value(series, "statuspage_deliveries_queued", channel="email") == 0
    assert value(series, "statuspage_deliveries_oldest_queued_seconds", channel="email") == 0


def test_master_cases_open_and_overdue_and_late_notices(app, client, db, css):
    app.config["METRICS_TOKEN"] = TOKEN
    before = scrape(client)
    assert value(before, "statuspage_master_cases_open") == 0
    incidents.create_incident(db, css, title="Global", priority="P1G", case_number="CS-9", now=NOW)
    db.commit()
    series = scrape(client)
    assert value(series, "statuspage_master_cases_open") == 1
    assert value(series, "statuspage_master_cases_overdue") == 0
    later = NOW + timedelta(hours=2)
    app.config["FIXED_NOW"] = later
    series = scrape(client)
    assert value(series, "statuspage_master_cases_overdue") == 1
    late = value(series, "statuspage_notices_late_total")
    # Reminders hourly while overdue: the one of 2:00, sent at 2:20 because the scheduler
    # was down, is late.
    app.config["OVERDUE_REMINDER_MINUTES"] = 60
    job_scheduler.tick(app, later + timedelta(minutes=20))
    assert value(scrape(client), "statuspage_notices_late_total") == late + 1


def test_each_jobs_last_run_and_success(app, client, db, monkeypatch):
    app.config["METRICS_TOKEN"] = TOKEN
    job_scheduler.tick(app, NOW)
    series = scrape(client)
    for job in ("windows", "notices", "p1g", "delivery"):
        labels = {"job_name": job}
        assert value(series, "statuspage_job_last_success_timestamp_seconds", **labels) == (
            NOW.timestamp()
        )
        assert value(series, "statuspage_job_interval_seconds", **labels) > 0
    failures = sample("statuspage_job_runs_total", job_name="p1g", outcome="failure")

    def broken(*args, **kwargs):
        raise RuntimeError("the on-duty list is gone")

    monkeypatch.setattr(job_scheduler.p1g, "alert_overdue", broken)
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=5)
    with pytest.raises(RuntimeError):
        job_scheduler.tick(app, NOW + timedelta(minutes=5))
    series = scrape(client)
    last_success = value(series, "statuspage_job_last_success_timestamp_seconds", job_name="p1g")
    last_run = value(series, "statuspage_job_last_run_timestamp_seconds", job_name="p1g")
    assert last_success == NOW.timestamp() and last_run == (NOW + timedelta(minutes=5)).timestamp()
    assert sample("statuspage_job_runs_total", job_name="p1g", outcome="failure") == failures + 1
    run = {r.name: r for r in operation_queries.job_runs(db)}["p1g"]
    assert run.last_error == "RuntimeError: the on-duty list is gone"


def test_a_scrape_says_when_the_database_cannot_be_read(app, client, monkeypatch):
    app.config["METRICS_TOKEN"] = TOKEN

    def down(*args, **kwargs):
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(operation_queries, "delivery_queues", down)
    series = scrape(client)
    assert value(series, "statuspage_database_up") == 0
    assert not any(name == "statuspage_deliveries_queued" for name, _ in series)


# --- under two gunicorn workers beside `jobs run` -------------------------------------


def get(url: str, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def confirmed_subscribers(db) -> None:
    """Three email subscribers of Cisco in three languages (three batches a notice), and a
    webhook to a loopback address, allowed when it subscribed and refused at send."""
    for language in ("en", "es", "de"):
        add_subscribers(db, 1, language=language, tz="UTC", prefix=language)
    refused_hook(db)


def wait_for(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
def test_every_series_moves_under_two_workers_and_jobs_run(app, db, db_url, css, tmp_path):
    """The acceptance run: reads, a write through the Manage API, a master case overdue, a
    fan-out, one batch retried, one refused, a webhook refused and quarantined, the on-duty
    alert sent late: each seen in the scrapes of the workers, whichever answers."""
    real_now = datetime.now(UTC).replace(microsecond=0)
    confirmed_subscribers(db)
    headers = token_for(db, "css")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    token = secrets.token_urlsafe(32)
    with sendgrid_server() as server:
        env = {
            "PROMETHEUS_MULTIPROC_DIR": str(folder),
            "METRICS_TOKEN": token,
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_HOST": server.url,
            "STATUSPAGE_INSTANCE_PATH": app.instance_path,
            "CSS_ON_DUTY_EMAIL": "on-duty@example.com",
            # No reminder before the alert an hour overdue is sent (late) by the job run.
            "OVERDUE_REMINDER_MINUTES": "120",
        }
        with gunicorn(db_url, workers=2, env=env) as base:
            assert get(base + "/metrics")[0] == 401  # no token, nothing served
            status, text = get(base + "/metrics", token)
            assert status == 200
            before = parse(text)
            assert value(before, "statuspage_master_cases_overdue") == 0

            reads = 12
            for _ in range(reads):
                assert get(base + "/")[0] == 200
            created = urllib.request.Request(
                base + f"{BASE}/incidents",
                data=(
                    b'{"incident": {"name": "Calls dropping", "deliver_notifications": true, '
                    b'"components": {"' + cisco_id(db).encode() + b'": "major_outage"}}}'
                ),
                headers={**headers, "Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(created, timeout=10) as response:
                assert response.status == 201
            # Its hourly update is an hour overdue.
            overdue = real_now - timedelta(hours=2)
            open_incident(
                db,
                css,
                overdue,
                "P1G",
                title="Global outage",
                case_number="CS-77",
                impact="none",
                body="",
            )
            db.execute(update(Notice).values(due_at=real_now - timedelta(minutes=1)))
            db.commit()

            # Every scrape, whichever worker answers it, sums both workers' requests.
            for _ in range(4):
                pending = parse(get(base + "/metrics", token)[1])
                assert value(
                    pending,
                    "statuspage_http_request_duration_seconds_count",
                    endpoint="public.index",
                    method="GET",
                    status="2xx",
                ) == reads + value(
                    before,
                    "statuspage_http_request_duration_seconds_count",
                    endpoint="public.index",
                    method="GET",
                    status="2xx",
                )
            assert value(pending, "statuspage_notices_oldest_pending_seconds") >= 60
            assert value(pending, "statuspage_master_cases_open") == 1
            assert value(pending, "statuspage_master_cases_overdue") == 1

            delivery.fan_out(db, real_now - timedelta(minutes=1))
            queued = parse(get(base + "/metrics", token)[1])
            assert value(queued, "statuspage_deliveries_queued", channel="email") == 6
            assert value(queued, "statuspage_deliveries_queued", channel="webhook") >= 2
            assert (
                value(queued, "statuspage_deliveries_oldest_queued_seconds", channel="email") >= 60
            )

            server.fail_next(503)  # one batch retried (in 30 s, after this test)
            server.fail_next(403)  # one refused for good
            job = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "statuspage", "jobs", "run"],
                cwd=ROOT,
                env={
                    **os.environ,
                    **env,
                    "DATABASE_URL": db_url,
                    "SECRET_KEY": SECRET_KEY,
                    "STATUSPAGE_URL": "http://localhost",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:

                def settled() -> bool:
                    db.expire_all()
                    due = db.scalars(
                        select(Delivery.id).where(
                            Delivery.status.in_(("queued", "sending")),
                            Delivery.next_attempt_at <= real_now,
                        )
                    ).all()
                    alert = db.scalar(select(Notice).where(Notice.kind == "p1g_overdue"))
                    return not due and alert is not None and alert.status == "done"

                wait_for(settled, 60, "the jobs to send everything due")
                wait_for(
                    lambda: (
                        value(
                            parse(get(base + "/metrics", token)[1]),
                            "statuspage_job_last_success_timestamp_seconds",
                            job_name="windows",
                        )
                        > 0
                    ),
                    30,
                    "every job's first run",
                )
                after = parse(get(base + "/metrics", token)[1])
            finally:
                job.terminate()
                job.wait(timeout=20)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # The notice pipeline (counted in the `jobs run` process, read by a web worker).
    assert moved("statuspage_deliveries_total", channel="email", outcome="sent") >= 4
    assert moved("statuspage_deliveries_total", channel="email", outcome="failed") == 1
    assert moved("statuspage_deliveries_total", channel="webhook", outcome="failed") >= 1
    assert moved("statuspage_provider_errors_total", channel="email", status="503") == 1
    assert moved("statuspage_provider_errors_total", channel="email", status="403") == 1
    assert moved("statuspage_provider_errors_total", channel="webhook", status="refused") >= 1
    assert moved("statuspage_delivery_retries_total", channel="email") == 1
    assert value(after, "statuspage_deliveries_queued", channel="email") == 1  # the retry
    assert value(after, "statuspage_deliveries_oldest_queued_seconds", channel="email") == 0
    assert value(after, "statuspage_notices_oldest_pending_seconds") == 0
    assert moved("statuspage_subscribers_quarantined", channel="webhook") == 1
    assert moved("statuspage_notices_late_total") == 1  # the on-duty alert, an hour late
    # The scheduler.
    for job_name in ("windows", "notices", "p1g", "delivery"):
        assert value(after, "statuspage_job_last_success_timestamp_seconds", job_name=job_name) >= (
            real_now.timestamp()
        )
        assert moved("statuspage_job_runs_total", job_name=job_name, outcome="success") >= 1
    # Master cases: still overdue (the alert is sent; the update is still owed).
    assert value(after, "statuspage_master_cases_open") == 1
    assert value(after, "statuspage_master_cases_overdue") == 1
    # The render cache and the requests, over both workers.
    index = {"endpoint": "public.index"}
    assert moved("statuspage_render_cache_lookups_total", **index, result="miss") >= 1
    assert moved("statuspage_render_cache_lookups_total", **index, result="hit") >= 1
    assert moved("statuspage_render_seconds_count", **index) >= 1
    created_labels = {"endpoint": "api_v1.create_incident", "method": "POST", "status": "2xx"}
    assert moved("statuspage_http_request_duration_seconds_count", **created_labels) == 1
    # The pools of the live processes.
    assert value(after, "statuspage_db_pool_size") > 0
    assert value(after, "statuspage_database_up") == 1
    assert db.scalar(select(Incident.id).where(Incident.priority == "P1G")) is not None
    assert metrics.multiprocess_dir() is None  # the test process itself counted nothing there
