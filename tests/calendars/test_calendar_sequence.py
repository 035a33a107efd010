"""SEQUENCE never decreases for any calendar entry, in any calendar, whatever the edits.

Calendar clients ignore an update whose SEQUENCE went down, so every (UID, RECURRENCE-ID) in
the all-platforms calendar and in each platform's keeps a SEQUENCE at least as high as any
it showed before, even when it disappears (narrowed away, cancelled) and comes back.
"""

from __future__ import annotations

from datetime import date, timedelta

import icalendar
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from statuspage.models import Platform
from statuspage.renderers import publish
from statuspage.seed.defaults import seed_series
from statuspage.services import ValidationError
from statuspage.services import maintenance as svc
from tests.maintenance_fixtures import MT, NOW, window_on

SITE = publish.Site(name="Status", url="http://localhost", timezone="America/Denver")
MONTHLY = [date(2026, 12, 18), date(2027, 1, 15)]
CONNECT = [date(2026, 12, 8)]
SLUGS = ["calltower-cloud", "cisco", "microsoft-teams", "contact-centre"]

EDIT = st.one_of(
    st.tuples(st.just("move"), st.integers(1, 3)),
    st.tuples(st.just("narrow"), st.sets(st.sampled_from(SLUGS), min_size=1, max_size=3)),
    st.tuples(st.just("widen"), st.none()),
    st.tuples(st.just("cancel"), st.none()),
    st.tuples(st.just("annotate"), st.text("abc ", min_size=1, max_size=8)),
)
EDITS = st.lists(st.tuples(st.integers(0, len(MONTHLY) + len(CONNECT) - 1), EDIT), max_size=12)


def sequences(db) -> dict[tuple[str, str, str], int]:
    """{(calendar, UID, RECURRENCE-ID or ""): SEQUENCE} over every calendar published."""
    found: dict[tuple[str, str, str], int] = {}
    platforms = list(db.scalars(select(Platform)))
    for platform in [None, *platforms]:
        name = platform.slug if platform else "all"
        calendar = icalendar.Calendar.from_ical(publish.maintenance_calendar(db, SITE, platform))
        for event in calendar.walk("VEVENT"):
            rid = event.get("recurrence-id")
            key = (name, str(event["uid"]), rid.to_ical().decode() if rid else "")
            found[key] = int(event.get("sequence", 0))
    return found


def edit(db, admin, window, what, arg) -> None:
    now = NOW
    if what == "move":
        start = window.starts_at + timedelta(days=arg)
        svc.change_window(
            db,
            admin,
            window,
            starts_at=start,
            ends_at=start + (window.ends_at - window.starts_at),
            now=now,
        )
    elif what == "narrow":
        svc.change_window(db, admin, window, platforms=sorted(arg), now=now)
    elif what == "widen":
        svc.change_window(
            db, admin, window, platforms=[p.slug for p in window.series.platforms], now=now
        )
    elif what == "cancel":
        svc.set_window_status(db, admin, window, "cancelled", now)
    else:
        svc.change_window(db, admin, window, note=arg, now=now)


@pytest.mark.one_backend
@pytest.mark.slow
def test_sequence_never_decreases_in_any_calendar(db, admin):
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    svc.expand_series(db, NOW)
    db.commit()
    days = [("monthly-maintenance", d) for d in MONTHLY] + [("connect-release", d) for d in CONNECT]

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(edits=EDITS)
    # The regression of issue 10: narrow, then widen back (an EXDATE disappears).
    @example(edits=[(0, ("narrow", {"cisco"})), (0, ("widen", None))])
    def run(edits) -> None:
        try:
            highest = sequences(db)
            for index, (what, arg) in edits:
                key, day = days[index]
                window = window_on(db, key, day)
                try:
                    edit(db, admin, window, what, arg)
                except ValidationError:
                    continue  # refused before anything was written (a cancelled window)
                now_seen = sequences(db)
                for entry, seq in now_seen.items():
                    assert seq >= highest.get(entry, 0), (entry, seq, highest.get(entry), what)
                    highest[entry] = max(seq, highest.get(entry, 0))
        finally:
            db.rollback()

    run()
    assert window_on(db, "monthly-maintenance", MONTHLY[0]).starts_at.astimezone(MT).hour == 22
