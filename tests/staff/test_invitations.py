"""Maintenance emails carry their window as invite.ics (RFC 5546): the published calendar's
UID, a SEQUENCE that rises with each change, PUBLISH or CANCEL, right local times."""

from __future__ import annotations

import base64
import email
from datetime import UTC, date, datetime, timedelta

import icalendar
from sqlalchemy import select

from statuspage.mail import Attachment, MailBatch, MailRecipient
from statuspage.mail.files import FileMailer
from statuspage.mail.sendgrid import request_body
from statuspage.models import Platform
from statuspage.renderers import publish
from statuspage.services import maintenance
from tests.calendars.support import read_with_icaljs, utc
from tests.helpers import NOW
from tests.maintenance_fixtures import MT, window_on
from tests.maintenance_mailbox import (
    CANCELLED,
    MOVED,
    WEEK,
    WEEK_MOMENT,
    december,
    subscribe,
)
from tests.outbox import add_subscribers, tick

SITE = publish.Site(name="Status", url="http://localhost", timezone="America/Denver")


def invite(batch) -> icalendar.Calendar:
    [attachment] = batch.attachments
    assert attachment.filename == "invite.ics"
    assert attachment.content_type.startswith("text/calendar; method=")
    cal = icalendar.Calendar.from_ical(attachment.content)
    assert attachment.content_type.split("method=")[1].split(";")[0] == str(cal["method"])
    return cal


def event_of(cal: icalendar.Calendar) -> icalendar.Event:
    [event] = cal.walk("VEVENT")
    return event


def published_event(feed, uid: str, recurrence_id: datetime):
    """The occurrence `recurrence_id` of the event `uid` in the published calendar `feed`."""
    cal = icalendar.Calendar.from_ical(feed)
    for event in cal.walk("VEVENT"):
        rid = event.get("recurrence-id")
        if str(event["uid"]) == uid and rid is not None and rid.dt == recurrence_id:
            return event
    return None


def test_week_before_rescheduled_and_cancelled_invites_update_one_calendar_entry(
    db,
    admin,
    jobs,  # noqa: F811
):
    original, _, feed = _week_moved_cancelled(db, admin, jobs)
    moved_in_feed = published_event(feed, "series-monthly-maintenance@localhost", original)
    week, moved, cancelled = (
        invite(jobs.mail("a@example.com", kind)) for kind in (WEEK, MOVED, CANCELLED)
    )
    assert [str(c["method"]) for c in (week, moved, cancelled)] == ["PUBLISH", "PUBLISH", "CANCEL"]
    events = [event_of(c) for c in (week, moved, cancelled)]
    assert {str(e["uid"]) for e in events} == {"series-monthly-maintenance@localhost"}
    assert all(e["recurrence-id"].dt == original for e in events)
    sequences = [int(e["sequence"]) for e in events]
    assert sequences == sorted(set(sequences)), sequences  # strictly rising
    assert str(events[2]["status"]) == "CANCELLED"
    assert str(events[0]["status"]) == "CONFIRMED"
    # the same entry as the published calendar's moved occurrence
    assert moved_in_feed is not None
    assert int(moved_in_feed["sequence"]) == sequences[1]
    assert events[1]["dtstart"].dt == moved_in_feed["dtstart"].dt
    # local times: 22:00 in Denver, with its VTIMEZONE
    start = events[1]["dtstart"].dt
    assert start.hour == 22 and str(start.tzinfo) == "America/Denver"
    assert start.astimezone(UTC) == datetime(2026, 12, 20, 5, 0, tzinfo=UTC)
    assert events[0]["dtstart"].dt.astimezone(UTC) == datetime(2026, 12, 19, 5, 0, tzinfo=UTC)
    assert any(tz["tzid"] == "America/Denver" for tz in week.walk("VTIMEZONE"))
    # an iTIP message with an organizer and no attendees: nothing to answer
    assert "mailto:" in str(events[0]["organizer"]) and "attendee" not in events[0]


def test_invites_keep_22_local_across_the_dst_change(db, jobs):  # noqa: F811
    subscribe(db, "a@example.com", ["cisco"])
    january = window_on(db, "monthly-maintenance", date(2027, 1, 15))
    jobs.tick(datetime(2027, 1, 8, 22, 0, tzinfo=MT))
    march = window_on(db, "monthly-maintenance", date(2027, 3, 19))  # MDT; announced in MST
    jobs.tick(datetime(2027, 3, 12, 22, 0, tzinfo=MT))
    for window, utc_hour in ((march, 4), (january, 5)):
        batch = next(
            b
            for b in jobs.mailer.batches
            if b.categories[0] == WEEK and f"/maintenance/{window.id}" in b.text
        )
        event = event_of(invite(batch))
        start = event["dtstart"].dt
        assert (start.hour, start.minute) == (22, 0)
        assert start.astimezone(UTC).hour == utc_hour
        assert event["dtend"].dt.hour == 4
        assert event["dtend"].dt.tzinfo is not None


def _week_moved_cancelled(db, admin, jobs):  # noqa: F811
    """A December window announced, moved a day later, then cancelled; with the published
    calendar as it stood after the move."""
    subscribe(db, "a@example.com", ["cisco"])
    window = december(db)
    original = window.recurrence_id
    jobs.tick(WEEK_MOMENT)
    later = datetime(2026, 12, 12, 9, 0, tzinfo=MT)
    # A day later, for the same six hours.
    moved = {"starts_at": datetime(2026, 12, 19, 22, 0, tzinfo=MT)}
    moved["ends_at"] = moved["starts_at"] + timedelta(hours=6)
    maintenance.change_window(db, admin, window, now=later, **moved)
    db.commit()
    jobs.tick(later + timedelta(minutes=1))
    feed = publish.maintenance_calendar(db, SITE)
    maintenance.set_window_status(db, admin, window, "cancelled", later + timedelta(hours=1))
    db.commit()
    jobs.tick(later + timedelta(hours=1, minutes=1))
    invites = [
        jobs.mail("a@example.com", kind).attachments[0].content for kind in (WEEK, MOVED, CANCELLED)
    ]
    return original, invites, feed


def test_icaljs_reads_the_invites_as_one_entry_of_the_published_calendar(
    db,
    admin,
    jobs,  # noqa: F811
    tmp_path,
):
    original, invites, feed = _week_moved_cancelled(db, admin, jobs)
    paths = []
    for name, body in zip(("week", "moved", "cancelled", "feed"), [*invites, feed], strict=True):
        path = tmp_path / f"{name}.ics"
        path.write_bytes(body)
        paths.append(str(path))
    *read, published = read_with_icaljs(*paths)
    assert [r["method"] for r in read] == ["PUBLISH", "PUBLISH", "CANCEL"]
    events = []
    for r in read:
        [event] = r["events"]
        events.append(event)
    # the published calendar's moved occurrence, as ical.js reads it
    [occurrence] = [
        e
        for e in published["events"]
        if e["recurrenceId"] and utc(e["recurrenceId"]["utc"]) == original
    ]
    assert (
        {e["uid"] for e in events}
        == {occurrence["uid"]}
        == {"series-monthly-maintenance@localhost"}
    )
    assert all(utc(e["recurrenceId"]["utc"]) == original for e in events)
    sequences = [e["sequence"] for e in events]
    assert sequences == sorted(set(sequences)), sequences  # strictly rising
    assert occurrence["sequence"] == sequences[1]
    assert [e["status"] for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    week, moved, _ = events
    # local wall times in the series' zone, and the instants they stand for
    assert (week["start"]["local"], week["start"]["zone"]) == (
        "2026-12-18T22:00:00",
        "America/Denver",
    )
    assert utc(week["start"]["utc"]) == datetime(2026, 12, 19, 5, 0, tzinfo=UTC)
    assert moved["start"]["local"] == "2026-12-19T22:00:00"
    assert utc(moved["start"]["utc"]) == datetime(2026, 12, 20, 5, 0, tzinfo=UTC)
    assert moved["start"] == occurrence["start"] and moved["end"] == occurrence["end"]
    assert moved["end"]["local"] == "2026-12-20T04:00:00"
    # an organizer and no attendees: nothing to answer
    assert all(e["organizer"].startswith("mailto:") and e["attendees"] == 0 for e in events)


def test_icaljs_reads_22_local_in_invites_either_side_of_the_dst_change(
    db,
    jobs,  # noqa: F811
    tmp_path,
):
    subscribe(db, "a@example.com", ["cisco"])
    january = window_on(db, "monthly-maintenance", date(2027, 1, 15))
    jobs.tick(datetime(2027, 1, 8, 22, 0, tzinfo=MT))
    march = window_on(db, "monthly-maintenance", date(2027, 3, 19))  # MDT; announced in MST
    jobs.tick(datetime(2027, 3, 12, 22, 0, tzinfo=MT))
    paths = []
    for window in (january, march):
        batch = next(
            b
            for b in jobs.mailer.batches
            if b.categories[0] == WEEK and f"/maintenance/{window.id}" in b.text
        )
        path = tmp_path / f"{window.id}.ics"
        path.write_bytes(batch.attachments[0].content)
        paths.append(str(path))
    read = read_with_icaljs(*paths)
    for r, window, day, utc_hour in zip(
        read, (january, march), ("2027-01-15", "2027-03-19"), (5, 4), strict=True
    ):
        [event] = r["events"]
        assert event["start"]["local"] == f"{day}T22:00:00"
        assert event["start"]["zone"] == "America/Denver"
        assert utc(event["start"]["utc"]) == window.starts_at
        assert utc(event["start"]["utc"]).hour == utc_hour
        assert event["end"]["local"].endswith("T04:00:00")
        assert utc(event["recurrenceId"]["utc"]) == window.recurrence_id


def test_sendgrid_request_carries_the_invite_as_a_base64_attachment(app, db, admin, sendgrid):  # noqa: F811
    from statuspage.seed.defaults import seed_series

    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    add_subscribers(db, 1)
    tick(app, datetime(2026, 12, 11, 22, 0, tzinfo=MT))
    [message] = [m for m in sendgrid.messages() if m.email.startswith("user")]
    [attachment] = message.attachments
    assert attachment["filename"] == "invite.ics"
    assert attachment["disposition"] == "attachment"
    assert attachment["type"] == "text/calendar; method=PUBLISH; charset=UTF-8"
    cal = icalendar.Calendar.from_ical(base64.b64decode(attachment["content"]))
    assert str(event_of(cal)["uid"]) == "series-monthly-maintenance@localhost"
    cisco = db.scalar(select(Platform).where(Platform.slug == "cisco"))
    assert cisco is not None


def _batch() -> MailBatch:
    return MailBatch(
        from_email="status@example.com",
        from_name="Status",
        subject="Maintenance cancelled",
        text="text",
        html="<p>html</p>",
        recipients=[MailRecipient(email="a@example.com")],
        attachments=[
            Attachment(
                "invite.ics",
                "text/calendar; method=CANCEL; charset=UTF-8",
                b"BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n",
            )
        ],
    )


def test_request_body_attachment_fields():
    [attachment] = request_body(_batch())["attachments"]
    assert attachment == {
        "content": base64.b64encode(
            b"BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
        ).decode(),
        "type": "text/calendar; method=CANCEL; charset=UTF-8",
        "filename": "invite.ics",
        "disposition": "attachment",
    }


def test_file_backend_writes_the_invite_into_the_eml(tmp_path):
    FileMailer(str(tmp_path)).send(_batch())
    [path] = list(tmp_path.glob("*.eml"))
    message = email.message_from_bytes(path.read_bytes())
    [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "CANCEL"
    assert part.get_filename() == "invite.ics"
    assert part.get_content_disposition() == "attachment"
    assert b"METHOD:CANCEL" in part.get_payload(decode=True)
