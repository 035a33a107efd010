"""What the embed for other sites shows: open incidents and in-progress or upcoming
maintenance for the platforms a host page chose.

Built on the page's own reads (`incidents.open_incidents`, `maintenance.active`,
`maintenance.upcoming`) and narrowed here, so the embed lists exactly what the status page
lists, in the same order. Two decisions:

- A master case (P1G, "Global") is shown in every embed whatever platforms it chose, first
  and marked, as every page of the site carries its banner.
- An incident or window that names no platform is shown only in an embed of all platforms:
  nothing says it concerns the chosen ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from statuspage.models import Incident, MaintenanceWindow, Platform
from statuspage.queries import incidents as incident_queries
from statuspage.queries import maintenance as maintenance_queries
from statuspage.queries import platforms as platform_queries

UPCOMING_DAYS = 14


class UnknownPlatforms(LookupError):
    """Slugs that name no platform; `known` lists the ones that do, for the message."""

    def __init__(self, unknown: Sequence[str], known: Sequence[str]) -> None:
        super().__init__(", ".join(unknown))
        self.unknown = list(unknown)
        self.known = list(known)


@dataclass(frozen=True)
class EmbedStatus:
    platforms: list[Platform]  # the chosen platforms (all of them when none was chosen)
    everything: bool  # no platform was chosen
    incidents: list[Incident]  # master cases first, as on the status page
    active: list[MaintenanceWindow]
    upcoming: list[MaintenanceWindow]


def embed_status(session: Session, now: datetime, slugs: Sequence[str] = ()) -> EmbedStatus:
    """Open incidents, windows in progress and windows starting within 14 days, for the
    platforms named by `slugs` (every platform for none). Raises UnknownPlatforms when a slug
    names no platform, so a host page's typo is reported instead of showing "all clear"."""
    every = platform_queries.platforms(session)
    by_slug = {p.slug: p for p in every}
    unknown = [s for s in slugs if s not in by_slug]
    if unknown:
        raise UnknownPlatforms(unknown, [p.slug for p in every])
    if not slugs:
        return EmbedStatus(
            platforms=every,
            everything=True,
            incidents=incident_queries.open_incidents(session),
            active=maintenance_queries.active(session),
            upcoming=maintenance_queries.upcoming(session, now, days=UPCOMING_DAYS),
        )
    chosen = {by_slug[s].id for s in slugs}

    def concerns(ids: set[int]) -> bool:
        return bool(ids & chosen)

    return EmbedStatus(
        platforms=[p for p in every if p.id in chosen],
        everything=False,
        incidents=[
            i
            for i in incident_queries.open_incidents(session)
            if i.is_master_case or concerns({link.platform_id for link in i.platforms})
        ],
        active=[
            w for w in maintenance_queries.active(session) if concerns({p.id for p in w.platforms})
        ],
        upcoming=[
            w
            for w in maintenance_queries.upcoming(session, now, days=UPCOMING_DAYS)
            if concerns({p.id for p in w.platforms})
        ],
    )
