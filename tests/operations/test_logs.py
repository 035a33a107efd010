"""Logs: one JSON line per event with a request id, which a request (or a job run) carries
into the notices it causes, their deliveries, and the delivery job's lines about them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import scheduler as job_scheduler
from statuspage import logs
from statuspage.models import Delivery, Notice
from statuspage.services import incidents
from tests.api.support import BASE, cisco_id, token_for
from tests.helpers import NOW, PROJECT_ROOT
from tests.outbox import add_subscribers
from tests.sendgrid_server import API_KEY, sendgrid_server

ROOT = str(PROJECT_ROOT)


def record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("statuspage.test", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


# --- the request id -------------------------------------------------------------------


def test_a_request_gets_a_new_id_answered_in_x_request_id(client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert len(first) == 32 and int(first, 16) >= 0 and first != second


def test_a_sent_request_id_is_ignored_without_a_trusted_proxy(client):
    response = client.get("/healthz", headers={"X-Request-Id": "chosen-by-anyone"})
    assert response.headers["X-Request-Id"] != "chosen-by-anyone"


def test_a_trusted_proxys_request_id_is_kept(app, client):
    app.config["TRUSTED_PROXIES"] = 1
    response = client.get("/healthz", headers={"X-Request-Id": "lb-1f2e3d"})
    assert response.headers["X-Request-Id"] == "lb-1f2e3d"


@pytest.mark.one_backend
@pytest.mark.parametrize("sent", ["two words", 'quote"', "line\nbreak", "x" * 65, ""])
def test_a_malformed_request_id_is_replaced_even_from_a_trusted_proxy(sent):
    made = logs.accepted_request_id(sent, trusted=True)
    assert made != sent and len(made) == 32


# --- the formats ----------------------------------------------------------------------


@pytest.mark.one_backend
def test_a_json_line_holds_the_event_its_request_id_and_extras():
    with logs.bound("req-1"):
        line = logs.JsonFormatter().format(record("sent %s", "mail", notice_id=7))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "sent mail" and parsed["level"] == "info"
    assert parsed["request_id"] == "req-1" and parsed["notice_id"] == 7
    assert parsed["logger"] == "statuspage.test" and parsed["time"].endswith("+00:00")


@pytest.mark.one_backend
def test_a_line_about_another_requests_notice_names_that_request():
    with logs.bound("job-delivery-1"):
        parsed = json.loads(logs.JsonFormatter().format(record(request_id="req-9")))
    assert parsed["request_id"] == "req-9"


@pytest.mark.one_backend
def test_an_exception_stays_on_its_one_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = logs.JsonFormatter().format(made)
    assert line.count("\n") == 0 and "ValueError: bad" in json.loads(line)["exception"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.one_backend
def test_lines_are_plain_text_at_a_terminal_and_json_elsewhere():
    assert isinstance(logs.formatter_for("auto", Terminal()), logs.TextFormatter)
    assert isinstance(logs.formatter_for("auto", io.StringIO()), logs.JsonFormatter)
    assert isinstance(logs.formatter_for("json", Terminal()), logs.JsonFormatter)
    with logs.bound("req-2"):
        text = logs.TextFormatter().format(record("sent", notice_id=3))
    assert "[req-2] sent notice_id=3" in text and not text.startswith("{")


# --- from a staff action to every recipient ---------------------------------------------


def create_incident(client, headers: dict[str, str], **fields: object):
    """Open "Calls dropping" through the Manage API with `headers`; `fields`, the rest."""
    return client.post(
        f"{BASE}/incidents",
        headers=headers,
        json={"incident": {"name": "Calls dropping", **fields}},
    )


def json_lines(stderr: bytes) -> list[dict[str, object]]:
    lines = [line for line in stderr.decode().splitlines() if line.startswith("{")]
    return [json.loads(line) for line in lines]


@pytest.mark.slow
def test_one_request_id_follows_a_manage_api_call_to_the_deliveries_and_the_job_log(
    app, client, db
):
    add_subscribers(db, 1200)  # two batches: one request id on both
    headers = token_for(db, "css")
    app.config["TRUSTED_PROXIES"] = 1  # the load balancer in front names each request
    response = create_incident(
        client,
        {**headers, "X-Request-Id": "lb-7d1c9a"},
        status="investigating",
        body="Looking",
        components={cisco_id(db): "major_outage"},
        deliver_notifications=True,
    )
    assert response.status_code == 201 and response.headers["X-Request-Id"] == "lb-7d1c9a"
    notices = db.scalars(select(Notice)).all()
    assert notices and {n.request_id for n in notices} == {"lb-7d1c9a"}

    with sendgrid_server() as server:
        env = {
            **os.environ,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SENDGRID_API_KEY": API_KEY,
            "SENDGRID_HOST": server.url,
            "STATUSPAGE_URL": "http://localhost",
            "STATUSPAGE_INSTANCE_PATH": app.instance_path,
        }
        env.pop("LOG_FORMAT", None)
        job = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "statuspage", "jobs", "tick"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert job.returncode == 0, job.stderr.decode()
    db.expire_all()
    deliveries = db.scalars(select(Delivery)).all()
    assert len(deliveries) == 1200
    assert {d.request_id for d in deliveries} == {"lb-7d1c9a"}
    assert {d.status for d in deliveries} == {"sent"}

    mine = [line for line in json_lines(job.stderr) if line["request_id"] == "lb-7d1c9a"]
    queued = [line for line in mine if line["message"] == "notice queued for delivery"]
    sent = [line for line in mine if line["message"] == "delivery batch sent"]
    assert {line["notice_id"] for line in queued} == {n.id for n in notices}
    assert sum(line["recipients"] for line in queued) == 1200
    assert len(sent) == 2 and sum(line["sent"] for line in sent) == 1200
    assert {line["channel"] for line in sent} == {"email"}


def test_notices_a_job_makes_carry_its_run_id(app, db, css):
    master = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    db.commit()
    job_scheduler.tick(app, NOW + timedelta(hours=2))
    alert = db.scalar(select(Notice).where(Notice.kind == "p1g_overdue"))
    assert alert is not None and alert.incident_id == master.id
    assert alert.request_id.startswith("job-p1g-")
    created = db.scalar(select(Notice).where(Notice.kind != "p1g_overdue"))
    assert created is not None and created.request_id is None  # made outside any request


def test_a_request_without_a_trusted_proxy_stamps_its_own_new_id(app, client, db):
    headers = token_for(db, "css")
    response = create_incident(
        client,
        {**headers, "X-Request-Id": "forged"},
        components={cisco_id(db): "degraded_performance"},
    )
    assert response.status_code == 201
    made = response.headers["X-Request-Id"]
    assert made != "forged"
    assert {n.request_id for n in db.scalars(select(Notice))} == {made}
