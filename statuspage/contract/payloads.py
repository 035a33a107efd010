"""What a notice says: the payload stored with each `Notice`, as typed dicts, declared once.

The services write them (`services.notices.incident_payload`, `window_payload`, ...) and
every renderer reads them: the email templates, the Teams and Slack cards, the webhook
envelope, the SMS text (`statuspage.channels`). `kind` says which payload a notice holds;
`payload_of` gives a stored payload its type. Times are ISO 8601 strings with their offset,
links are site-relative paths (made absolute when a notice is rendered for sending).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, cast

from typing_extensions import TypedDict

from statuspage.links import with_language

IncidentKind = Literal["incident_created", "incident_updated", "incident_resolved"]
WindowKind = Literal[
    "maintenance_week_before",
    "maintenance_day_before",
    "maintenance_start",
    "maintenance_completion",
    "maintenance_rescheduled",
    "maintenance_cancelled",
    "maintenance_narrowed",
    "maintenance_no_longer_affected",
    "maintenance_release_notes",
    "maintenance_scheduled",
    "maintenance_short_notice",
]
# A subscriber's opt-in: an email's confirmation link, a channel's verification (a webhook's
# echo, a chat channel's welcome card, an SMS code); the stored kind keeps its first name.
CONFIRMATION_KIND: Literal["subscription_confirm"] = "subscription_confirm"
VERIFICATION_KIND: Literal["webhook_verification"] = "webhook_verification"
COMPONENT_UPDATE_KIND: Literal["component_update"] = "component_update"
OVERDUE_KIND: Literal["p1g_overdue"] = "p1g_overdue"


class IncidentFields(TypedDict):
    """An incident as every notice about it shows it."""

    id: int
    title: str
    # Staff's versions in the other languages ({"es": ..., "de": ...}; left out before them).
    title_translations: NotRequired[dict[str, str]]
    priority: str
    is_master_case: bool
    case_number: str | None
    impact: str
    status: str
    url: str


class UpdateFields(TypedDict):
    """One entry of an incident's timeline."""

    id: int
    status: str
    body: str
    body_translations: NotRequired[dict[str, str]]
    at: str
    etr: str | None
    # When staff last corrected the text (shown as edited).
    edited_at: NotRequired[str | None]


class IncidentPayload(TypedDict):
    """An incident opened, updated or resolved."""

    kind: IncidentKind
    # The entry's text was corrected (sent again only when staff ask).
    correction: NotRequired[bool]
    incident: IncidentFields
    update: UpdateFields
    platforms: list[str]


class WindowFields(TypedDict):
    """A maintenance window as its notices show it."""

    id: int
    title: str
    starts_at: str
    ends_at: str
    platforms: list[str]
    description: str
    justification: str | None
    urgency: str | None
    note: str | None
    release_notes: str | None
    url: str
    impact: str
    unscheduled: bool
    previous_starts_at: NotRequired[str]
    previous_ends_at: NotRequired[str]
    removed_platforms: NotRequired[list[str]]


class CalendarFields(TypedDict):
    """What an email's invite.ics needs to be the published calendar's entry."""

    series_key: str | None
    recurrence_id: str | None
    timezone: str | None
    sequence: int
    cancelled: bool


class WindowPayload(TypedDict):
    """A maintenance notice (announcement, start, completion, change, release notes)."""

    kind: WindowKind
    window: WindowFields
    calendar: CalendarFields
    issued_at: NotRequired[str]
    # A "told" audience's platforms whose subscribers are still affected (left out).
    except_platform_ids: NotRequired[list[int]]


class ConfirmationPayload(TypedDict):
    """An email subscriber's opt-in mail: the link that confirms it."""

    kind: Literal["subscription_confirm"]
    confirm_url: str
    platforms: list[str]
    incident_title: str | None


class VerificationPayload(TypedDict):
    """A channel's opt-in: the token a webhook echoes; for a channel confirmed by a code
    typed on a page, the code, the page (`verify_url`) and what the code confirms."""

    kind: Literal["webhook_verification"]
    token: str
    code: NotRequired[str]
    verify_url: NotRequired[str]
    subscriptions: NotRequired[list[int]]
    topics: NotRequired[list[str]]


class ComponentChange(TypedDict):
    created_at: str
    new_status: str
    old_status: str
    component_id: str


class ComponentUpdatePayload(TypedDict):
    """A platform's status changed (Statuspage's `component_update` webhook event)."""

    kind: Literal["component_update"]
    component_update: ComponentChange
    platform_name: str


class OverduePayload(TypedDict):
    """A master case's hourly update is overdue (mail to the CSS on duty)."""

    kind: Literal["p1g_overdue"]
    incident: IncidentFields
    due_at: str
    # 0 for the first alert, then 1, 2... every OVERDUE_REMINDER_MINUTES while still overdue.
    reminder: NotRequired[int]
    overdue_minutes: NotRequired[int]


NoticePayload = (
    IncidentPayload
    | WindowPayload
    | ConfirmationPayload
    | VerificationPayload
    | ComponentUpdatePayload
    | OverduePayload
)


class PageStatus(TypedDict):
    id: str
    status_indicator: str
    status_description: str


class Snapshot(TypedDict):
    """What the public API says now of a notice's subject, read when it is sent (a
    channel whose message shows the API's objects asks for it: `Channel.needs_snapshot`).
    `incident` is the incident (or the window, as Statuspage's scheduled maintenance) in
    the shape of /api/v2; `component` the platform of a component update."""

    page: PageStatus
    incident: dict[str, Any] | None
    component: dict[str, Any] | None


def payload_of(stored: Mapping[str, Any]) -> NoticePayload:
    """A stored payload (JSON) as the payload its `kind` names."""
    return cast(NoticePayload, stored)


def is_incident(payload: NoticePayload) -> bool:
    return str(payload["kind"]).startswith("incident_")


def is_window(payload: NoticePayload) -> bool:
    return str(payload["kind"]).startswith("maintenance_")


def page_url(payload: NoticePayload) -> str | None:
    """The page of what a notice is about (its incident's or its window's), or None."""
    if is_incident(payload):
        return cast(IncidentPayload, payload)["incident"]["url"]
    if is_window(payload):
        return cast(WindowPayload, payload)["window"]["url"]
    return None


def absolute(payload: Mapping[str, Any], base_url: str, language: str | None = None) -> Any:
    """The payload with its site-relative links (`...url` keys holding a path) made absolute:
    what a message sent out of the site needs; with `language`, each opens in it (`?lang=`)."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, Mapping):
            out[key] = absolute(value, base_url, language)
        elif isinstance(value, str) and key.endswith("url") and value.startswith("/"):
            url = base_url + value
            out[key] = with_language(url, language) if language else url
        else:
            out[key] = value
    return out
