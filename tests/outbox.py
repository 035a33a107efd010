"""The outbox as tests fill and drain it: subscribers in bulk, the scheduler's tick in this
process or as a `flask` command of its own against the local SendGrid-speaking server, and
what that server received."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, insert, select

from jobs import scheduler as job_scheduler
from statuspage.models import Platform, Subscriber, Subscription
from tests.helpers import NOW, PROJECT_ROOT, wait_until
from tests.sendgrid_server import API_KEY

ROOT = str(PROJECT_ROOT)


def add_subscribers(
    db,
    count: int,
    slugs=("cisco",),
    topics=("incidents", "maintenance"),
    language="en",
    tz="America/Denver",
    prefix="user",
):
    """Confirmed subscribers, inserted in bulk (ids from the database's own sequence)."""
    platform_ids = [db.scalar(select(Platform.id).where(Platform.slug == s)) for s in slugs]
    first = db.scalar(select(func.count()).select_from(Subscriber)) + 1
    emails = [f"{prefix}{first + i}@example.com" for i in range(count)]
    db.execute(
        insert(Subscriber),
        [
            {
                "address": email,
                "name": "",
                "organisation": "",
                "language": language,
                "timezone": tz,
                "source": "import",
                "confirmed_at": NOW,
                "token_version": 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
            for email in emails
        ],
    )
    ids = db.scalars(select(Subscriber.id).where(Subscriber.address.in_(emails))).all()
    db.execute(
        insert(Subscription),
        [
            {
                "subscriber_id": sid,
                "platform_id": pid,
                "incident_id": None,
                "incidents": "incidents" in topics,
                "maintenance": "maintenance" in topics,
                "confirmed_at": NOW,
                "created_at": NOW,
            }
            for sid in ids
            for pid in platform_ids
        ],
    )
    db.commit()


def tick(app, now):
    return job_scheduler.tick(app, now)


def counts(server) -> collections.Counter[tuple[str, str]]:
    return collections.Counter((m.email, m.custom_args["notice_id"]) for m in server.messages())


def env_for(app, server, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_HOST": server.url,
        "SENDGRID_TIMEOUT": "30",
        "STATUSPAGE_URL": "http://localhost",
        "RATELIMIT_ENABLED": "0",
        **extra,
    }


def flask(app, server, *args: str, **env: str) -> subprocess.Popen[bytes]:
    """Run a CLI command in its own process, with settings `env`; its output goes to a log
    file."""
    os.makedirs(app.instance_path, exist_ok=True)
    log = open(os.path.join(app.instance_path, f"proc-{time.monotonic_ns()}.log"), "wb")  # noqa: SIM115
    with log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "statuspage", *args],
            cwd=ROOT,
            env=env_for(app, server, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def flask_tick(app, server, at: datetime, **env: str) -> subprocess.Popen[bytes]:
    return flask(app, server, "jobs", "tick", "--at", at.isoformat(), **env)


def kill_in_flight(proc: subprocess.Popen[bytes], arrived: Callable[[], int], requests: int = 2):
    """Kill the sender `proc` once its `requests`-th request reached the provider (which
    holds it): `arrived()` counts the requests the provider has had so far."""
    wait_until(lambda: arrived() >= requests, timeout=60)
    assert arrived() == requests
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
