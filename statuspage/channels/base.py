"""What a channel is: the one seam between the outbox and the ways a notice reaches someone.

A channel module (`statuspage/channels/<name>.py`) defines `CHANNEL`, an instance of a
`Channel` subclass, which declares:
- its name (`Subscriber.mode`, `Delivery.channel`), its labels, and the subscribe page's and
  the Manage API's fields that carry its address;
- how an address is checked and stored (`check_address`), shown to staff (`masked`) and
  told by the API (`api_view`);
- how a subscriber confirms (`confirmation`): an email's link, a webhook's echo, a chat
  channel's welcome card answered 2xx, a code sent to the address and typed on a page;
- which notices it takes (`takes`) and the topics it starts with (`default_topics`);
- how a notice becomes its message (`prepare`: a pure function of the typed payload, the
  recipients' language and zone and their links), how it is sent (`transport`, `send`) and
  what a failure means (the exceptions below, and `quarantines`);
- its batch size, its ceilings (`ceilings`: at most so many messages a notice and an hour,
  the rest held for staff), its settings, and routes of its own (a provider's inbound or
  status webhook, answered by `Reply` actions the app carries out).

Delivery (`jobs.delivery`) keeps fan-out, leases, exactly-once and recording; everything
about a channel is asked of its `Channel`. Nothing here reads the database or the request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from statuspage.contract.payloads import NoticePayload, Snapshot
    from statuspage.services.errors import Message

# How a subscriber of a channel proves the address is theirs:
# - "link": a message with a signed link whose page's button confirms (email);
# - "code": a code sent to the address and typed on a page (the subscriber owns the address,
#   like a mailbox: a request for a known address does not say so);
# - "echo": the first request (a verification) is answered with its token (a webhook);
# - "welcome": the first message (a welcome card) is answered 2xx (a chat channel).
# "link" and "code" are owned addresses; "echo" and "welcome" endpoints (one subscriber per
# URL, a URL already subscribed is refused).
Confirmation = Literal["link", "code", "echo", "welcome"]
TOPICS = ("incidents", "maintenance")


# --- what a failure means ----------------------------------------------------------------


# On a message that may have reached its recipient before: a resend after a sender stopped
# with the request in flight (an email's header, a webhook's or card's request header).
POSSIBLY_DUPLICATED = "X-Statuspage-Possibly-Duplicated"


class TransientFailure(Exception):
    """Try again later: rate limited, a provider's error, or no answer at all (status None:
    the request may have been accepted before the connection broke)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Refused; sending it again would not help. Recorded failed and shown to staff."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RejectedRecipients(PermanentFailure):
    """The whole request was refused, nothing was sent, because of some of its recipients.

    `reasons` maps a recipient's index in the request to why it was refused. It is empty when
    the provider blamed the recipients without saying which: delivery then splits the request
    in halves to find them. Either way the others can be sent without risk of a duplicate.
    """

    def __init__(
        self, message: str, reasons: Mapping[int, str], *, status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.reasons = dict(reasons)


class AddressFailure(PermanentFailure):
    """The address itself cannot be reached (a number that is invalid, or a landline for
    SMS): failed for good, and the subscriber is quarantined (`Channel.quarantines`)."""


class AddressRefused(ValueError):
    """An address a channel does not take: `message` says why, fit to show to whoever gave
    it (a catalog template, worded in the reader's language by the page that shows it)."""

    def __init__(self, message: Message) -> None:
        self.message = message
        super().__init__(str(message))


# --- settings ---------------------------------------------------------------------------


def words(value: str | Sequence[Any]) -> list[str]:
    """A space- (or comma-) separated setting as a list."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass(frozen=True)
class Setting:
    """A channel's own setting: read from the environment variable `name` (empty or unset:
    `default`), parsed with `parse` when the app's settings load (`statuspage.config`)."""

    name: str
    default: Any
    parse: Callable[[str], Any] = str


# --- a message, from notice to request ----------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One delivery of a request: who it goes to, and the links that are theirs."""

    delivery_id: int
    address: str
    name: str = ""
    subscriber_id: int | None = None
    # Absolute; None for mail with no subscription behind it (staff alerts).
    manage_url: str | None = None
    unsubscribe_url: str | None = None
    # The subscriber's signing secret (a webhook signs its envelope with it).
    secret: str | None = None
    possibly_duplicated: bool = False
    # What a subscriber's confirmation confirms: its platforms' names, or its incident's title.
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sending:
    """What every recipient of one request shares: the notice, in one language and zone."""

    notice_id: int
    kind: str
    payload: NoticePayload  # links made absolute
    language: str
    timezone: str
    base_url: str
    provider_tz: str
    settings: Mapping[str, Any]
    now: datetime
    page_id: str = ""
    site_name: str = ""
    snapshot: Snapshot | None = None


class Outgoing(Protocol):
    """One request, made by `Channel.prepare`, sent by `Channel.send`."""

    def part(self, indexes: Sequence[int]) -> Outgoing:
        """The same request to some of its recipients (by index)."""
        ...


@dataclass(frozen=True)
class Prepared:
    """A request (`outgoing`) to the recipients `kept` (their indexes in the batch, in the
    request's order); the others `refused` (index -> why: their part could not be made)."""

    outgoing: Outgoing
    kept: list[int]
    refused: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    """What a provider said when it accepted a request: its message id per recipient (in
    the request's order), for its status callbacks to find the delivery by."""

    provider_ids: Sequence[str | None] = ()


@dataclass(frozen=True)
class Ceilings:
    """At most `per_notice` messages of one notice and `per_hour` in any hour (None: no
    ceiling); what is beyond is held, shown to staff, and sent only when they release it."""

    per_notice: int | None = None
    per_hour: int | None = None


# --- a channel's own routes (a provider's webhooks) ----------------------------------------


@dataclass(frozen=True)
class Inbound:
    """A request to one of a channel's routes: `url` is the address it was sent to as the
    site knows it (STATUSPAGE_URL, the path and the query), what a provider signs."""

    url: str
    form: Mapping[str, list[str]]
    headers: Mapping[str, str]
    # The language of the subscriber at an address of this channel, if there is one.
    language_of: Callable[[str], str | None] = lambda address: None


@dataclass(frozen=True)
class Stop:
    """The recipient at `address` asked the provider to stop (SMS STOP): nothing more is
    sent to it until it starts again."""

    address: str


@dataclass(frozen=True)
class Start:
    """The recipient at `address` asked to start again (SMS START)."""

    address: str


@dataclass(frozen=True)
class DeliveryStatus:
    """The provider's word on one message (`provider_id`): `status` (delivered, failed,
    undelivered...), `detail` (its error); `address_failed` when the address itself cannot
    be reached (the subscriber is quarantined)."""

    provider_id: str
    status: str
    detail: str = ""
    address_failed: bool = False


Action = Stop | Start | DeliveryStatus


@dataclass(frozen=True)
class Reply:
    """A route's answer, and what the app records for it (after checking nothing else)."""

    status: int = 200
    body: str = ""
    content_type: str = "text/plain; charset=utf-8"
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True)
class Route:
    """`/channels/<channel>/<path>`, answered by `handler(inbound, settings)`."""

    path: str
    handler: Callable[[Inbound, Mapping[str, Any]], Reply]
    methods: tuple[str, ...] = ("POST",)


# --- the channel ----------------------------------------------------------------------------


class Channel:
    """A way notices reach subscribers. Subclasses set the attributes and override the
    methods their channel needs; see the module's docstring."""

    name: str = ""
    # Where it comes in every list (the subscribe page, the staff pages).
    position: int = 100
    # Its name on the public pages ("Microsoft Teams channel"), on the subscribe page's
    # choice ("Webhook (a URL of your own system)"), and on staff pages ("Microsoft Teams").
    label: str = ""
    choice: str = ""
    staff_label: str = ""
    # The subscribe page's address field: its name, label and input type.
    form_field: str = ""
    field_label: str = ""
    input_type: str = "text"
    # The field a mistake in the address is reported on (services, the API), and the Manage
    # API's fields that carry the address (Statuspage's names), the first one chosen.
    address_field: str = "address"
    api_fields: tuple[str, ...] = ()
    # What the Manage API's create body must hold beyond its schema, by field (`x-rules`).
    api_rules: Mapping[str, str] = {}
    # Fields of Statuspage's create body this channel adds to the contract: name ->
    # (annotation, pydantic `Field`), e.g. an SMS channel's `phone_number`.
    api_schema: Mapping[str, tuple[Any, Any]] = {}
    confirmation: Confirmation = "link"
    # A secret address (a channel's URL lets anyone post to it): masked on every page and in
    # the API, never searched or sorted on.
    secret_address: bool = False
    # A signing secret is made for each subscriber (shown once; `Recipient.secret`).
    signs: bool = False
    batch_size: int = 1
    # One provider for every recipient: its 429 slows the whole pass (not one endpoint's).
    shared_provider: bool = False
    # `Sending.snapshot` is read for its messages (the public API's view of the subject).
    needs_snapshot: bool = False
    default_topics: tuple[str, ...] = TOPICS
    # Listed on the staff subscribers page (email's many addresses are not: the Manage API
    # lists them).
    staff_page: bool = True
    settings: tuple[Setting, ...] = ()
    routes: tuple[Route, ...] = ()

    @property
    def owned_address(self) -> bool:
        """Whether the address is proved by a secret sent to it (a mailbox, a phone): a
        request for a known address then says nothing of it, and adds what it asks for."""
        return self.confirmation in ("link", "code")

    @property
    def confirms_on_delivery(self) -> bool:
        """Whether the verification answered 2xx is the confirmation (a webhook's echo, a
        chat channel's welcome)."""
        return self.confirmation in ("echo", "welcome")

    def takes(self, kind: str) -> bool:
        """Whether notices of `kind` to subscribers (not direct ones) are sent this way."""
        return kind != "component_update"

    def check_address(self, value: str, settings: Mapping[str, Any]) -> str:
        """The address as stored, or `AddressRefused`."""
        raise NotImplementedError

    def address_from_api(self, fields: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
        """The address the Manage API's create body gives (Statuspage's field names)."""
        return str(fields.get(self.api_fields[0]) or "") if self.api_fields else ""

    def mailbox(self, address: str) -> str:
        """The key of the address's confirmation allowance (one per mailbox or phone)."""
        return address

    def masked(self, address: str) -> str:
        """The address as staff and the API see it."""
        return address

    def api_view(self, address: str) -> dict[str, str | None]:
        """Statuspage's subscriber fields for the address (`email`, `endpoint`,
        `phone_number`, ...); the others are null."""
        return {}

    def ceilings(self, settings: Mapping[str, Any]) -> Ceilings | None:
        return None

    def transport(self, settings: Mapping[str, Any], instance_path: str) -> Any:
        """What `send` sends through (a mailer, an HTTP sender, a provider's client)."""
        raise NotImplementedError

    def prepare(self, recipients: Sequence[Recipient], sending: Sending) -> Prepared:
        """The request of one batch; raises when the notice cannot be made at all."""
        raise NotImplementedError

    def send(self, transport: Any, outgoing: Outgoing) -> Receipt | None:
        """Send one request: returns when accepted, else raises `TransientFailure`,
        `RejectedRecipients`, `AddressFailure` or `PermanentFailure`. Anything else is a bug,
        with no knowing what was sent. Called from several threads at once."""
        raise NotImplementedError

    def quarantines(self, error: BaseException | None) -> bool:
        """Whether a delivery failed for good with `error` (None: given up after retries)
        pauses its subscriber until staff lift it."""
        return isinstance(error, AddressFailure)
