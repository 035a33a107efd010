"""One message per change: each subscriber's mailbox after moves, extensions, narrowings,
cancellations and downtime, with the clock pinned and every job run as the scheduler would.

The rules, for each subscriber:
- told of the window (a delivery of one of its notices): one "rescheduled" per move or
  extension, one "narrowed" per narrowing (or "no longer affects you" when none of their
  platforms is left), one "cancelled"; never the announcement again; after a move only the
  notices that follow the announcement (24-hour reminder, start, completion), at their new
  moments;
- not yet told: the normal notices at the moments still ahead (no late announcement after a
  move), nothing on cancellation; a move that leaves no announcement of the policy ahead
  announces the window at once ("at short notice"), unless it has started;
- a start notice is never sent once the window has ended: the completion says both; nor an
  announcement once the window has started, whichever job runs first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from jobs import delivery
from statuspage.models import Notice
from statuspage.services import maintenance
from tests.maintenance_fixtures import MT, move, window_on
from tests.maintenance_mailbox import (
    CANCELLED,
    DAY,
    DONE,
    GONE,
    MOVED,
    NARROWED,
    SHORT,
    START_,
    WEEK,
    WEEK_MOMENT,
    Jobs,
    december,
    subscribe,
)

# A day after December's announcement went out.
LATER = datetime(2026, 12, 12, 9, 0, tzinfo=MT)


def told_and_new(db, jobs: Jobs):
    """December's window after "told@" has had its announcement and "new@" subscribed,
    at LATER."""
    subscribe(db, "told@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    subscribe(db, "new@example.com", ["cisco"], at=LATER)
    return window


def moved_december(db, admin, new_start: datetime, now: datetime):
    """December's monthly window, moved by staff at `now` to start at `new_start`."""
    window = december(db)
    move(db, admin, window, new_start, now=now)
    db.commit()
    return window


def run_through(jobs: Jobs, window, *extra: datetime) -> None:
    """Tick at every moment that matters until the window is over."""
    for moment in sorted(extra) + [
        window.starts_at,
        window.ends_at,
        window.ends_at + timedelta(hours=1),
    ]:
        jobs.tick(moment)


def test_move_before_the_week_moment_is_announced_once_at_its_new_moment(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    new_start = datetime(2026, 12, 19, 22, 0, tzinfo=MT)
    window = moved_december(db, admin, new_start, datetime(2026, 12, 1, tzinfo=UTC))
    jobs.tick(WEEK_MOMENT)  # the old moment: nothing
    assert jobs.mailbox("a@example.com") == []
    jobs.tick(datetime(2026, 12, 12, 22, 0, tzinfo=MT))
    run_through(jobs, window)
    assert jobs.mailbox("a@example.com") == [WEEK, START_, DONE]
    week = jobs.mail("a@example.com", WEEK)
    assert "Sat, Dec 19, 2026, 22:00 – Sun, Dec 20, 04:00 MST" in week.text


def test_move_after_the_week_moment_reschedules_the_told_and_announces_to_the_rest(db, admin, jobs):
    window = told_and_new(db, jobs)
    assert jobs.mailbox("told@example.com") == [WEEK]
    new_start = datetime(2026, 12, 20, 22, 0, tzinfo=MT)  # its week moment, Dec 13, is ahead
    move(db, admin, window, new_start, now=LATER)
    db.commit()
    jobs.tick(LATER + timedelta(minutes=1))
    # the rescheduled notice goes to those told, not to every subscriber of the platform
    assert jobs.mailbox("new@example.com") == []
    run_through(jobs, window, datetime(2026, 12, 13, 22, 0, tzinfo=MT))
    assert jobs.mailbox("told@example.com") == [WEEK, MOVED, START_, DONE]
    assert jobs.mailbox("new@example.com") == [WEEK, START_, DONE]


def test_move_closer_than_a_week_announces_at_once_to_the_untold_not_late(db, admin, jobs):
    window = told_and_new(db, jobs)
    new_start = datetime(2026, 12, 16, 22, 0, tzinfo=MT)  # its week moment passed on the 9th
    move(db, admin, window, new_start, now=LATER)
    db.commit()
    jobs.tick(LATER + timedelta(minutes=1))
    # told: one "rescheduled"; not yet told: the announcement at once, not "in one week"
    assert jobs.mailbox("told@example.com") == [WEEK, MOVED]
    assert jobs.mailbox("new@example.com") == [SHORT]
    short = jobs.mail("new@example.com", SHORT)
    assert short.subject.startswith("Maintenance at short notice: Monthly")
    assert "Wed, Dec 16, 2026, 22:00 – Thu, Dec 17, 04:00 MST" in short.text
    run_through(jobs, window)
    assert jobs.mailbox("told@example.com") == [WEEK, MOVED, START_, DONE]
    assert jobs.mailbox("new@example.com") == [SHORT, START_, DONE]
    skipped = db.scalars(
        select(Notice.status).where(Notice.window_id == window.id, Notice.kind == WEEK)
    ).all()
    assert sorted(skipped) == ["done", "skipped"]


def test_untold_window_moved_inside_its_week_is_announced_at_once(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    now = datetime(2026, 12, 1, 9, 0, tzinfo=MT)
    new_start = datetime(2026, 12, 4, 22, 0, tzinfo=MT)
    window = moved_december(db, admin, new_start, now)
    run_through(jobs, window, now + timedelta(minutes=1))
    assert jobs.mailbox("a@example.com") == [SHORT, START_, DONE]
    # the invitation of the announcement is the calendar's entry, at its new time
    invite = jobs.mail("a@example.com", SHORT).attachments[0].content
    assert b"METHOD:PUBLISH" in invite and b"DTSTART;TZID=America/Denver:20261204T220000" in invite


def test_a_24_hour_reminder_still_ahead_announces_a_window_moved_inside_its_week(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    window.notices = ["week_before", "day_before", "start", "completion"]
    db.commit()
    now = datetime(2026, 12, 1, 9, 0, tzinfo=MT)
    new_start = datetime(2026, 12, 4, 22, 0, tzinfo=MT)
    move(db, admin, window, new_start, now=now)
    db.commit()
    jobs.tick(now + timedelta(minutes=1))
    assert jobs.mailbox("a@example.com") == []
    run_through(jobs, window, datetime(2026, 12, 3, 22, 0, tzinfo=MT))
    assert jobs.mailbox("a@example.com") == [DAY, START_, DONE]


def test_a_24_hour_only_policy_moved_inside_its_day_is_announced_at_once(db, admin, jobs):
    subscribe(db, "told@example.com", ["calltower-connect"])
    window = window_on(db, "connect-release", date(2026, 12, 8))
    jobs.tick(datetime(2026, 12, 7, 21, 0, tzinfo=MT))
    later = datetime(2026, 12, 7, 22, 0, tzinfo=MT)
    subscribe(db, "new@example.com", ["calltower-connect"], at=later)
    new_start = datetime(2026, 12, 8, 12, 0, tzinfo=MT)  # 14 hours ahead
    move(db, admin, window, new_start, hours=2, now=later)
    db.commit()
    run_through(jobs, window, later + timedelta(minutes=1))
    assert jobs.mailbox("told@example.com") == [DAY, MOVED]
    assert jobs.mailbox("new@example.com") == [SHORT]


def test_moving_again_tells_those_announced_to_at_short_notice_once(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    for day, start_day in ((1, 4), (2, 5)):
        now = datetime(2026, 12, day, 9, 0, tzinfo=MT)
        new_start = datetime(2026, 12, start_day, 22, 0, tzinfo=MT)
        move(db, admin, window, new_start, now=now)
        db.commit()
        jobs.tick(now + timedelta(minutes=1))
    maintenance.set_window_status(
        db, admin, window, "cancelled", datetime(2026, 12, 3, 9, 0, tzinfo=MT)
    )
    db.commit()
    run_through(jobs, window, datetime(2026, 12, 3, 9, 1, tzinfo=MT))
    assert jobs.mailbox("a@example.com") == [SHORT, MOVED, CANCELLED]


def test_short_notice_fanned_out_after_the_start_is_not_sent(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    now = datetime(2026, 12, 4, 21, 0, tzinfo=MT)
    new_start = datetime(2026, 12, 4, 21, 30, tzinfo=MT)
    window = moved_december(db, admin, new_start, now)
    # the process was down from the move until after the start: no announcement now
    jobs.tick(new_start + timedelta(minutes=5))
    assert jobs.mailbox("a@example.com") == [START_]
    short = db.scalar(select(Notice).where(Notice.window_id == window.id, Notice.kind == SHORT))
    assert short is not None and short.status == "skipped"


def test_moving_twice_sends_one_message_per_change(db, admin, jobs):
    subscribe(db, "told@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    for day in (12, 13):
        now = datetime(2026, 12, day, 9, 0, tzinfo=MT)
        new_start = datetime(2026, 12, 18 + day - 11, 22, 0, tzinfo=MT)
        move(db, admin, window, new_start, now=now)
        db.commit()
        jobs.tick(now + timedelta(minutes=1))
    run_through(jobs, window, datetime(2026, 12, 13, 22, 0, tzinfo=MT))
    assert jobs.mailbox("told@example.com") == [WEEK, MOVED, MOVED, START_, DONE]


def test_extension_reschedules_once_and_completes_at_the_new_end(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    jobs.tick(window.starts_at)
    old_end = window.ends_at
    now = window.starts_at + timedelta(hours=4)
    maintenance.change_window(db, admin, window, ends_at=old_end + timedelta(hours=2), now=now)
    db.commit()
    jobs.tick(now + timedelta(minutes=1))
    jobs.tick(old_end)
    assert jobs.mailbox("a@example.com") == [WEEK, START_, MOVED]
    run_through(jobs, window)
    assert jobs.mailbox("a@example.com") == [WEEK, START_, MOVED, DONE]
    assert "Previously" in jobs.mail("a@example.com", MOVED).text


def test_narrowing_tells_the_removed_it_no_longer_affects_them(db, admin, jobs):
    subscribe(db, "kept@example.com", ["cisco"])
    subscribe(db, "removed@example.com", ["contact-centre"])
    subscribe(db, "both@example.com", ["cisco", "contact-centre"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    now = datetime(2026, 12, 12, 9, 0, tzinfo=MT)
    maintenance.change_window(db, admin, window, platforms=["cisco"], now=now)
    db.commit()
    run_through(jobs, window, now + timedelta(minutes=1))
    assert jobs.mailbox("kept@example.com") == [WEEK, NARROWED, START_, DONE]
    assert jobs.mailbox("both@example.com") == [WEEK, NARROWED, START_, DONE]
    assert jobs.mailbox("removed@example.com") == [WEEK, GONE]
    gone = jobs.mail("removed@example.com", GONE)
    removed_line = next(line for line in gone.text.splitlines() if "No longer affected" in line)
    assert "Contact Centre" in removed_line and "Cisco" not in removed_line


def test_cancellation_tells_only_the_told_once(db, admin, jobs):
    window = told_and_new(db, jobs)
    maintenance.set_window_status(db, admin, window, "cancelled", LATER)
    db.commit()
    run_through(jobs, window, LATER + timedelta(minutes=1))
    assert jobs.mailbox("told@example.com") == [WEEK, CANCELLED]
    assert jobs.mailbox("new@example.com") == []


def test_cancelling_an_untold_window_sends_nothing(db, admin, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    maintenance.set_window_status(db, admin, window, "cancelled", datetime(2026, 12, 1, tzinfo=UTC))
    db.commit()
    run_through(jobs, window, WEEK_MOMENT)
    assert jobs.mailbox("a@example.com") == []


def test_downtime_across_the_whole_window_sends_only_the_completion(db, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    jobs.tick(window.ends_at + timedelta(days=5))
    assert jobs.mailbox("a@example.com") == [DONE]
    completion = jobs.mail("a@example.com", DONE)
    assert "Started: Fri, Dec 18, 2026, 22:00 MST" in completion.text
    assert "Completed: Sat, Dec 19, 2026, 04:00 MST" in completion.text
    start = db.scalar(select(Notice).where(Notice.window_id == window.id, Notice.kind == START_))
    assert start is not None and start.status == "skipped"


def test_start_notice_made_before_a_downtime_is_not_sent_after_the_end(db, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    jobs.tick(window.starts_at, send=False)  # the process died before fanning it out
    jobs.tick(window.ends_at + timedelta(days=5))
    assert jobs.mailbox("a@example.com") == [WEEK, DONE]


def test_delivery_run_before_the_notices_job_never_sends_a_start_after_the_end(db, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT)
    jobs.tick(window.starts_at, send=False)  # the start notice is made, not fanned out
    after = window.ends_at + timedelta(minutes=5)
    # the delivery run comes first: the notices job has not looked at the window since
    delivery.fan_out(db, after)
    delivery.deliver(db, after, jobs.ctx)
    assert jobs.mailbox("a@example.com") == [WEEK]
    start = db.scalar(select(Notice).where(Notice.window_id == window.id, Notice.kind == START_))
    assert start is not None and start.status == "skipped" and not start.deliveries
    jobs.tick(after + timedelta(minutes=1))
    assert jobs.mailbox("a@example.com") == [WEEK, DONE]


def test_delivery_run_after_the_start_never_sends_the_announcement(db, jobs):
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    jobs.tick(WEEK_MOMENT, send=False)  # made on time, then the process died
    delivery.fan_out(db, window.starts_at + timedelta(minutes=1))
    delivery.deliver(db, window.starts_at + timedelta(minutes=1), jobs.ctx)
    assert jobs.mailbox("a@example.com") == []
    week = db.scalar(select(Notice).where(Notice.window_id == window.id, Notice.kind == WEEK))
    assert week is not None and week.status == "skipped"


def test_a_24_hour_only_policy_is_not_announced_again_after_a_move(db, admin, jobs):
    subscribe(db, "told@example.com", ["calltower-connect"])
    window = window_on(db, "connect-release", date(2026, 12, 8))
    jobs.tick(datetime(2026, 12, 7, 21, 0, tzinfo=MT))
    assert jobs.mailbox("told@example.com") == [DAY]
    now = datetime(2026, 12, 7, 22, 0, tzinfo=MT)
    new_start = datetime(2026, 12, 10, 21, 0, tzinfo=MT)
    move(db, admin, window, new_start, hours=2, now=now)
    db.commit()
    run_through(jobs, window, now + timedelta(minutes=1), datetime(2026, 12, 9, 21, 0, tzinfo=MT))
    assert jobs.mailbox("told@example.com") == [DAY, MOVED]
