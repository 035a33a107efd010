"""The defaults every install starts with: the platforms and the support plan's series.

Data, not rules: both functions only add what is missing, so `init` and `seed` are safe to
run again. They flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from calendars import recurrence
from statuspage.models import MaintenanceSeries, Platform

DEFAULT_PLATFORMS = [
    ("calltower-cloud", "CallTower Cloud", "Hosted voice and collaboration (CT Cloud)."),
    ("cisco", "Cisco", "Cisco hosted collaboration, Webex and Jabber services."),
    (
        "microsoft-teams",
        "Microsoft Teams (Operator Connect)",
        "PSTN calling for Microsoft Teams through Operator Connect.",
    ),
    ("skype-for-business", "Skype for Business", "Hosted Skype for Business voice and presence."),
    ("calltower-connect", "CallTower Connect", "The CallTower Connect portal and its services."),
    ("contact-centre", "Contact Centre", "Cloud contact centre services."),
    (
        "legacy-onestream",
        "Legacy OneStream Networks",
        "Legacy OneStream Networks voice and data services.",
    ),
]


@dataclass(frozen=True)
class SeriesDefaults:
    key: str
    title: str
    rule: str
    local_start: tuple[int, int]  # hour, minute in the provider's zone
    duration_minutes: int
    impact: str
    notices: tuple[str, ...]
    platforms: tuple[str, ...] | None  # None: every platform
    description: str
    justification: str


DEFAULT_SERIES = [
    SeriesDefaults(
        key="monthly-maintenance",
        title="Monthly scheduled maintenance",
        rule="FREQ=MONTHLY;BYDAY=3FR",
        local_start=(22, 0),
        duration_minutes=6 * 60,
        impact="maintenance",
        notices=("week_before", "start", "completion"),
        platforms=None,
        description="Proactive, routine maintenance: system patching, hardware commissioning "
        "and decommissioning, and hardware and software upgrades.",
        justification="Keeps the highest level of uptime and performance for customers.",
    ),
    SeriesDefaults(
        key="sfb-certificate",
        title="Skype for Business certificate update",
        rule="FREQ=WEEKLY;BYDAY=FR",
        local_start=(0, 0),
        duration_minutes=30,
        impact="none",
        notices=(),
        platforms=("skype-for-business",),
        description="Weekly certificate upload to a Skype for Business server. No customer "
        "impact: services remain functional during the upload.",
        justification="The platform requires a weekly certificate update.",
    ),
    SeriesDefaults(
        key="connect-release",
        title="CallTower Connect release",
        rule="FREQ=WEEKLY;INTERVAL=3;BYDAY=TU",
        local_start=(21, 0),
        duration_minutes=2 * 60,
        impact="none",
        notices=("day_before",),
        platforms=("calltower-connect",),
        description="System upgrades and patches to the CallTower Connect platform following "
        "the completion of a three-week sprint. Services are not impacted.",
        justification="Delivers the sprint's fixes and features.",
    ),
]


def seed_platforms(session: Session, now: datetime) -> int:
    """Create the default platforms that do not exist yet; return how many were created."""
    existing = set(session.scalars(select(Platform.slug)))
    created = 0
    for position, (slug, name, description) in enumerate(DEFAULT_PLATFORMS, start=1):
        if slug in existing:
            continue
        session.add(
            Platform(
                slug=slug,
                name=name,
                description=description,
                position=position,
                status="operational",
                created_at=now,
                updated_at=now,
            )
        )
        created += 1
    session.flush()
    return created


def seed_series(session: Session, now: datetime, *, tz_name: str, connect_anchor: date) -> int:
    """Create the plan's three series that do not exist yet; return how many were created.

    The monthly window and the certificate update are anchored in January 2026; the Connect
    release follows the three-week sprint from `connect_anchor` (a Tuesday).
    """
    tz = ZoneInfo(tz_name)
    existing = set(session.scalars(select(MaintenanceSeries.key)))
    every = list(session.scalars(select(Platform).order_by(Platform.position)))
    created = 0
    for d in DEFAULT_SERIES:
        if d.key in existing:
            continue
        anchor = connect_anchor if d.key == "connect-release" else date(2026, 1, 1)
        first = recurrence.first_occurrence_after(
            d.rule,
            datetime.combine(anchor, time(*d.local_start), tzinfo=tz),
            datetime.combine(anchor, time(0), tzinfo=tz),
        )
        assert first is not None
        platforms = every if d.platforms is None else [p for p in every if p.slug in d.platforms]
        series = MaintenanceSeries(
            key=d.key,
            title=d.title,
            rule=d.rule,
            first_start=first,
            timezone=tz_name,
            duration_minutes=d.duration_minutes,
            impact=d.impact,
            description=d.description,
            justification=d.justification,
            notices=list(d.notices),
            active=True,
            sequence=0,
            created_at=now,
            updated_at=now,
            platforms=platforms,
        )
        session.add(series)
        created += 1
    session.flush()
    return created


def seed_defaults(
    session: Session, now: datetime, *, tz_name: str, connect_anchor: date
) -> tuple[int, int]:
    """The default platforms, then the series over them; how many of each were created."""
    platforms = seed_platforms(session, now)
    series = seed_series(session, now, tz_name=tz_name, connect_anchor=connect_anchor)
    return platforms, series
