"""What the APIs answer with: Statuspage's object shapes, as typed dicts.

`statuspage.renderers.serializers` builds these (the type checker holds it to every key and
type) and `statuspage.contract.openapi` turns the same declarations into the document's
schemas. Typed dicts rather than models: the public API serialises whole pages of incidents,
and a plain dict costs nothing to build or to encode. Fields marked "extra" are this
product's; nothing Statuspage names is renamed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, NotRequired

from pydantic import Field, WithJsonSchema

# pydantic reads typed dicts from typing_extensions on Python 3.11.
from typing_extensions import TypedDict

from statuspage import channels

# ISO 8601 with milliseconds and Z, as Statuspage writes them (`serializers.ts`).
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
PlatformStatus = Literal[
    "operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"
]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
Impact = Literal["none", "minor", "major", "critical"]
PriorityCode = Literal["P1G", "P1", "P2", "P3", "P4"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]
Indicator = Literal["none", "minor", "major", "critical", "maintenance"]
# Every channel's name (`statuspage.channels`): Statuspage's email, webhook and sms, and
# this product's teams and slack.
# The checker sees a string: the names are read from the registry when the app loads.
if TYPE_CHECKING:
    SubscriberMode = str
else:
    SubscriberMode = Literal[channels.names()]
SubscriberState = Literal["active", "unconfirmed", "quarantined", "unsubscribed"]


def extra(description: str) -> object:
    """A field this product adds to Statuspage's object."""
    return Field(description=f"extra: {description}")


class Page(TypedDict):
    """The page every public API v2 answer starts with."""

    id: str
    name: str
    url: str
    time_zone: str
    updated_at: Timestamp | None


class Status(TypedDict):
    """The page's overall indicator: the worst of platform statuses and open incidents."""

    indicator: Indicator
    description: str


class Component(TypedDict):
    """A platform, in the shape of Statuspage's component."""

    id: str
    name: str
    status: PlatformStatus
    created_at: Timestamp
    updated_at: Timestamp
    position: int
    description: str | None
    showcase: bool
    start_date: str | None
    group_id: str | None
    page_id: str
    group: bool
    only_show_if_degraded: bool
    slug: Annotated[str, extra("the platform's short name in addresses")]


class AffectedComponent(TypedDict):
    """A platform's status change carried by an update."""

    code: str
    name: str
    old_status: PlatformStatus
    new_status: PlatformStatus


Language = Literal["es", "de"]


class UpdateExtras(TypedDict):
    """This product's extras of a timeline entry, under Statuspage's `metadata`."""

    body_translations: Annotated[
        dict[Language, str],
        Field(
            description="the text in the site's other languages ({language: Markdown}); "
            "`body` is the English original"
        ),
    ]
    edited_at: Annotated[
        Timestamp | None, Field(description="when staff last corrected the text, or null")
    ]


class UpdateMetadata(TypedDict):
    network_status: UpdateExtras


class IncidentExtras(TypedDict):
    """This product's extras of an incident, under Statuspage's `metadata`."""

    name_translations: Annotated[
        dict[Language, str],
        Field(
            description="the title in the site's other languages ({language: title}); "
            "`name` is the English original"
        ),
    ]


class IncidentMetadata(TypedDict):
    network_status: IncidentExtras


class IncidentUpdate(TypedDict):
    """One timeline entry of an incident (or a window's description)."""

    id: str
    status: str
    body: str
    incident_id: str
    created_at: Timestamp
    updated_at: Timestamp
    display_at: Timestamp
    affected_components: list[AffectedComponent]
    deliver_notifications: bool
    etr: NotRequired[
        Annotated[Timestamp | None, extra("the estimated time of resolution this update gave")]
    ]
    edited_at: NotRequired[
        Annotated[
            Timestamp | None,
            extra("when staff corrected the text after posting it (shown as edited), or null"),
        ]
    ]
    metadata: NotRequired[
        Annotated[
            UpdateMetadata,
            extra("Statuspage's metadata: this product's extras under `network_status`"),
        ]
    ]


class Incident(TypedDict):
    """An incident. Customers' own case numbers appear in the Manage API v1 only."""

    id: str
    name: str
    status: IncidentStatus
    impact: Impact
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp
    monitoring_at: Timestamp | None
    resolved_at: Timestamp | None
    shortlink: str
    page_id: str
    components: list[Component]
    incident_updates: list[IncidentUpdate]
    priority: Annotated[
        PriorityCode,
        extra("the support plan's priority; P1G is a master case"),
    ]
    master_case: Annotated[bool, extra("a P1G master case")]
    case_number: Annotated[str | None, extra("the support case number")]
    next_update_due_at: Annotated[
        Timestamp | None,
        extra("when the next update is due (P1G hourly), or the newest update's ETR"),
    ]
    customer_case_numbers: NotRequired[
        Annotated[list[str], extra("Manage API v1 (staff) only: customers' own case numbers")]
    ]
    metadata: Annotated[
        IncidentMetadata,
        extra("Statuspage's metadata: this product's extras under `network_status`"),
    ]


class ScheduledMaintenance(TypedDict):
    """A maintenance window, in the shape of Statuspage's scheduled maintenance; its id is
    `w<n>` and its one update says what the work is and why."""

    id: str
    name: str
    status: MaintenanceStatus
    impact: Literal["none", "maintenance"]
    created_at: Timestamp
    updated_at: Timestamp
    started_at: Timestamp | None
    monitoring_at: Timestamp | None
    resolved_at: Timestamp | None
    shortlink: str
    scheduled_for: Timestamp
    scheduled_until: Timestamp
    scheduled_auto_in_progress: bool
    scheduled_auto_completed: bool
    page_id: str
    components: list[Component]
    incident_updates: list[IncidentUpdate]
    justification: Annotated[str | None, extra("why the work is needed")]
    unscheduled: Annotated[bool, extra("unscheduled (emergency) work")]
    cancelled: Annotated[bool, extra("cancelled; Statuspage's status shows completed")]
    release_notes: Annotated[str | None, extra("what the work changed")]


class Subscriber(TypedDict):
    """A subscriber of one channel (`mode`), its address in that channel's field: `email`,
    `endpoint` (a webhook, and this product's `teams` and `slack`: masked), `phone_number`."""

    id: str
    mode: SubscriberMode
    email: str | None
    endpoint: Annotated[
        str | None,
        Field(
            description="a channel's URL, masked (scheme, host and the path's last four "
            "characters): the whole URL lets whoever holds it post to the channel"
        ),
    ]
    phone_number: Annotated[str | None, Field(description="an SMS subscriber's number (E.164)")]
    phone_country: Annotated[
        str | None, Field(description="an SMS subscriber's country (ISO 3166 alpha-2)")
    ]
    display_phone_number: Annotated[
        str | None, Field(description="an SMS subscriber's number as it is written")
    ]
    obfuscated_channel_name: None
    workspace_name: None
    skip_confirmation_notification: Annotated[
        bool,
        Field(
            description="confirmed without its own opt-in (added by staff with the flag, or "
            "imported)"
        ),
    ]
    quarantined_at: Annotated[
        Timestamp | None, Field(description="when a channel was paused after repeated failure")
    ]
    purge_at: Annotated[None, Field(description="always null: nothing is purged")]
    components: Annotated[
        list[str], Field(description="ids of the platforms (components) subscribed to")
    ]
    page_access_user_id: None
    created_at: Timestamp
    state: SubscriberState
    incident_ids: Annotated[list[str], extra("the incidents subscribed to one by one")]
    quarantine_reason: Annotated[str | None, extra("why the channel was paused")]


class NewChannel(Subscriber):
    """A channel just created: its signing `secret` is shown this once."""

    secret: Annotated[str, extra("the signing secret, shown only at creation")]


class Error(TypedDict):
    """Every 4xx answer: a message, and for bad input the message of each field."""

    error: str
    errors: NotRequired[dict[str, str]]


# --- public API v2 documents ------------------------------------------------------------


class SummaryDocument(TypedDict):
    """Everything on the page."""

    page: Page
    components: list[Component]
    incidents: list[Incident]
    scheduled_maintenances: list[ScheduledMaintenance]
    status: Status


class StatusDocument(TypedDict):
    page: Page
    status: Status


class ComponentsDocument(TypedDict):
    page: Page
    components: list[Component]


class IncidentsDocument(TypedDict):
    page: Page
    incidents: list[Incident]


class MaintenancesDocument(TypedDict):
    page: Page
    scheduled_maintenances: list[ScheduledMaintenance]
