"""A large fan-out is sent pass after pass without waiting for the poll: a delivery pass
makes at most `PASS_BATCHES` requests (the other jobs get their turn between passes), and one
that made them all is followed at once by the next."""

from __future__ import annotations

import os

from jobs import scheduler as job_scheduler
from tests.helpers import open_incident, wait_until
from tests.outbox import add_subscribers
from tests.sendgrid_server import API_KEY, sendgrid_server


def test_a_pass_that_made_all_its_requests_is_followed_at_once_by_the_next(
    app, db, css, monkeypatch
):
    monkeypatch.setattr(job_scheduler, "PASS_BATCHES", 1)
    app.config["DELIVERY_INTERVAL"] = 3600  # the poll alone would wait an hour between
    add_subscribers(db, 2500)  # three requests: three passes
    os.makedirs(app.instance_path, exist_ok=True)
    with sendgrid_server() as sendgrid:
        app.config.update(SENDGRID_API_KEY=API_KEY, SENDGRID_HOST=sendgrid.url)
        scheduler = job_scheduler.build_scheduler(app)
        scheduler.start()
        try:
            open_incident(db, css)  # wakes the first pass
            assert wait_until(lambda: len(sendgrid.recipients()) == 2500, 30)
        finally:
            scheduler.shutdown(wait=True)
        assert [len(r["personalizations"]) for r in sendgrid.requests] == [1000, 1000, 500]
