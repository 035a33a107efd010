"""What clients send: Statuspage's wrapped bodies and query strings, as pydantic models.

Bodies are strict (JSON `true` is not a string, `"1"` is not a number) and ignore fields
they do not declare: Statuspage clients send many this page has no use for, and an
unchanged client that knows only Statuspage's fields must work. Query strings are text, so
their models convert ("2" is 2).

This product's extras (justification, urgency, priority, case_number,
customer_case_numbers, etr, clear_etr, name_translations, body_translations) are top-level
fields, or sit inside Statuspage's `metadata` object under the one namespace
`network_status`; a top-level field wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from statuspage import channels
from statuspage.contract.responses import PlatformStatus

# Each id is looked up, so a list is bounded before any is read (`services.text.LIST_MAX`).
LIST_MAX = 100
METADATA_NAMESPACE = "network_status"
# The lengths the services hold titles and texts to (`services.incidents`, `.maintenance`).
TITLE_MAX = 200
TEXT_MAX = 20_000
CUSTOMER_CASES_MAX = 100

# --- text, as `services.text` takes it ---------------------------------------------------
# Regular-expression character classes that ECMA-262 (the document's dialect), Python and
# the validator's own engine read alike. tests/api/test_openapi.py holds them to the services'
# rule character by character. Unpaired surrogates are refused too, but not here: no
# engine's class can name them, and the validator refuses them as no string at all.
REFUSED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff"  # in any text
BREAKS = r"\n\r\x85\u2028\u2029"  # refused in a single line
# What str.strip() strips (str.isspace), spelt out: `\s` differs between the engines.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
LINE_PATTERN = f"^[^{REFUSED}{BREAKS}]*$"
TEXT_PATTERN = f"^[^{REFUSED}]*$"
# A line with something in it besides spaces (a title).
TITLE_PATTERN = f"^[^{REFUSED}{BREAKS}]*[^{REFUSED}{BREAKS}{SPACE}][^{REFUSED}{BREAKS}]*$"
# A support case number (`services.incidents.CASE_NUMBER_RE`), spaces around it trimmed.
CASE = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}"
CASE_PATTERN = f"^[{SPACE}]*(?:{CASE})?[{SPACE}]*$"
# "A-1, A-2; A-3": case numbers between commas, semicolons or spaces.
_SEPARATORS = f"[,;{SPACE}]"
CASES_PATTERN = (
    f"^{_SEPARATORS}*(?:{CASE}(?:{_SEPARATORS}+{CASE}){{0,{CUSTOMER_CASES_MAX - 1}}})?"
    f"{_SEPARATORS}*$"
)

# A channel's URL (`endpoints.check_url`): http(s), a host name or an IP literal, an optional
# port, no user name or password, no fragment, no spaces or control characters. That its
# host resolves to public addresses only is a rule beyond the schema.
URL_MAX = 254
_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
ENDPOINT_PATTERN = (
    rf"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::{_PORT})?(?:[/?][^#{SPACE}\x00-\x1f]*)?$"
)

Title = Annotated[
    str, Field(max_length=TITLE_MAX, pattern=TITLE_PATTERN, description="at most 200 characters")
]
Text = Annotated[
    str,
    Field(
        max_length=TEXT_MAX, pattern=TEXT_PATTERN, description="Markdown, at most 20,000 characters"
    ),
]
CaseNumber = Annotated[
    str,
    Field(
        pattern=CASE_PATTERN,
        description="letters, digits, '.', '_', '/' or '-', up to 64, starting with a letter "
        "or digit",
    ),
]
CaseNumbers = Annotated[
    list[CaseNumber], Field(max_length=CUSTOMER_CASES_MAX, description="at most 100")
]
CaseNumbersText = Annotated[
    str,
    Field(
        max_length=CUSTOMER_CASES_MAX * 66,
        pattern=CASES_PATTERN,
        description="at most 100, separated by commas, semicolons or spaces",
    ),
]
Priority = Literal["P1G", "P1", "P2", "P3", "P4"]
Impact = Literal["none", "minor", "major", "critical"]
# An incident's statuses, and a window's (`status: scheduled` creates one).
UpdateStatus = Literal[
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
    "scheduled",
    "in_progress",
    "verifying",
    "completed",
    "cancelled",
]
NewStatus = Literal["investigating", "identified", "monitoring", "resolved", "scheduled"]


def _text(value: Any) -> Any:
    """A date-time arrives as text: a number is not taken for a Unix time."""
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date-time")
    return value


def _whole(value: Any) -> Any:
    """JSON has one kind of number: 3.0 is the whole number 3 (JSON Schema's `integer` says
    so too), while 3.5, "3" and true stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ISO 8601 with an offset ("2026-11-22T08:00:00Z"); strict types elsewhere, parsed here.
Moment = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_text)]
ComponentId = Annotated[str | int, Field(description="a component (platform) id")]
ComponentIds = Annotated[
    list[ComponentId], Field(max_length=LIST_MAX, description="the affected components")
]


class Body(BaseModel):
    """A JSON request body's object: strict types, unknown fields ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """A query string: text converted to the declared types, unknown parameters ignored."""

    model_config = ConfigDict(extra="ignore")


# --- this product's extras ------------------------------------------------------------

# The languages staff-written text may carry versions in, beside the English original.
Language = Literal["es", "de"]
TitleVersions = Annotated[
    dict[Language, Annotated[str, Field(max_length=TITLE_MAX, pattern=LINE_PATTERN)] | None],
    Field(
        description="the title in the site's other languages ({language: title}); a blank or "
        "null title removes that language's version"
    ),
]
TextVersions = Annotated[
    dict[Language, Text | None],
    Field(
        description="the text in the site's other languages ({language: Markdown}); a blank "
        "or null text leaves that language out"
    ),
]


class Extras(Body):
    """This product's extras: at the top level of an incident, or in its metadata."""

    justification: Text | None = Field(
        None, description="extra, maintenance: `body` stands for it when absent"
    )
    urgency: Text | None = Field(
        None,
        description="extra: why unscheduled work inside 05:00-23:00 cannot wait; when neither "
        "it nor a justification is given, `body` stands for it",
    )
    priority: Priority | None = Field(
        None, description="extra: P1G, P1, P2, P3 (default) or P4; P1G needs a css or admin token"
    )
    case_number: CaseNumber | None = Field(
        None, description="extra: the support case number (a master case needs one)"
    )
    customer_case_numbers: CaseNumbers | CaseNumbersText | None = Field(
        None, description="extra: customers' own case numbers (staff-only)"
    )
    etr: Moment | None = Field(
        None,
        description="extra: estimated time of resolution, given instead of scheduled updates; "
        "the next update is due at it. It carries forward to the next updates until one "
        "gives another or `clear_etr`",
    )
    clear_etr: bool | None = Field(
        None, description="extra: true removes the standing ETR (the priority's clock resumes)"
    )
    name_translations: TitleVersions | None = Field(
        None, description="extra: the title in Spanish and German beside the English `name`"
    )
    body_translations: TextVersions | None = Field(
        None, description="extra: the update's text in Spanish and German beside `body`"
    )


class NetworkStatusExtras(Extras):
    """This product's extras inside Statuspage's `metadata`. A misspelt name is refused
    rather than silently dropped: the namespace is ours."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Metadata(Body):
    """Statuspage's metadata. Keys other than `network_status` are the client's own."""

    network_status: NetworkStatusExtras | None = None


class WithExtras(Extras):
    """Incident fields that carry the extras, at top level or in `metadata.network_status`."""

    metadata: Metadata | None = Field(
        None,
        description=f"Statuspage's metadata; this product's extras may sit under "
        f"`{METADATA_NAMESPACE}`",
    )

    @model_validator(mode="before")
    @classmethod
    def _lift_extras(cls, data: Any) -> Any:
        """Copy the extras from `metadata.network_status` where the top level has none, so
        each is checked and used under its own name."""
        if not isinstance(data, dict):
            return data
        metadata = data.get("metadata")
        ours = metadata.get(METADATA_NAMESPACE) if isinstance(metadata, dict) else None
        if not isinstance(ours, dict):
            return data
        lifted = dict(data)
        for name in Extras.model_fields:
            if data.get(name) is None and ours.get(name) is not None:
                lifted[name] = ours[name]
        return lifted


class IncidentFields(WithExtras):
    """Statuspage's incident object. `status: scheduled` with `scheduled_for` and
    `scheduled_until` makes it a maintenance window (and `body` then describes the work)."""

    name: Title | None = None
    status: UpdateStatus | None = Field(
        None,
        description="an incident: investigating, identified, monitoring, resolved, "
        "postmortem (after resolved); a window (w<n>): in_progress, verifying, completed or "
        "cancelled",
    )
    impact_override: Impact | None = Field(None, description="none, minor, major or critical")
    body: Text | None = Field(None, description="the update's message")
    components: dict[str, PlatformStatus] | None = Field(
        None, description="component id: its new status", max_length=LIST_MAX
    )
    component_ids: ComponentIds | None = None
    deliver_notifications: bool | None = None
    scheduled_for: Moment | None = Field(None, description="maintenance: its start")
    scheduled_until: Moment | None = Field(None, description="maintenance: its end")
    scheduled_auto_in_progress: bool | None = Field(
        None, description="windows here always start on time: false is refused for one"
    )
    scheduled_auto_completed: bool | None = Field(
        None, description="windows here always complete on time: false is refused for one"
    )
    scheduled_remind_prior: bool | None = None
    auto_transition_to_maintenance_state: bool | None = None
    auto_transition_to_operational_state: bool | None = None
    auto_transition_deliver_notifications_at_start: bool | None = None
    auto_transition_deliver_notifications_at_end: bool | None = None


class NewIncidentFields(IncidentFields):
    """Statuspage's incident object, to open an incident or schedule a window."""

    name: Title = Field(description="the incident's or the window's title")
    status: NewStatus | None = Field(
        None,
        description="investigating (default), identified, monitoring, resolved; scheduled "
        "for maintenance (a window)",
    )


class NewIncidentRequest(Body):
    """`{"incident": {...}}`: open an incident, or schedule a window (`status: scheduled`)."""

    incident: NewIncidentFields


class IncidentRequest(Body):
    """`{"incident": {...}}`: update an incident, or move, rename or advance a window."""

    incident: IncidentFields


class ComponentFields(Body):
    """Statuspage's component: its status; the name, description and position are admins'."""

    status: PlatformStatus | None = None
    name: Annotated[str, Field(max_length=120, pattern=TITLE_PATTERN)] | None = Field(
        None, description="admins: at most 120 characters"
    )
    description: Annotated[str, Field(max_length=2000, pattern=TEXT_PATTERN)] | None = Field(
        None, description="admins: at most 2,000 characters"
    )
    position: Annotated[int, Field(ge=0, le=10_000), BeforeValidator(_whole)] | None = Field(
        None, description="admins: the place in the list, 0 to 10000"
    )


class ComponentRequest(Body):
    """`{"component": {...}}`."""

    component: ComponentFields


class CorrectionExtras(Body):
    """A correction's extras: at the top level of an incident update, or in its metadata."""

    body_translations: TextVersions | None = Field(
        None, description="extra: the corrected text in Spanish and German beside `body`"
    )


class CorrectionNetworkStatus(CorrectionExtras):
    model_config = ConfigDict(strict=True, extra="forbid")


class CorrectionMetadata(Body):
    network_status: CorrectionNetworkStatus | None = None


class IncidentUpdateFields(CorrectionExtras):
    """Statuspage's incident update, corrected: its text only (`body`, and this product's
    versions in the other languages). Statuspage's other fields (display_at, twitter) are
    accepted and left as they are."""

    body: Text | None = Field(None, description="the corrected text; left out, it stays")
    deliver_notifications: bool | None = Field(
        None,
        description="true sends the corrected update to the incident's subscribers again; "
        "false or left out tells nobody",
    )
    metadata: CorrectionMetadata | None = Field(
        None,
        description=f"Statuspage's metadata; the extras may sit under `{METADATA_NAMESPACE}`",
    )

    @model_validator(mode="before")
    @classmethod
    def _lift_extras(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        metadata = data.get("metadata")
        ours = metadata.get(METADATA_NAMESPACE) if isinstance(metadata, dict) else None
        if not isinstance(ours, dict):
            return data
        lifted = dict(data)
        for name in CorrectionExtras.model_fields:
            if data.get(name) is None and ours.get(name) is not None:
                lifted[name] = ours[name]
        return lifted


class IncidentUpdateRequest(Body):
    """`{"incident_update": {...}}`: correct a posted update's text."""

    incident_update: IncidentUpdateFields


class _SubscriberFields(Body):
    """A subscriber of one channel: `type` names it (by default the channel whose address
    field is given: `endpoint` a webhook, else email), and its address is in that channel's
    field. A channel may take more of Statuspage's fields (`Channel.api_schema`)."""

    email: str | None = Field(
        None, description="required for an email subscriber (a webhook's contact is not kept)"
    )
    endpoint: Annotated[str, Field(max_length=URL_MAX, pattern=ENDPOINT_PATTERN)] | None = Field(
        None,
        description="a channel's https URL (no user name, password or fragment); Statuspage's "
        "`email` contact is not kept",
    )
    type: Literal[channels.names()] | None = Field(  # type: ignore[valid-type]
        None,
        description="the channel: Statuspage's email and webhook, and this product's teams and "
        "slack (a channel's incoming webhook as `endpoint`), and any other channel offered; by "
        "default the channel of the address field given",
    )
    component_ids: Annotated[list[ComponentId], Field(min_length=1, max_length=LIST_MAX)] | None = (
        Field(None, description="the platforms; every platform when left out")
    )
    skip_confirmation_notification: bool | None = Field(
        None,
        description="true: a css or admin token vouches for the address, which is confirmed "
        "at once with no message; otherwise the opt-in (a mail, a code) goes out",
    )


# Statuspage's address fields refused (null or left out) unless a channel takes them.
NOT_OFFERED = {"phone_number": (None, Field(None, description="not offered: null or left out"))}
# Each channel's own fields of Statuspage's subscriber (an SMS channel's `phone_number`...).
# The checker sees the common fields; the channels' own are added when the app loads.
if TYPE_CHECKING:
    SubscriberFields = _SubscriberFields
else:
    SubscriberFields = create_model(
        "SubscriberFields",
        __base__=_SubscriberFields,
        __doc__=_SubscriberFields.__doc__,
        **{
            **NOT_OFFERED,
            **{
                name: spec
                for channel in channels.all_channels()
                for name, spec in channel.api_schema.items()
            },
        },
    )


class SubscriberRequest(Body):
    """`{"subscriber": {...}}`."""

    subscriber: SubscriberFields


# --- query strings ----------------------------------------------------------------------


class IncidentListQuery(Query):
    q: str = Field("", description="words of the title or a case number")
    limit: int = Field(100, ge=1, le=100, description="at most 100 (the default)")
    page: int = Field(1, ge=1, le=100_000, description="the page, from 1")


# Statuspage's subscriber types and this product's channels: a type listed that no channel
# is (integration_partner) lists nobody.
LIST_TYPES = tuple(
    dict.fromkeys(
        ("email", "sms", "webhook", "slack", "teams", "integration_partner", *channels.names())
    )
)


class SubscriberListQuery(Query):
    """Statuspage's list: `page` counts from 0 and skips page * limit subscribers."""

    q: str = Field("", description="part of the address")
    type: Literal[LIST_TYPES] = Field(  # type: ignore[valid-type]
        "email", description="email (the default); a type no channel here is lists nobody"
    )
    state: Literal["active", "unconfirmed", "quarantined", "unsubscribed", "all"] = Field(
        "active", description="active (the default)"
    )
    limit: int = Field(100, ge=1, le=100, description="at most 100 (the default)")
    per_page: int | None = Field(None, ge=1, le=100, description="same as limit")
    page: int = Field(
        0, ge=0, le=100_000, description="the page offset, from 0: skips page * limit"
    )
    sort_field: Literal["primary", "created_at", "quarantined_at", "relevance"] = Field(
        "created_at",
        description="primary (the address) or created_at (the default); quarantined_at and "
        "relevance sort as created_at",
    )
    sort_direction: Literal["asc", "desc"] = "asc"

    @property
    def size(self) -> int:
        return self.per_page if self.per_page is not None else self.limit


class UnsubscribeQuery(Query):
    skip_unsubscription_notification: str | None = Field(
        None, description="accepted; no mail is sent on unsubscribing here"
    )
