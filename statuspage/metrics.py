"""Prometheus metrics of the notice pipeline, the scheduler, master cases, the render cache,
requests and the database pool.

Two kinds of series:
- events, counted where they happen (a delivery settled, a page rendered, a request
  answered, a job run) with `prometheus_client`'s counters and histograms. Under several
  processes (gunicorn workers, `jobs run` beside them) each writes its own files in
  PROMETHEUS_MULTIPROC_DIR (multiprocess mode, chosen by that variable being set when the
  process starts) and a scrape sums them all;
- state, read from the database when scraped (`DatabaseCollector`): queued deliveries and
  the age of the oldest due one per channel, the oldest due notice not yet fanned out, late
  notices, quarantined subscribers, master cases open and overdue, each job's latest run.
  They are right whichever worker answers and whichever process did the work.

The endpoint (`views.operations`) is served only with METRICS_TOKEN set, to a scraper
sending it as a bearer token (docs/operations.md, docs/security.md).

Labels are bounded: a page or route is named by its endpoint (never its path), a channel
by the delivery's channel, a provider's answer by its HTTP status, a scheduled job by
`job_name` (Prometheus keeps `job` for the scrape job).
"""

from __future__ import annotations

import atexit
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from flask import Flask
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from statuspage.channels.base import PermanentFailure as PermanentMailError
from statuspage.channels.base import TransientFailure as TransientMailError
from statuspage.queries import operations as queries

log = logging.getLogger(__name__)
# The delivery job's lines (one per notice fanned out, one per batch) under its own name.
delivery_log = logging.getLogger("jobs.delivery")

CONTENT_TYPE = CONTENT_TYPE_LATEST
# A bearer token shorter than this could be guessed; the app refuses to start with one.
TOKEN_MIN = 32
# Counters carry no `_created` series: nothing here reads them, and they double the output.
disable_created_metrics()  # type: ignore[no-untyped-call]  # (unannotated in the library)


def multiprocess_dir() -> str | None:
    """Where this process's counters are written for the others to read, if anywhere."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


# --- events --------------------------------------------------------------------------

DELIVERIES = Counter(
    "statuspage_deliveries",
    "Deliveries settled, by channel and outcome: sent, or failed for good.",
    ["channel", "outcome"],
)
PROVIDER_ERRORS = Counter(
    "statuspage_provider_errors",
    "Requests a provider (the mail service, a webhook or channel endpoint) did not accept, "
    "by channel and HTTP status; `none`: no answer (timeout, connection), `refused`: not "
    "sent (an address not allowed), `error`: a failure of this side.",
    ["channel", "status"],
)
RETRIES = Counter(
    "statuspage_delivery_retries",
    "Deliveries queued again after a transient failure, by channel.",
    ["channel"],
)
RECOVERED = Counter(
    "statuspage_deliveries_recovered",
    "Deliveries whose sender stopped with the request in flight (lease expired): queued "
    "again, marked possibly duplicated.",
)
JOB_RUNS = Counter(
    "statuspage_job_runs",
    "Runs of the scheduled jobs in this process, by job and outcome (success, failure).",
    ["job_name", "outcome"],
)
JOB_SECONDS = Histogram(
    "statuspage_job_duration_seconds",
    "How long a scheduled job's run took.",
    ["job_name"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
RENDER_LOOKUPS = Counter(
    "statuspage_render_cache_lookups",
    "Public reads looked up in the render cache, by page (endpoint) and result (hit, miss).",
    ["endpoint", "result"],
)
RENDER_SECONDS = Histogram(
    "statuspage_render_seconds",
    "Renders of a public page for the render cache and how long each took, by page "
    "(endpoint); its _count is the number of renders.",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
REQUEST_SECONDS = Histogram(
    "statuspage_http_request_duration_seconds",
    "Time to answer a request, by route (endpoint name; `none` when no route matched), "
    "method and status class.",
    ["endpoint", "method", "status"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_CHECKED_OUT = Gauge(
    "statuspage_db_pool_checked_out",
    "Database connections in use, summed over the live processes.",
    multiprocess_mode="livesum",
)
POOL_SIZE = Gauge(
    "statuspage_db_pool_size",
    "Connections the processes' pools keep open (each may open more, up to its overflow).",
    multiprocess_mode="livesum",
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """One answered request."""
    REQUEST_SECONDS.labels(
        endpoint or "none",
        method if method in METHODS else "other",
        f"{status // 100}xx",
    ).observe(seconds)


def render_cache_lookup(endpoint: str | None, *, hit: bool) -> None:
    """A public read found its page in the render cache (hit) or not (miss)."""
    RENDER_LOOKUPS.labels(endpoint or "none", "hit" if hit else "miss").inc()


def page_rendered(endpoint: str | None, started: float) -> None:
    """A public page rendered for the cache; `started` is `time.perf_counter()` before."""
    RENDER_SECONDS.labels(endpoint or "none").observe(time.perf_counter() - started)


def job_ran(name: str, seconds: float, *, ok: bool) -> None:
    JOB_RUNS.labels(name, "success" if ok else "failure").inc()
    JOB_SECONDS.labels(name).observe(seconds)


# --- the delivery job ----------------------------------------------------------------


class _Report(Protocol):
    sent: int
    failed: int
    retried: int
    recovered: int


class _Head(Protocol):
    """The first delivery of a claimed batch (`jobs.delivery.Claimed`)."""

    @property
    def lease_owner(self) -> str: ...
    @property
    def notice_id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...


class _Request(Protocol):
    """A request of the delivery pass (`jobs.delivery._Request`)."""

    @property
    def ids(self) -> list[int]: ...
    @property
    def owner(self) -> str: ...


class _Notice(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def request_id(self) -> str | None: ...


def fanned_out(notice: _Notice, recipients: int) -> None:
    """A notice turned into one queued delivery per recipient."""
    delivery_log.info(
        "notice queued for delivery",
        extra={
            "request_id": notice.request_id,
            "notice_id": notice.id,
            "kind": notice.kind,
            "recipients": recipients,
        },
    )


def provider_status(error: BaseException) -> str:
    """The label of a request the provider did not accept: its HTTP status; `none` when no
    answer came (timeout, connection refused); `refused` when this side refused to send it
    (an address not allowed now); `error` for a failure of this side (a bug)."""
    if isinstance(error, TransientMailError | PermanentMailError):
        if error.status is not None:
            return str(error.status)
        return "none" if isinstance(error, TransientMailError) else "refused"
    return "error"


@dataclass
class DeliveryWatch:
    """Counts and logs one delivery pass batch by batch, from the pass's own report: what a
    step added to the report's sent, failed and retried counts is that batch's outcome.

    The pass calls `prepared` after rendering each claimed batch (a recipient or a notice
    that cannot be rendered is failed there) and `recorded` after recording each provider
    answer, both in the pass's own thread."""

    report: _Report
    _last: tuple[int, int, int] = (0, 0, 0)
    _heads: dict[str, _Head] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._last = self._counts()
        if self.report.recovered:
            RECOVERED.inc(self.report.recovered)
            delivery_log.warning(
                "deliveries recovered from a sender that stopped mid-request; they go again "
                "marked possibly duplicated",
                extra={"deliveries": self.report.recovered},
            )

    def _counts(self) -> tuple[int, int, int]:
        return (self.report.sent, self.report.failed, self.report.retried)

    def _step(self) -> tuple[int, int, int]:
        now = self._counts()
        sent, failed, retried = (a - b for a, b in zip(now, self._last, strict=True))
        self._last = now
        return sent, failed, retried

    def _count(self, channel: str, sent: int, failed: int, retried: int) -> None:
        if sent:
            DELIVERIES.labels(channel, "sent").inc(sent)
        if failed:
            DELIVERIES.labels(channel, "failed").inc(failed)
        if retried:
            RETRIES.labels(channel).inc(retried)

    def prepared(self, head: _Head) -> None:
        self._heads[head.lease_owner] = head
        sent, failed, retried = self._step()
        self._count(head.channel, sent, failed, retried)
        if failed:
            delivery_log.warning(
                "deliveries that could not be rendered failed",
                extra={
                    "request_id": head.request_id,
                    "notice_id": head.notice_id,
                    "channel": head.channel,
                    "failed": failed,
                },
            )

    def recorded(self, request: _Request, error: BaseException | None) -> None:
        head = self._heads.get(request.owner)
        channel = head.channel if head is not None else "unknown"
        sent, failed, retried = self._step()
        self._count(channel, sent, failed, retried)
        status = None if error is None else provider_status(error)
        if status is not None:
            PROVIDER_ERRORS.labels(channel, status).inc()
        fields: dict[str, Any] = {
            "request_id": head.request_id if head is not None else None,
            "notice_id": head.notice_id if head is not None else None,
            "channel": channel,
            "recipients": len(request.ids),
            "sent": sent,
            "failed": failed,
            "retried": retried,
        }
        if error is None:
            delivery_log.info("delivery batch sent", extra=fields)
            return
        fields["provider_status"] = status
        fields["error"] = f"{type(error).__name__}: {error}"[:500]
        if sent or failed or retried:
            delivery_log.warning("delivery batch not accepted", extra=fields)
        else:
            delivery_log.error("delivery batch left to its lease (no answer)", extra=fields)


# --- the database pool ---------------------------------------------------------------


def watch_pool(engine: Engine) -> None:
    """Keep this process's pool gauges current as connections are taken and given back."""
    if not hasattr(engine.pool, "checkedout"):  # a pool that keeps nothing (NullPool)
        return

    def update(returning: int = 0) -> None:
        pool = engine.pool  # a new one after engine.dispose(), with the same listeners
        POOL_CHECKED_OUT.set(pool.checkedout() - returning)  # type: ignore[attr-defined]
        POOL_SIZE.set(pool.size())  # type: ignore[attr-defined]

    def checked_out(*_: Any) -> None:
        update()

    def checked_in(*_: Any) -> None:
        update(returning=1)  # the event comes before the pool takes the connection back

    event.listen(engine, "checkout", checked_out)
    event.listen(engine, "checkin", checked_in)
    update()


# --- state, read at scrape time ------------------------------------------------------

# Channels shown with zero when nothing is queued for them (others appear once seen).
_CHANNELS: set[str] = {"email"}


class DatabaseCollector:
    """The database's state as gauges, read when scraped (see the module's docstring)."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "statuspage_database_up", "Whether the scrape could read the database (1) or not (0)."
        )
        try:
            families = list(self._families())
        except Exception:
            self.session.rollback()
            log.warning("metrics: the database could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator[Metric]:
        session, now = self.session, self.now
        queues = queries.delivery_queues(session, now)
        _CHANNELS.update(q.channel for q in queues)
        by_channel = {q.channel: q for q in queues}
        queued = GaugeMetricFamily(
            "statuspage_deliveries_queued",
            "Deliveries waiting to be sent (retries not yet due included), by channel.",
            labels=["channel"],
        )
        oldest = GaugeMetricFamily(
            "statuspage_deliveries_oldest_queued_seconds",
            "How long the oldest due delivery has waited since it fell due, by channel; 0 "
            "when none is due.",
            labels=["channel"],
        )
        for channel in sorted(_CHANNELS):
            q = by_channel.get(channel)
            queued.add_metric([channel], q.queued if q else 0)
            waited = (now - q.oldest_due_at).total_seconds() if q and q.oldest_due_at else 0.0
            oldest.add_metric([channel], max(waited, 0.0))
        yield queued
        yield oldest

        pending = queries.oldest_pending_notice_due(session, now)
        yield GaugeMetricFamily(
            "statuspage_notices_oldest_pending_seconds",
            "How long the oldest due notice has waited to be fanned out to its recipients; 0 "
            "when none waits.",
            value=max((now - pending).total_seconds(), 0.0) if pending else 0.0,
        )
        yield CounterMetricFamily(
            "statuspage_notices_late",
            "Notices created past their moment (the scheduler was down when they fell due).",
            value=queries.late_notices(session),
        )

        quarantined = GaugeMetricFamily(
            "statuspage_subscribers_quarantined",
            "Subscribers paused after their deliveries failed for good, by channel.",
            labels=["channel"],
        )
        counts = queries.quarantined_subscribers(session)
        for channel in sorted(set(counts) | {"webhook"}):
            quarantined.add_metric([channel], counts.get(channel, 0))
        yield quarantined

        open_cases, overdue = queries.master_cases(session, now)
        yield GaugeMetricFamily(
            "statuspage_master_cases_open", "Master cases (P1G) open.", value=open_cases
        )
        yield GaugeMetricFamily(
            "statuspage_master_cases_overdue",
            "Open master cases whose hourly update is overdue.",
            value=overdue,
        )

        last_success = GaugeMetricFamily(
            "statuspage_job_last_success_timestamp_seconds",
            "When each scheduled job last succeeded (Unix time).",
            labels=["job_name"],
        )
        last_run = GaugeMetricFamily(
            "statuspage_job_last_run_timestamp_seconds",
            "When each scheduled job last ran, successfully or not (Unix time).",
            labels=["job_name"],
        )
        interval = GaugeMetricFamily(
            "statuspage_job_interval_seconds",
            "Seconds between two runs of each scheduled job.",
            labels=["job_name"],
        )
        for run in queries.job_runs(session):
            if run.last_success_at is not None:
                last_success.add_metric([run.name], run.last_success_at.timestamp())
            last_run.add_metric([run.name], run.last_run_at.timestamp())
            interval.add_metric([run.name], run.interval_seconds)
        yield last_success
        yield last_run
        yield interval
        session.rollback()  # end the read; nothing was written


class _Together:
    """The event series (this process's, or every process's in multiprocess mode) and the
    database's state, as one registry for the exposition."""

    def __init__(self, *collectors: Any) -> None:
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def exposition(session: Session, now: datetime) -> bytes:
    """The text a scrape receives."""
    directory = multiprocess_dir()
    if directory:
        events: Any = CollectorRegistry()
        multiprocess.MultiProcessCollector(events, path=directory)  # type: ignore[no-untyped-call]
    else:
        events = REGISTRY
    together: Any = _Together(events, DatabaseCollector(session, now))
    return generate_latest(together)


def init_app(app: Flask) -> None:
    """Refuse a guessable token; watch the app's database pool."""
    token = app.config.get("METRICS_TOKEN")
    if token and len(str(token)) < TOKEN_MIN:
        raise RuntimeError(
            f"refusing to start: METRICS_TOKEN is {len(str(token))} characters; it must be at "
            f"least {TOKEN_MIN}, e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'` (or unset it to serve no metrics)"
        )
    from statuspage.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            watch_pool(engine)
    directory = multiprocess_dir()
    if directory and os.getpid() not in _LEAVING:
        # This process's gauges (its pool) leave the sums when it exits (gunicorn's master
        # also says so for a worker that dies: `server.forget_worker`).
        _LEAVING.add(os.getpid())
        atexit.register(multiprocess.mark_process_dead, os.getpid(), directory)


_LEAVING: set[int] = set()
