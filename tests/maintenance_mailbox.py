"""The maintenance calendar's notices as each subscriber's mailbox receives them: the
scheduler's windows, notices and delivery jobs run at a pinned moment into a memory mailer,
December's monthly window, and the notice kinds by name."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from jobs import delivery
from statuspage.mail.memory import MemoryMailer
from statuspage.seed.defaults import seed_series
from statuspage.services import maintenance, notices
from tests.helpers import SECRET_KEY
from tests.helpers import subscribe as add_subscriber
from tests.maintenance_fixtures import MT, window_on

TZ = "America/Denver"
START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
# The monthly window of December: Fri 18 22:00 - Sat 19 04:00 MT; announced Fri 11 22:00.
DEC_18 = date(2026, 12, 18)
WEEK_MOMENT = datetime(2026, 12, 11, 22, 0, tzinfo=MT)

WEEK, DAY, START_, DONE = (
    "maintenance_week_before",
    "maintenance_day_before",
    "maintenance_start",
    "maintenance_completion",
)
MOVED, NARROWED, GONE, CANCELLED, SHORT = (
    "maintenance_rescheduled",
    "maintenance_narrowed",
    "maintenance_no_longer_affected",
    "maintenance_cancelled",
    "maintenance_short_notice",
)


class Jobs:
    """The scheduler's jobs for a pinned `now`, delivering into a memory mailbox."""

    def __init__(self, db) -> None:
        self.db = db
        self.mailer = MemoryMailer()
        self.ctx = delivery.DeliveryContext(
            transports={"email": self.mailer},
            base_url="http://localhost",
            secret=SECRET_KEY,
            settings={"MAIL_FROM": "status@example.com", "STATUSPAGE_NAME": "Status"},
            provider_tz=TZ,
        )

    def tick(self, now: datetime, *, send: bool = True) -> None:
        # The scheduler's windows and notices jobs (`jobs.scheduler.job_functions`).
        maintenance.expand_series(self.db, now)
        self.db.commit()
        maintenance.advance_windows(self.db, now)
        self.db.commit()
        notices.queue_due_window_notices(self.db, now, TZ)
        self.db.commit()
        if send:
            delivery.fan_out(self.db, now)
            delivery.deliver(self.db, now, self.ctx)

    def mailbox(self, email: str) -> list[str]:
        return [
            batch.categories[0]
            for batch in self.mailer.batches
            for r in batch.recipients
            if r.email == email
        ]

    def mail(self, email: str, kind: str):
        found = [
            b
            for b in self.mailer.batches
            if b.categories[0] == kind and any(r.email == email for r in b.recipients)
        ]
        assert len(found) == 1
        return found[0]


def subscribe(db, email: str, slugs: list[str], at: datetime = START) -> None:
    """A subscriber to the platforms' maintenance (not their incidents), confirmed at `at`."""
    add_subscriber(db, email, slugs, at=at, incidents=False)


@pytest.fixture
def jobs(db):
    seed_series(db, START, tz_name=TZ, connect_anchor=date(2026, 1, 6))
    db.commit()
    runner = Jobs(db)
    runner.tick(START)
    return runner


def december(db):
    return window_on(db, "monthly-maintenance", DEC_18)
