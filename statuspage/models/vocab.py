"""The words of the support plan and of Statuspage, as closed vocabularies.

Ordered lists are ordered from best to worst where severity is meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PLATFORM_STATUSES = [
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
]
# Severity for "worst status wins"; maintenance ranks below any outage.
PLATFORM_STATUS_SEVERITY = {status: rank for rank, status in enumerate(PLATFORM_STATUSES)}

IMPACTS = ["none", "minor", "major", "critical"]
IMPACT_SEVERITY = {impact: rank for rank, impact in enumerate(IMPACTS)}

INCIDENT_STATUSES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
OPEN_INCIDENT_STATUSES = ["investigating", "identified", "monitoring"]
CLOSED_INCIDENT_STATUSES = ["resolved", "postmortem"]

# Incident text (titles, update bodies) is written in the provider's working language, and
# may carry versions in the site's other languages beside it (staff-written, never machine
# translated). A reader gets their language where a version exists, the original (marked as
# such) where not.
ORIGINAL_LANGUAGE = "en"
TRANSLATED_LANGUAGES = ("es", "de")

ROLES = ["admin", "css", "engineer"]
P1G_ROLES = frozenset({"admin", "css"})
# The role sets the staff pages check: everyone, and those who run master cases (CSS).
STAFF_ROLES = frozenset(ROLES)
CSS_ROLES = P1G_ROLES


@dataclass(frozen=True)
class Priority:
    """A priority level of the Client Support Plan's table."""

    code: str
    label: str
    definition: str
    example: str
    initial_response: str
    update_frequency: str
    # How often the public page must hear from us; None where the plan counts business days.
    update_interval: timedelta | None


PRIORITIES: dict[str, Priority] = {
    p.code: p
    for p in [
        Priority(
            "P1G",
            "Priority 1G (Global)",
            "A single issue affecting multiple organisations (master case)",
            "A platform-wide outage affecting several customers",
            "Immediate",
            "Hourly",
            timedelta(hours=1),
        ),
        Priority(
            "P1",
            "Priority 1",
            "Total impairment of critical services affecting an entire site",
            "Circuit is down resulting in loss of service",
            "15 min",
            "Hourly/As Requested",
            timedelta(hours=1),
        ),
        Priority(
            "P2",
            "Priority 2",
            "Partial/intermittent impairment of critical services affecting multiple users",
            "Intermittent drop while transferring calls",
            "30 min",
            "2 hours",
            timedelta(hours=2),
        ),
        Priority(
            "P3",
            "Priority 3",
            "Impairment of non-critical services for multiple users or total impairment of "
            "services for a single user",
            "Presence not showing correctly for multiple users/phone not registering for a "
            "single user",
            "4 hours",
            "1 Business Day",
            None,
        ),
        Priority(
            "P4",
            "Priority 4",
            "Impairment of non-critical services for a single user",
            "Message Waiting Light not functioning for a single user",
            "1 Business Day",
            "2 Business Days",
            None,
        ),
    ]
}

WINDOW_STATUSES = ["scheduled", "in_progress", "verifying", "completed", "cancelled"]
ACTIVE_WINDOW_STATUSES = ["in_progress", "verifying"]
MAINTENANCE_IMPACTS = ["none", "maintenance"]
# Notices a series or window may send ahead of and during a window (SPEC section 4).
MAINTENANCE_NOTICES = ["week_before", "day_before", "start", "completion"]
