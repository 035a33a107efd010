"""The benchmark's data set, written through the services like staff would write it.

`flask init` has already created the schema, the default platforms and the plan's three
maintenance series. On top: two years of incidents (each opened, updated three times and
resolved), a few still open (one a master case), one-off windows over the next 400 days,
and confirmed subscribers of one platform's incidents. Subscribers are bulk-inserted (a
fast path: 100,000 `subscribe` calls would measure the set-up, not the product).

History is backfilled without notifications (`deliver_notifications=False`), and the
notices the set-up queued are run through the jobs before the benchmark starts, so the
only mail in flight during the fan-out run is the notice under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import func, insert, select, text

from jobs import scheduler as job_scheduler
from statuspage.extensions import db
from statuspage.models import (
    Incident,
    MaintenanceWindow,
    Notice,
    Platform,
    Subscriber,
    Subscription,
)
from statuspage.services import incidents, maintenance, staff

SLUGS = ["cisco", "microsoft-teams", "contact-centre", "calltower-cloud", "calltower-connect"]
PRIORITIES = ["P3", "P2", "P1", "P4"]
# Subscribers' languages: most read English; "+1 request per language" in the targets.
LANGUAGES = ["es", "de", "en", "en", "en", "en", "en", "en", "en", "en"]
FAN_OUT_PLATFORM = "cisco"
ADMIN_EMAIL = "bench-admin@example.com"


@dataclass(frozen=True)
class Size:
    incidents: int
    updates: int  # in total; each incident gets updates // incidents
    windows: int  # one-off windows, beside the three series' occurrences
    subscribers: int
    open_incidents: int = 3


FULL = Size(incidents=2_000, updates=10_000, windows=500, subscribers=100_000)
FULL_PG = Size(incidents=2_000, updates=10_000, windows=500, subscribers=1_000_000)
SMOKE = Size(incidents=20, updates=100, windows=10, subscribers=300)


@dataclass
class Built:
    incident_id: int  # an open incident (the master case): /incidents/<id>
    platform_id: int  # the platform the subscribers follow
    token: str  # a Manage API token of an admin
    windows: int  # every window on the calendar (series occurrences and one-offs)


def build(app: Flask, size: Size, now: datetime) -> Built:
    with app.app_context():
        session = db.session
        admin = staff.create_user(
            session, None, email=ADMIN_EMAIL, role="admin", password="bench-password-1", now=now
        )
        token, _ = staff.create_token(session, admin, admin, name="benchmark", now=now)
        session.commit()
        maintenance.expand_series(session, now)
        session.commit()
        _incidents(app, admin, size, now)
        _windows(app, admin, size, now)
        _subscribers(size, now)
        _settle(app, now)
        master = session.scalar(
            select(Incident.id).where(Incident.priority == "P1G", Incident.resolved_at.is_(None))
        )
        platform = session.scalar(select(Platform.id).where(Platform.slug == FAN_OUT_PLATFORM))
        windows = session.scalar(select(func.count()).select_from(MaintenanceWindow))
        assert master is not None and platform is not None
        return Built(incident_id=master, platform_id=platform, token=token, windows=windows or 0)


def _incidents(app: Flask, admin, size: Size, now: datetime) -> None:  # type: ignore[no-untyped-def]
    session = db.session
    per = max(size.updates // size.incidents, 2)
    past = timedelta(days=730)
    step = past / size.incidents
    for i in range(size.incidents):
        is_open = i >= size.incidents - size.open_incidents
        master = i == size.incidents - 1
        started = now - past + step * i if not is_open else now - timedelta(minutes=20 + i % 7)
        slug = SLUGS[i % len(SLUGS)]
        incident = incidents.create_incident(
            session,
            admin,
            title=f"Calls failing on {slug} ({i})",
            body="We are investigating reports of failed calls.",
            priority="P1G" if master else PRIORITIES[i % len(PRIORITIES)],
            case_number=f"CS-{10_000 + i}" if master else None,
            impact="major" if i % 3 else "minor",
            platform_statuses={slug: "partial_outage" if i % 4 else "major_outage"},
            deliver_notifications=False,
            now=started,
        )
        middle = per - 1 if is_open else per - 2
        for n in range(middle):
            incidents.post_update(
                session,
                admin,
                incident,
                status="identified",
                body=f"Update {n + 1}: the carrier is **working on it**.",
                deliver_notifications=False,
                now=started + timedelta(minutes=3 * (n + 1))
                if is_open
                else started + timedelta(minutes=20 * (n + 1)),
            )
        if not is_open:
            incidents.resolve(
                session,
                admin,
                incident,
                body="Resolved: calls complete normally.",
                deliver_notifications=False,
                now=started + timedelta(hours=2),
            )
        if i % 100 == 99:
            session.commit()
    session.commit()


def _windows(app: Flask, admin, size: Size, now: datetime) -> None:  # type: ignore[no-untyped-def]
    session = db.session
    step = timedelta(days=396) / size.windows
    for i in range(size.windows):
        start = (now + timedelta(days=1) + step * i).replace(second=0, microsecond=0)
        maintenance.create_unscheduled(
            session,
            admin,
            title=f"Carrier maintenance {i}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            platforms=[SLUGS[i % len(SLUGS)]],
            description="The carrier replaces line cards; calls may drop once.",
            justification="The carrier's schedule.",
            urgency="The carrier chose the time.",
            tz_name=app.config["STATUSPAGE_TIMEZONE"],
            now=now,
        )
        if i % 100 == 99:
            session.commit()
    session.commit()


def _subscribers(size: Size, now: datetime) -> None:
    session = db.session
    platform_id = session.scalar(select(Platform.id).where(Platform.slug == FAN_OUT_PLATFORM))
    joined = now - timedelta(days=1)
    if session.get_bind().dialect.name == "postgresql":
        _subscribers_by_copy(size, platform_id, joined)
        return
    chunk = 10_000
    for first in range(0, size.subscribers, chunk):
        rows = [
            {
                "address": f"mpoc{i}@customer{i % 500}.example.com",
                "name": f"Contact {i}",
                "organisation": f"Customer {i % 500}",
                "language": LANGUAGES[i % len(LANGUAGES)],
                "timezone": "America/Denver",
                "source": "import",
                "confirmed_at": joined,
                "token_version": 0,
                "created_at": joined,
                "updated_at": joined,
            }
            for i in range(first, min(first + chunk, size.subscribers))
        ]
        session.execute(insert(Subscriber), rows)
    ids = list(session.scalars(select(Subscriber.id).order_by(Subscriber.id)))
    for first in range(0, len(ids), chunk):
        session.execute(
            insert(Subscription),
            [
                {
                    "subscriber_id": sid,
                    "platform_id": platform_id,
                    "incident_id": None,
                    # Incidents only: the calendar's announcements would otherwise fan out
                    # to the same 100,000 during the run and blur the one notice measured.
                    "incidents": True,
                    "maintenance": False,
                    "confirmed_at": joined,
                    "created_at": joined,
                }
                for sid in ids[first : first + chunk]
            ],
        )
    session.commit()


def _subscribers_by_copy(size: Size, platform_id: int | None, joined: datetime) -> None:
    """The same subscribers on PostgreSQL, a million in seconds: COPY, then their
    subscriptions in one INSERT ... SELECT."""
    session = db.session
    driver = session.connection().connection.driver_connection
    columns = (
        "email, name, organisation, language, timezone, source, confirmed_at, token_version, "
        "mode, created_at, updated_at"
    )
    with driver.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY subscriber ({columns}) FROM STDIN") as copy:
            for i in range(size.subscribers):
                copy.write_row(
                    (
                        f"mpoc{i}@customer{i % 500}.example.com",
                        f"Contact {i}",
                        f"Customer {i % 500}",
                        LANGUAGES[i % len(LANGUAGES)],
                        "America/Denver",
                        "import",
                        joined,
                        0,
                        "email",
                        joined,
                        joined,
                    )
                )
        # Incidents only, as above.
        cursor.execute(
            "INSERT INTO subscription (subscriber_id, platform_id, incident_id, incidents, "
            "maintenance, confirmed_at, created_at) "
            "SELECT id, %s, NULL, true, false, %s, %s FROM subscriber ORDER BY id",
            (platform_id, joined, joined),
        )
    session.commit()
    session.execute(text("ANALYZE"))
    session.commit()


def pending_notices(now: datetime) -> int:
    """Notices due by `now` that the jobs have not fanned out yet (in an app context)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notice)
            .where(Notice.status == "pending", Notice.due_at <= now)
        )
        or 0
    )


def _settle(app: Flask, now: datetime) -> None:
    """Run the jobs until the set-up's notices (window announcements) are all handled."""
    for _ in range(1_000):
        job_scheduler.tick(app, now)
        with app.app_context():
            if pending_notices(now) == 0:
                return
    raise RuntimeError("the jobs did not work through the set-up's notices")
