"""A lived-in demo page, built through the same services staff use.

Everything happens at explicit past moments relative to `now`: incidents over the last 90 days
(each with its investigating -> identified -> monitoring -> resolved timeline), a resolved
master case, an open master case with hourly updates whose last one is half an hour old, the
maintenance calendar with its past and coming windows, staff of every role and a few MPOC
subscribers. The demo only goes into an empty database: it refuses one that holds staff or
incidents, so it can never mix with real data.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.models import Incident, User
from statuspage.seed.defaults import DEFAULT_PLATFORMS, seed_platforms, seed_series
from statuspage.services import factors, incidents, maintenance, staff
from statuspage.services.errors import ValidationError
from statuspage.services.subscriptions import mpoc

DEMO_DOMAIN = "example.com"
DEMO_STAFF = [
    ("admin", "Demo Administrator"),
    ("css", "Demo Client Support"),
    ("engineer", "Demo Network Engineer"),
]
HISTORY = timedelta(days=90)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One timeline entry, `after` the incident opened."""

    after: timedelta
    status: str
    body: str
    platforms: Mapping[str, str] | None = None
    # The text in Spanish and German, where CSS gave it ({"es": ..., "de": ...}).
    translations: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Story:
    """An incident as it happened: when it opened (`ago`), who ran it, and its timeline."""

    ago: timedelta
    title: str
    priority: str
    impact: str
    platforms: Mapping[str, str]
    steps: tuple[Step, ...]
    author: str = "engineer"
    case_number: str | None = None
    customer_case_numbers: tuple[str, ...] = ()
    notify: bool = False
    title_translations: Mapping[str, str] | None = None


def _m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


RESOLVED_STORIES = [
    Story(
        ago=timedelta(days=88, hours=3),
        title="Fax delivery delays on Legacy OneStream Networks",
        priority="P4",
        impact="minor",
        platforms={"legacy-onestream": "degraded_performance"},
        steps=(
            Step(_m(0), "investigating", "Some outbound faxes are queued for longer than usual."),
            Step(_m(95), "identified", "A full spool on one fax gateway; we are draining it."),
            Step(_m(180), "monitoring", "The queue is empty and faxes leave within a minute."),
            Step(_m(300), "resolved", "Fax delivery has been normal for two hours. Resolved."),
        ),
    ),
    Story(
        ago=timedelta(days=81, hours=7),
        title="Skype for Business presence and instant messages delayed",
        priority="P3",
        impact="minor",
        platforms={"skype-for-business": "degraded_performance"},
        steps=(
            Step(_m(0), "investigating", "Presence and IM are slow to update for some users."),
            Step(_m(50), "identified", "A front-end pool server is overloaded; moving users."),
            Step(_m(130), "monitoring", "Users are balanced across the pool again."),
            Step(_m(240), "resolved", "Presence and IM are back to normal."),
        ),
    ),
    Story(
        ago=timedelta(days=64, hours=2),
        title="CallTower Connect portal login errors",
        priority="P3",
        impact="minor",
        platforms={"calltower-connect": "partial_outage"},
        steps=(
            Step(_m(0), "investigating", "Some users see an error after signing in to Connect."),
            Step(_m(35), "identified", "An expired identity-provider certificate; renewing it."),
            Step(
                _m(70),
                "monitoring",
                "The certificate is renewed; sign-ins succeed.",
                {"calltower-connect": "degraded_performance"},
            ),
            Step(_m(150), "resolved", "No sign-in errors since the renewal. Resolved."),
        ),
    ),
    Story(
        ago=timedelta(days=37, hours=5),
        title="Outbound calls failing for some Microsoft Teams users",
        priority="P2",
        impact="major",
        platforms={"microsoft-teams": "partial_outage"},
        steps=(
            Step(
                _m(0),
                "investigating",
                "Some outbound PSTN calls from Teams fail with a busy tone.",
            ),
            Step(_m(45), "identified", "One session border controller rejects new sessions."),
            Step(
                _m(110),
                "monitoring",
                "Traffic moved to the standby controller; calls complete.",
                {"microsoft-teams": "degraded_performance"},
            ),
            Step(_m(230), "resolved", "Outbound calling has been stable for two hours."),
        ),
    ),
    Story(
        ago=timedelta(days=26, hours=9),
        title="Voicemail-to-email delivery delayed",
        priority="P3",
        impact="minor",
        platforms={"calltower-cloud": "degraded_performance"},
        steps=(
            Step(_m(0), "investigating", "Voicemail emails arrive up to 30 minutes late."),
            Step(_m(60), "identified", "A relay's outbound queue is throttled; raising limits."),
            Step(_m(120), "monitoring", "The backlog is delivered; new messages are on time."),
            Step(_m(200), "resolved", "Voicemail-to-email is back to normal."),
        ),
    ),
    Story(
        ago=timedelta(days=17, hours=4),
        title="Contact Centre agent desktop slow to load",
        priority="P2",
        impact="minor",
        platforms={"contact-centre": "degraded_performance"},
        steps=(
            Step(_m(0), "investigating", "Agents report the desktop takes minutes to load."),
            Step(_m(40), "identified", "A reporting query is exhausting the database pool."),
            Step(_m(90), "monitoring", "The query is stopped and the pool is healthy."),
            Step(_m(180), "resolved", "Agent desktops load normally. Resolved."),
        ),
    ),
    Story(
        ago=timedelta(days=3, hours=6),
        title="Intermittent call drops on transfer",
        priority="P2",
        impact="minor",
        platforms={"cisco": "degraded_performance"},
        steps=(
            Step(_m(0), "investigating", "Some calls drop while being transferred."),
            Step(_m(40), "identified", "A media resource group lost a transcoder; rerouting."),
            Step(_m(120), "monitoring", "Transfers use the healthy transcoders."),
            Step(_m(180), "resolved", "No dropped transfers since the change. Resolved."),
        ),
    ),
]

RESOLVED_MASTER_CASE = Story(
    ago=timedelta(days=51, hours=2),
    title="Inbound calls failing for multiple organisations",
    priority="P1G",
    impact="critical",
    platforms={"calltower-cloud": "major_outage", "cisco": "partial_outage"},
    author="css",
    case_number="CS-2026-10482",
    customer_case_numbers=("CS-2026-10477", "CS-2026-10479", "CS-2026-10480"),
    steps=(
        Step(
            _m(0),
            "investigating",
            "Inbound calls to numbers on CallTower Cloud fail for several customers. "
            "This is a master case; the next update follows within the hour.",
        ),
        Step(_m(50), "identified", "A carrier interconnect stopped routing our number ranges."),
        Step(
            _m(105),
            "identified",
            "Half of the number ranges are rerouted through a second carrier.",
            {"calltower-cloud": "partial_outage", "cisco": "degraded_performance"},
        ),
        Step(
            _m(160),
            "monitoring",
            "All ranges route through the second carrier; inbound calls complete.",
            {"calltower-cloud": "degraded_performance", "cisco": "operational"},
        ),
        Step(_m(240), "resolved", "The carrier restored its interconnect. Resolved."),
        Step(
            _m(3 * 24 * 60),
            "postmortem",
            "**Root cause**: a routing change at the carrier withdrew our number ranges.\n\n"
            "**Actions**: number ranges are now announced through two carriers at all times.",
        ),
    ),
)

OPEN_MASTER_CASE = Story(
    ago=_m(4 * 60 + 10),
    title="Calls to and from Microsoft Teams failing for multiple organisations",
    title_translations={
        "es": "Fallan las llamadas desde y hacia Microsoft Teams en varias organizaciones",
        "de": "Anrufe von und zu Microsoft Teams scheitern bei mehreren Organisationen",
    },
    priority="P1G",
    impact="critical",
    platforms={"microsoft-teams": "major_outage", "calltower-cloud": "partial_outage"},
    author="css",
    case_number="CS-2026-11873",
    customer_case_numbers=("CS-2026-11861", "CS-2026-11866", "CS-2026-11870"),
    notify=True,
    steps=(
        Step(
            _m(0),
            "investigating",
            "Calls between Microsoft Teams and the PSTN fail for several customers. "
            "This is a master case; updates follow every hour.",
            translations={
                "es": "Las llamadas entre Microsoft Teams y la red telefónica fallan para varios "
                "clientes. Es un caso maestro; las actualizaciones siguen cada hora.",
                "de": "Anrufe zwischen Microsoft Teams und dem Telefonnetz scheitern bei "
                "mehreren Kunden. Dies ist ein Hauptfall; Aktualisierungen folgen stündlich.",
            },
        ),
        Step(
            _m(55),
            "identified",
            "Signalling between our session border controllers and the Operator Connect "
            "service is failing after a certificate chain change.",
        ),
        Step(
            _m(110),
            "identified",
            "A corrected certificate chain is deployed to the first controller pair; some "
            "calls now complete.",
            {"microsoft-teams": "partial_outage"},
        ),
        Step(
            _m(165),
            "identified",
            "The second controller pair is being updated. CallTower Cloud calls to Teams "
            "users complete again.",
            {"calltower-cloud": "degraded_performance"},
        ),
        Step(
            _m(220),
            "monitoring",
            "All controllers carry the corrected chain and calls complete. We are watching "
            "call success rates before closing the case.",
            {"microsoft-teams": "degraded_performance"},
            translations={
                "es": "Todos los controladores llevan la cadena corregida y las llamadas se "
                "completan. Vigilamos la tasa de éxito antes de cerrar el caso.",
            },
        ),
    ),
)

DEMO_SUBSCRIBERS = [
    ("noc@clinic-group.example.org", "Network Operations", "Example Clinic Group", "all"),
    ("it@logistics.example.org", "IT Desk", "Example Logistics", "calltower-cloud;cisco"),
    ("mpoc@lawfirm.example.org", "Office Manager", "Example Law Partners", "microsoft-teams"),
    ("ops@retail.example.org", "Store Systems", "Example Retail", "contact-centre"),
    ("voice@school.example.org", "Voice Admin", "Example School District", "skype-for-business"),
]


@dataclass
class DemoResult:
    """What the demo made; `logins` holds (email, role, password), shown once, and
    `authenticators` the authenticator key of each admin and CSS login (they sign in with a
    password and a code, as everywhere)."""

    logins: list[tuple[str, str, str]] = field(default_factory=list)
    authenticators: dict[str, str] = field(default_factory=dict)
    incidents: int = 0
    open_master_case: Incident | None = None
    resolved_master_case: Incident | None = None
    windows: int = 0
    subscribers: int = 0


def has_data(session: Session) -> bool:
    """True when the database holds staff or incidents (the demo stays out of real data)."""
    return (
        session.scalar(select(User.id).limit(1)) is not None
        or session.scalar(select(Incident.id).limit(1)) is not None
    )


def _tell(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _play(session: Session, actors: Mapping[str, User], story: Story, now: datetime) -> Incident:
    """Create the incident at its opening moment and post each later step at its moment."""
    opened = now - story.ago
    first, *rest = story.steps
    incident = incidents.create_incident(
        session,
        actors[story.author],
        title=story.title,
        title_translations=story.title_translations,
        body=first.body,
        body_translations=first.translations,
        status=first.status,
        impact=story.impact,
        priority=story.priority,
        platform_statuses=dict(story.platforms),
        case_number=story.case_number,
        customer_case_numbers=list(story.customer_case_numbers),
        deliver_notifications=story.notify,
        now=opened,
    )
    for step in rest:
        at = opened + step.after
        if at > now:
            break
        incidents.post_update(
            session,
            actors[story.author],
            incident,
            status=step.status,
            body=step.body,
            body_translations=step.translations,
            platform_statuses=dict(step.platforms) if step.platforms else None,
            deliver_notifications=story.notify,
            now=at,
        )
    return incident


def seed(
    session: Session,
    *,
    now: datetime,
    tz_name: str,
    connect_anchor: date,
    progress: Progress | None = None,
) -> DemoResult:
    """Fill an empty database with the demo. Flushes; the caller commits.

    Raises ValidationError when the database already holds staff or incidents.
    """
    if has_data(session):
        raise ValidationError(
            {"database": "it already holds staff or incidents; the demo only seeds a new one"}
        )
    now = now.replace(second=0, microsecond=0)
    start = now - HISTORY - timedelta(days=10)
    result = DemoResult()

    _tell(progress, "platforms")
    seed_platforms(session, start)

    _tell(progress, "staff")
    actors: dict[str, User] = {}
    for role, name in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        email = f"{role}@{DEMO_DOMAIN}"
        actors[role] = staff.create_user(
            session, None, email=email, role=role, password=password, name=name, now=start
        )
        result.logins.append((email, role, password))
    session.flush()
    for email, _role, _password in result.logins:
        user = staff.find_user(session, email)
        if user is not None and factors.required(user):
            result.authenticators[email], _codes = factors.enrol_by_operator(session, user, start)

    _tell(progress, "subscribers")
    rows = [
        (
            line,
            {
                "email": email,
                "name": name,
                "organisation": org,
                "platforms": ";".join(s for s, _, _ in DEFAULT_PLATFORMS)
                if slugs == "all"
                else slugs,
                "topics": "incidents;maintenance",
                "language": "en",
            },
        )
        for line, (email, name, org, slugs) in enumerate(DEMO_SUBSCRIBERS, start=2)
    ]
    imported = mpoc.import_contacts(
        session, rows, actor=None, timezone=tz_name, now=start + timedelta(days=1)
    )
    result.subscribers = imported.imported

    _tell(progress, "maintenance calendar")
    seed_series(session, start, tz_name=tz_name, connect_anchor=connect_anchor)
    result.windows = maintenance.expand_series(
        session, now - HISTORY, horizon=HISTORY + maintenance.HORIZON
    )
    maintenance.advance_windows(session, now)

    stories = sorted([*RESOLVED_STORIES, RESOLVED_MASTER_CASE], key=lambda s: s.ago, reverse=True)
    for story in stories:
        _tell(progress, f"incident: {story.title}")
        incident = _play(session, actors, story, now)
        if story is RESOLVED_MASTER_CASE:
            result.resolved_master_case = incident
        result.incidents += 1

    _tell(progress, f"open master case: {OPEN_MASTER_CASE.title}")
    result.open_master_case = _play(session, actors, OPEN_MASTER_CASE, now)
    result.incidents += 1
    session.flush()
    return result
