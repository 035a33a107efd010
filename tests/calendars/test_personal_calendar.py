"""A subscriber's personal maintenance calendar: only the windows of the platforms whose
maintenance notices they take, in their language, signed and revoked with the manage link,
with optional reminders; read back by icalendar + recurring-ical-events and by ical.js."""

from __future__ import annotations

from datetime import UTC, timedelta

import icalendar
import pytest
from sqlalchemy import select

from statuspage.models import Platform, Subscriber, Subscription
from statuspage.services.subscriptions import links, preferences
from tests.calendars.support import expand, expand_with_icaljs, read_with_icaljs, utc
from tests.helpers import SECRET_KEY
from tests.maintenance_fixtures import NOW, build, expected_spans

SPAN_END = NOW + timedelta(days=395)
# Maintenance of the cloud (narrowed out of March's monthly window), of Connect (its
# releases) and of Teams (the unscheduled patch); only incidents of Skype for Business and
# of Cisco (so neither the certificate series nor the cancelled Cisco disk swap).
MAINTENANCE = {"calltower-cloud", "calltower-connect", "microsoft-teams"}
INCIDENTS_ONLY = {"skype-for-business", "cisco"}


def add_subscriber(db, language: str = "en") -> Subscriber:
    subscriber = Subscriber(
        address=f"{language}@example.com",
        language=language,
        timezone="Europe/Berlin",
        token_version=0,
        confirmed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )
    db.add(subscriber)
    db.flush()
    for slug in MAINTENANCE | INCIDENTS_ONLY:
        platform = db.scalar(select(Platform).where(Platform.slug == slug))
        takes = {"incidents": True, "maintenance": slug in MAINTENANCE}
        subscription = Subscription(platform=platform, confirmed_at=NOW, created_at=NOW, **takes)
        subscriber.subscriptions.append(subscription)
    db.commit()
    return subscriber


def calendar_path(subscriber: Subscriber) -> str:
    return links.calendar_path(SECRET_KEY, subscriber)


@pytest.fixture
def cal(db, admin):
    return build(db, admin)


def test_personal_calendar_expands_to_exactly_the_windows_of_the_subscribers_platforms(
    client, db, cal
):
    subscriber = add_subscriber(db)
    response = client.get(calendar_path(subscriber))
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    got = expand(response.data, NOW, SPAN_END)
    assert got == expected_spans(db, NOW, SPAN_END, MAINTENANCE)
    # moved honoured, narrowed (to Cisco and Contact Centre) and cancelled left out
    assert (cal.moved.starts_at, cal.moved.ends_at) in got
    assert (cal.narrowed.starts_at, cal.narrowed.ends_at) not in got
    assert (cal.cancelled.starts_at, cal.cancelled.ends_at) not in got
    assert (cal.unscheduled.starts_at, cal.unscheduled.ends_at) in got
    # nothing of a platform they take only incident notices of
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(response.data).walk("VEVENT")}
    assert not any("sfb-certificate" in uid for uid in uids)
    assert f"window-{cal.unscheduled_cancelled.id}@localhost" not in uids


def test_icaljs_expands_the_personal_calendar_to_the_same_windows(client, db, cal, tmp_path):
    subscriber = add_subscriber(db)
    path = tmp_path / "personal.ics"
    path.write_bytes(client.get(calendar_path(subscriber) + "?reminder=24h").data)
    got = expand_with_icaljs(str(path), NOW, SPAN_END)
    assert got == expected_spans(db, NOW, SPAN_END, MAINTENANCE)
    assert (cal.narrowed.starts_at, cal.narrowed.ends_at) not in got
    # ical.js reads the alarms too: 24 hours before, on every event
    [calendar] = read_with_icaljs(str(path))
    assert calendar["events"]
    for event in calendar["events"]:
        assert [(a["action"], a["seconds"]) for a in event["alarms"]] == [("DISPLAY", -86400)], (
            event["uid"]
        )


def test_an_event_and_an_occurrence_are_where_the_stored_windows_are(client, db, cal, tmp_path):
    subscriber = add_subscriber(db)
    path = tmp_path / "personal.ics"
    path.write_bytes(client.get(calendar_path(subscriber)).data)
    [calendar] = read_with_icaljs(str(path))
    moved = next(
        e
        for e in calendar["events"]
        if e["recurrenceId"]
        and utc(e["recurrenceId"]["utc"]) == cal.moved.recurrence_id.astimezone(UTC)
    )
    assert utc(moved["start"]["utc"]) == cal.moved.starts_at
    assert moved["start"]["local"].endswith("T22:00:00")
    assert moved["start"]["zone"] == "America/Denver"


def test_reminder_parameter_adds_a_valarm_to_each_event_and_only_then(client, db, cal):
    subscriber = add_subscriber(db)
    plain = icalendar.Calendar.from_ical(client.get(calendar_path(subscriber)).data)
    assert plain.walk("VALARM") == []
    for value, trigger, seconds in (
        ("24h", "-PT24H", 86400),
        ("1h", "-PT1H", 3600),
        ("15m", "-PT15M", 900),
    ):
        response = client.get(calendar_path(subscriber) + f"?reminder={value}")
        assert response.status_code == 200
        assert f"TRIGGER:{trigger}\r\n".encode() in response.data
        calendar = icalendar.Calendar.from_ical(response.data)
        for event in calendar.walk("VEVENT"):
            if str(event.get("STATUS")) == "CANCELLED":
                assert event.walk("VALARM") == []
                continue
            [alarm] = event.walk("VALARM")
            assert str(alarm["ACTION"]) == "DISPLAY"
            assert alarm["TRIGGER"].dt == -timedelta(seconds=seconds)
            assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
        # the calendar names its own address, reminder included
        assert str(calendar["URL"]).endswith(f".ics?reminder={value}")


@pytest.mark.parametrize(
    "query",
    [
        "reminder=",
        "reminder=24",
        "reminder=0h",
        "reminder=1d",
        "reminder=169h",
        "reminder=10081m",
        "reminder=-1h",
        "reminder=24H",
        "reminder=1h30m",
        "reminder=24h&reminder=1h",
    ],
)
def test_any_other_reminder_is_refused(client, db, query):
    subscriber = add_subscriber(db)
    assert client.get(calendar_path(subscriber) + f"?{query}").status_code == 400


def test_the_calendar_is_private_and_not_indexed(client, db, cal):
    subscriber = add_subscriber(db)
    response = client.get(calendar_path(subscriber))
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert "ETag" not in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers


def test_unsubscribing_revokes_the_calendar_with_the_manage_link(client, db, cal):
    subscriber = add_subscriber(db)
    path = calendar_path(subscriber)
    manage = links.manage_path(SECRET_KEY, subscriber)
    assert client.get(path).status_code == 200
    preferences.unsubscribe_all(db, subscriber, NOW)
    db.commit()
    assert client.get(path).status_code == 404
    assert client.get(manage).status_code == 404
    assert client.get(path + "?reminder=24h").status_code == 404


def test_a_forged_or_borrowed_token_is_not_found(client, db, cal):
    subscriber = add_subscriber(db)
    token = calendar_path(subscriber).rsplit("/", 1)[1].removesuffix(".ics")
    sid, version, signature = token.split(".")
    other = "A" if signature[0] != "A" else "B"
    for forged in (
        f"{sid}.{version}.{other}{signature[1:]}",
        f"{int(sid) + 1}.{version}.{signature}",
        f"{sid}.{int(version) + 1}.{signature}",
        f"{sid}.{version}",
        "x",
        # the manage link's token opens the manage page, not the calendar
        links.link_token(SECRET_KEY, "manage", subscriber),
        links.link_token("another-secret-key-long-enough-for-create", "calendar", subscriber),
    ):
        assert client.get(f"/subscriptions/calendar/{forged}.ics").status_code == 404, forged


@pytest.mark.parametrize(
    ("language", "name", "suffix", "label"),
    [
        ("en", "maintenance of your platforms", "(no customer impact)", "Platforms affected: "),
        (
            "es",
            "mantenimiento de sus plataformas",
            "(sin impacto para los clientes)",
            "Plataformas afectadas: ",
        ),
        (
            "de",
            "Wartung Ihrer Plattformen",
            "(keine Auswirkungen für Kunden)",
            "Betroffene Plattformen: ",
        ),
    ],
)
def test_the_calendar_speaks_the_subscribers_language(
    client, db, cal, language, name, suffix, label
):
    subscriber = add_subscriber(db, language)
    calendar = icalendar.Calendar.from_ical(client.get(calendar_path(subscriber)).data)
    assert name in str(calendar["X-WR-CALNAME"]) and name in str(calendar["NAME"])
    connect = next(
        e for e in calendar.walk("VEVENT") if "connect-release" in str(e["UID"]) and "RRULE" in e
    )
    assert str(connect["SUMMARY"]).endswith(suffix)
    assert str(connect["DESCRIPTION"]).startswith(label)
    # the public calendar stays in English
    public = icalendar.Calendar.from_ical(client.get("/maintenance.ics").data)
    assert all("Productos" not in str(e["DESCRIPTION"]) for e in public.walk("VEVENT"))


def test_the_manage_page_links_the_calendar_and_its_webcal_address(client, db):
    subscriber = add_subscriber(db)
    html = client.get(links.manage_path(SECRET_KEY, subscriber)).get_data(as_text=True)
    path = calendar_path(subscriber)
    assert f'href="{path}"' in html
    assert f'href="webcal://localhost{path}"' in html
    assert f'href="webcal://localhost{path}?reminder=24h"' in html


def test_a_subscriber_without_maintenance_gets_an_empty_calendar(client, db, cal):
    subscriber = add_subscriber(db)
    for sub in subscriber.subscriptions:
        sub.maintenance = False
    db.commit()
    response = client.get(calendar_path(subscriber))
    assert response.status_code == 200
    assert icalendar.Calendar.from_ical(response.data).walk("VEVENT") == []
