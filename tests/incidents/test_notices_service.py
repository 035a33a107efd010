"""When maintenance notices come due, with `now` pinned (DST and downtime included)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from statuspage.models import Delivery, Notice
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance, notices
from tests.helpers import open_incident, subscribe
from tests.maintenance_fixtures import MT, extend_running, move, one_off, texts, window_on

TZ = "America/Denver"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def seed(db):
    seed_series(db, NOW, tz_name=TZ, connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()


def tell(db, notice, status="sent"):
    """A subscriber was told by `notice`: subscribers who were told are those with a
    delivery of one of the window's notices."""
    subscriber = subscribe(db, f"told{notice.id}@example.com", [], at=NOW)
    db.add(
        Delivery(
            notice_id=notice.id,
            subscriber_id=subscriber.id,
            address=subscriber.address,
            language="en",
            timezone=TZ,
            status=status,
            next_attempt_at=NOW,
            created_at=NOW,
        )
    )
    db.flush()


def notices_of(db, window):
    return {n.kind: n for n in db.scalars(select(Notice).where(Notice.window_id == window.id))}


def test_week_before_is_same_clock_time_seven_days_earlier(db):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    due = datetime(2026, 12, 11, 22, 0, tzinfo=MT)
    notices.queue_due_window_notices(db, due - timedelta(seconds=1), TZ)
    assert "maintenance_week_before" not in notices_of(db, window)
    notices.queue_due_window_notices(db, due, TZ)
    notices.queue_due_window_notices(db, due + timedelta(minutes=1), TZ)
    found = db.scalars(select(Notice).where(Notice.window_id == window.id)).all()
    assert [(n.kind, n.due_at, n.status) for n in found] == [
        ("maintenance_week_before", due, "pending")
    ]


def test_week_before_across_dst_keeps_the_local_clock_time(db):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2027, 3, 19))  # MDT, after Mar 14
    due = notices.announcement_due(window, "week_before", MT)
    assert due == datetime(2027, 3, 12, 22, 0, tzinfo=MT)  # MST
    assert window.starts_at - due == timedelta(days=7) - timedelta(hours=1)


def test_day_before_is_one_calendar_day_earlier(db):
    seed(db)
    window = window_on(db, "connect-release", date(2026, 12, 8))
    assert notices.announcement_due(window, "day_before", MT) == datetime(
        2026, 12, 7, 21, 0, tzinfo=MT
    )
    notices.queue_due_window_notices(db, datetime(2026, 12, 7, 21, 0, tzinfo=MT), TZ)
    assert notices_of(db, window)["maintenance_day_before"].status == "pending"


def test_no_notices_for_a_calendar_only_series(db):
    seed(db)
    window = window_on(db, "sfb-certificate", date(2026, 11, 27))
    maintenance.advance_windows(db, window.ends_at)
    notices.queue_due_window_notices(db, window.ends_at, TZ)
    assert notices_of(db, window) == {}


def test_downtime_across_week_before_and_start_sends_start_not_week_before(db):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    restart = window.starts_at + timedelta(minutes=30)
    maintenance.advance_windows(db, restart)
    notices.queue_due_window_notices(db, restart, TZ)
    found = notices_of(db, window)
    assert found["maintenance_week_before"].status == "skipped"
    assert found["maintenance_start"].status == "pending"
    assert found["maintenance_start"].late is True
    assert found["maintenance_start"].due_at == window.starts_at


def test_completion_at_actual_end_of_extended_window(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    new_end = extend_running(db, admin, window, hours=2)
    maintenance.advance_windows(db, window.ends_at - timedelta(minutes=1))
    notices.queue_due_window_notices(db, new_end - timedelta(minutes=1), TZ)
    assert "maintenance_completion" not in notices_of(db, window)
    maintenance.advance_windows(db, new_end)
    notices.queue_due_window_notices(db, new_end, TZ)
    assert notices_of(db, window)["maintenance_completion"].due_at == new_end


def test_moving_an_announced_window_sends_rescheduled_and_withdraws_stale(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    notices.queue_due_window_notices(db, datetime(2026, 12, 11, 22, tzinfo=MT), TZ)
    week = notices_of(db, window)["maintenance_week_before"]
    week.status = "done"  # it went out
    tell(db, week)
    new_start = datetime(2026, 12, 19, 22, tzinfo=MT)
    move(db, admin, window, new_start, now=datetime(2026, 12, 12, tzinfo=UTC))
    found = notices_of(db, window)
    assert found["maintenance_rescheduled"].payload["window"]["previous_starts_at"] == (
        datetime(2026, 12, 19, 5, tzinfo=UTC).isoformat()
    )
    assert week.status == "done"


def test_moving_an_unannounced_window_sends_nothing_and_cancels_pending(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    notices.queue_due_window_notices(db, datetime(2026, 12, 11, 22, tzinfo=MT), TZ)
    pending = notices_of(db, window)["maintenance_week_before"]
    new_start = datetime(2026, 12, 20, 22, tzinfo=MT)
    move(db, admin, window, new_start, now=datetime(2026, 12, 11, 22, 5, tzinfo=MT))
    assert pending.status == "cancelled"
    assert "maintenance_rescheduled" not in notices_of(db, window)
    # the announcement for the new start comes due at its own moment
    notices.queue_due_window_notices(db, datetime(2026, 12, 13, 22, tzinfo=MT), TZ)
    renewed = [
        n
        for n in db.scalars(select(Notice).where(Notice.window_id == window.id))
        if n.kind == "maintenance_week_before" and n.status == "pending"
    ]
    assert [n.due_at for n in renewed] == [datetime(2026, 12, 13, 22, tzinfo=MT)]


def test_cancelling_an_announced_window_tells_subscribers_once(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    notices.queue_due_window_notices(db, datetime(2026, 12, 11, 22, tzinfo=MT), TZ)
    week = notices_of(db, window)["maintenance_week_before"]
    week.status = "queued"
    tell(db, week, status="sending")  # in flight: it may reach them
    maintenance.set_window_status(
        db, admin, window, "cancelled", datetime(2026, 12, 12, tzinfo=UTC)
    )
    found = notices_of(db, window)
    assert found["maintenance_week_before"].status == "cancelled"
    assert found["maintenance_cancelled"].status == "pending"
    notices.queue_due_window_notices(db, window.starts_at, TZ)
    assert "maintenance_start" not in notices_of(db, window)


def test_unscheduled_window_is_announced_immediately(db, admin):
    start = datetime(2026, 11, 21, 1, 0, tzinfo=MT)
    window = one_off(db, admin, start=start, now=NOW, **texts("Emergency", "Patch", "Security"))
    notice = notices_of(db, window)["maintenance_scheduled"]
    assert notice.due_at == NOW and notice.status == "pending"
    assert notice.payload["window"]["justification"] == "Security"


def test_incident_notices_follow_deliver_notifications(db, css):
    incident = open_incident(db, css, NOW, title="Down", body="Looking", commit=False)
    incidents.post_update(
        db,
        css,
        incident,
        body="Quiet fix",
        deliver_notifications=False,
        now=NOW + timedelta(minutes=5),
    )
    incidents.resolve(db, css, incident, body="Fixed", now=NOW + timedelta(minutes=10))
    kinds = [n.kind for n in db.scalars(select(Notice).order_by(Notice.id))]
    assert kinds == ["incident_created", "incident_resolved"]
