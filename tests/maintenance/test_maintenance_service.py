"""Maintenance series and windows through the service layer, with `now` pinned."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from statuspage.models import MaintenanceSeries, MaintenanceWindow, Platform
from statuspage.queries import platforms as platform_queries
from statuspage.seed.defaults import seed_series
from statuspage.services import ValidationError
from statuspage.services import maintenance as svc
from statuspage.services import platforms as platform_service
from tests.maintenance_fixtures import extend_running, move, one_off, texts

MT = ZoneInfo("America/Denver")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def seed(db):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    svc.expand_series(db, NOW)
    db.commit()


def series(db, key):
    return db.scalar(select(MaintenanceSeries).where(MaintenanceSeries.key == key))


def window_on(db, key, local_day):
    for w in series(db, key).windows:
        if w.starts_at.astimezone(MT).date() == local_day:
            return w
    raise AssertionError(f"no {key} window on {local_day}")


def count_windows(db) -> int:
    return db.scalar(select(func.count()).select_from(MaintenanceWindow))


def test_expansion_materialises_400_days_once(db):
    seed(db)
    monthly = series(db, "monthly-maintenance").windows
    assert 13 <= len(monthly) <= 14
    assert monthly[0].starts_at == datetime(2026, 11, 20, 22, tzinfo=MT)
    assert all(w.starts_at < NOW + timedelta(days=400) for w in monthly)
    before = count_windows(db)
    assert svc.expand_series(db, NOW) == 0
    assert svc.expand_series(db, NOW + timedelta(days=30)) > 0
    db.commit()
    assert count_windows(db) > before


def test_default_series_platforms_and_notices(db):
    seed(db)
    monthly = series(db, "monthly-maintenance")
    assert len(monthly.platforms) == 7
    assert monthly.notices == ["week_before", "start", "completion"]
    assert [p.slug for p in series(db, "sfb-certificate").platforms] == ["skype-for-business"]
    assert series(db, "sfb-certificate").impact == "none"
    assert series(db, "connect-release").notices == ["day_before"]


def test_window_starts_and_completes_across_midnight(db):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 11, 20))
    start = datetime(2026, 11, 20, 22, tzinfo=MT)
    svc.advance_windows(db, start - timedelta(seconds=1))
    assert window.status == "scheduled"
    svc.advance_windows(db, start)
    db.commit()
    assert window.status == "in_progress"
    assert platform_service.get_by_slug(db, "cisco").status == "under_maintenance"
    assert platform_queries.page_status(db, start).indicator == "maintenance"
    svc.advance_windows(db, datetime(2026, 11, 21, 3, 59, tzinfo=MT))
    assert window.status == "in_progress"
    svc.advance_windows(db, datetime(2026, 11, 21, 4, 0, tzinfo=MT))
    db.commit()
    assert window.status == "completed"
    assert window.completed_at == datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    assert platform_service.get_by_slug(db, "cisco").status == "operational"


def test_july_window_starts_at_22_mdt(db):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2027, 7, 16))
    assert window.starts_at == datetime(2027, 7, 17, 4, 0, tzinfo=UTC)
    svc.advance_windows(db, datetime(2027, 7, 17, 3, 59, tzinfo=UTC))
    assert window.status == "scheduled"
    svc.advance_windows(db, datetime(2027, 7, 17, 4, 0, tzinfo=UTC))
    assert window.status == "in_progress"


def test_no_impact_window_leaves_platform_operational(db):
    seed(db)
    window = window_on(db, "sfb-certificate", date(2026, 11, 27))
    svc.advance_windows(db, window.starts_at)
    assert window.status == "in_progress"
    assert platform_service.get_by_slug(db, "skype-for-business").status == "operational"


def test_extended_window_completes_at_its_new_end(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 11, 20))
    new_end = extend_running(db, admin, window, hours=1)
    svc.advance_windows(db, new_end - timedelta(minutes=1))
    assert window.status == "in_progress"
    svc.advance_windows(db, new_end)
    assert window.status == "completed"


def test_moving_one_occurrence_keeps_series_and_survives_reexpansion(db, admin):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    original = window.recurrence_id
    moved = datetime(2026, 12, 19, 22, tzinfo=MT)
    move(db, admin, window, moved, now=NOW, note="Moved a day for a vendor")
    db.commit()
    assert window.customised and window.sequence == 1
    assert window.recurrence_id == original
    monthly = series(db, "monthly-maintenance")
    svc.save_series(
        db,
        admin,
        monthly,
        title="Monthly maintenance (edited)",
        rule=monthly.rule,
        first_start=monthly.first_start,
        duration_minutes=300,
        impact="maintenance",
        platforms=[p.slug for p in monthly.platforms],
        notices=monthly.notices,
        tz_name="America/Denver",
        now=NOW,
    )
    db.commit()
    assert window.starts_at == moved and window.title == "Monthly scheduled maintenance"
    january = window_on(db, "monthly-maintenance", date(2027, 1, 15))
    assert january.title == "Monthly maintenance (edited)"
    assert january.ends_at - january.starts_at == timedelta(hours=5)


def test_changing_the_rule_replaces_untouched_future_windows(db, admin):
    seed(db)
    cert = series(db, "sfb-certificate")
    svc.save_series(
        db,
        admin,
        cert,
        title=cert.title,
        rule="FREQ=WEEKLY;BYDAY=TH",
        first_start=datetime(2026, 1, 1, 0, tzinfo=MT),
        duration_minutes=30,
        impact="none",
        platforms=["skype-for-business"],
        tz_name="America/Denver",
        now=NOW,
    )
    db.commit()
    days = {w.starts_at.astimezone(MT).weekday() for w in cert.windows}
    assert days == {3}  # Thursday only


def test_cancel_and_release_notes(db, admin):
    seed(db)
    window = window_on(db, "connect-release", date(2026, 12, 8))
    svc.set_window_status(db, admin, window, "cancelled", NOW)
    assert window.status == "cancelled" and window.customised
    with pytest.raises(ValidationError):
        svc.add_release_notes(db, admin, window, "notes", NOW)
    done = window_on(db, "monthly-maintenance", date(2026, 11, 20))
    svc.advance_windows(db, done.ends_at)
    svc.add_release_notes(db, admin, done, "Added **call parking**.", done.ends_at)
    assert done.release_notes.startswith("Added")


def unscheduled(db, admin, start: datetime, hours: float, title: str, description: str):
    """Make one-off windows on Cisco at NOW through the service, each call giving its own
    justification and urgency (none unless given): what the service asks for is the test."""

    def create(justification: str = "", urgency: str = ""):
        made = texts(title, description, justification, urgency)
        return one_off(db, admin, start=start, hours=hours, now=NOW, **made)

    return create


def test_unscheduled_window_in_business_hours_needs_urgency(db, admin):
    start = datetime(2026, 11, 23, 10, tzinfo=MT)
    create = unscheduled(db, admin, start, 1, "Emergency patch", "Patch")
    with pytest.raises(ValidationError) as exc:
        create()
    assert set(exc.value.errors) == {"justification", "urgency"}
    with pytest.raises(ValidationError) as exc:
        create("Security fix")
    assert set(exc.value.errors) == {"urgency"}
    window = create("Security fix", "Actively exploited")
    assert window.unscheduled and window.series_id is None


def test_unscheduled_window_overnight_needs_justification_only(db, admin):
    start = datetime(2026, 11, 23, 23, 0, tzinfo=MT)
    create = unscheduled(db, admin, start, 5, "Overnight swap", "Replace a disk")
    with pytest.raises(ValidationError) as exc:
        create()
    assert set(exc.value.errors) == {"justification"}
    window = create("Disk failing")
    assert window.id is not None


def test_touches_business_hours_edges():
    tz = MT
    assert not svc.touches_business_hours(
        datetime(2026, 11, 23, 23, tzinfo=tz), datetime(2026, 11, 24, 5, tzinfo=tz), tz
    )
    assert svc.touches_business_hours(
        datetime(2026, 11, 23, 22, 30, tzinfo=tz), datetime(2026, 11, 23, 23, 30, tzinfo=tz), tz
    )
    assert svc.touches_business_hours(
        datetime(2026, 11, 24, 4, tzinfo=tz), datetime(2026, 11, 24, 5, 1, tzinfo=tz), tz
    )


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ends_at_delta": -timedelta(hours=1)}, "ends_at"),  # end before start
        ({"platforms": ["no-such-platform"]}, "platforms"),
        ({"ends_at_delta": timedelta(days=30)}, "ends_at"),  # a 30-day window
        ({"start_delta": -timedelta(days=30)}, "starts_at"),  # moved into the past
    ],
)
def test_bad_window_changes_write_nothing(db, admin, change, field):
    seed(db)
    window = window_on(db, "monthly-maintenance", date(2026, 12, 18))
    before = (window.starts_at, window.ends_at, [p.slug for p in window.platforms], window.sequence)
    kwargs: dict = {}
    if "ends_at_delta" in change:
        kwargs["ends_at"] = window.starts_at + change["ends_at_delta"]
    if "start_delta" in change:
        kwargs["starts_at"] = NOW + change["start_delta"]
        kwargs["ends_at"] = kwargs["starts_at"] + timedelta(hours=2)
    if "platforms" in change:
        kwargs["platforms"] = change["platforms"]
    with pytest.raises(ValidationError) as exc:
        svc.change_window(db, admin, window, now=NOW, **kwargs)
    assert field in exc.value.errors
    db.rollback()
    window = db.get(MaintenanceWindow, window.id)
    assert (
        window.starts_at,
        window.ends_at,
        [p.slug for p in window.platforms],
        window.sequence,
    ) == before


def refused_series(
    db, admin, title: str, rule: str, first_start: datetime, minutes: int, platforms
):
    """The fields for which the service refuses a new series (maintenance, Denver's time)."""
    with pytest.raises(ValidationError) as exc:
        svc.save_series(
            db,
            admin,
            None,
            title=title,
            rule=rule,
            first_start=first_start,
            duration_minutes=minutes,
            impact="maintenance",
            platforms=platforms,
            tz_name="America/Denver",
            now=NOW,
        )
    return set(exc.value.errors)


def test_series_rule_without_occurrences_is_refused(db, admin):
    count = db.scalar(select(func.count()).select_from(MaintenanceSeries))
    first = datetime(2026, 1, 1, 22, tzinfo=MT)
    leap = refused_series(
        db, admin, "Leap day", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", first, 60, ["cisco"]
    )
    assert "rule" in leap
    db.rollback()
    assert db.scalar(select(func.count()).select_from(MaintenanceSeries)) == count


def test_series_refuses_unknown_platform_and_long_duration(db, admin):
    first = datetime(2026, 1, 5, 22, tzinfo=MT)
    refused = refused_series(
        db, admin, "Long", "FREQ=WEEKLY;BYDAY=MO", first, 30 * 24 * 60, ["nope"]
    )
    assert {"platforms", "duration_minutes"} <= refused
    assert db.scalar(select(func.count()).select_from(Platform)) == 7
