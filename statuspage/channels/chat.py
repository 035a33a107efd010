"""Chat channels (Microsoft Teams, Slack): a card posted to a channel's incoming webhook.

What the cards of both tools say (`summary`) and how a chat channel is subscribed, checked,
confirmed and sent to (`ChatChannel`); `channels.teams` and `channels.slack` lay the summary
out as each tool's message. Pure functions of a notice's typed payload (the one the email is
made from, links made absolute) and of the reader's language: no database. Delivery posts
the message to the channel's incoming webhook through the same outbox as mail and webhooks,
with the same SSRF defences (`statuspage.endpoints`).

What a card says, for incidents and every maintenance notice the email has: the heading of
the notice and its title, the status, the priority (and the master case with its support
case number), the affected platforms, the times in the channel's zone first, then MT and UTC, the
latest update's text or the window's description, a link to the incident or maintenance
page, and a link to manage (or leave) the subscription. A channel's welcome card (its
confirmation: an incoming webhook cannot echo a token, so a welcome card answered 2xx
confirms it) says what the channel will receive.

Text from staff (titles, update text, platform names) can never break a card or ping a
channel:
- Markdown is rendered and sanitised, then reduced to plain text (`markdown.plain`): no HTML
  or script survives; control characters, bidirectional overrides and zero-width characters
  are removed; one-line fields lose their line breaks; everything is cut to the tool's limits;
- each tool's module escapes what its format would read (Slack's mrkdwn, Teams' templates).

A channel is held to its service's incoming-webhook hosts (a setting per tool): a welcome
card answered 2xx confirms a channel, so anywhere else anyone could make this service post to
a third party's endpoint. A URL of another tool's hosts is refused naming the right choice.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import nh3

from statuspage import channels, endpoints, moments
from statuspage.channels.base import (
    POSSIBLY_DUPLICATED,
    Channel,
    Prepared,
    Receipt,
    Recipient,
    Sending,
)
from statuspage.channels.webhook import USER_AGENT
from statuspage.contract import payloads
from statuspage.i18n import N_, ORIGINAL_NOTE, version_of
from statuspage.i18n import language as in_language
from statuspage.renderers import markdown
from statuspage.renderers.wording import PHRASES, status_word

# The longest text a card carries (a tool cuts it further to its own limits).
TEXT_MAX = 5000

# Control characters (but tab and newline), DEL and C1, line/paragraph separators, zero-width
# characters, bidirectional overrides and isolates, lone surrogates (not encodable) and
# specials and non-characters at the end of the BMP.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\uffff]"
)
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value: str | None, limit: int) -> str:
    """Staff Markdown as plain text: sanitised, visible characters and line breaks only."""
    # Invisible characters go first: a lone surrogate cannot even be rendered.
    text = markdown.plain(_INVISIBLE.sub("", value or ""))
    # Markdown keeps raw HTML as text; a card shows no HTML, so tags (and scripts) go.
    text = html.unescape(nh3.clean(text, tags=set())) if "<" in text else text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.replace("\t", " "))
    text = _BLANK_LINES.sub("\n\n", "\n".join(line.rstrip() for line in text.split("\n")))
    return cut(text.strip(), limit)


def clean_line(value: str | None, limit: int) -> str:
    """A one-line field (a title, a name): no line breaks, no invisible characters."""
    text = _INVISIBLE.sub("", _SPACES.sub(" ", str(value or "")))
    return cut(text.strip(), limit)


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


@dataclass(frozen=True)
class Links:
    """Absolute links of one card: the page of the incident or window, and the subscriber's
    manage page (where the channel is unsubscribed too)."""

    details: str
    manage: str


@dataclass(frozen=True)
class Summary:
    """What a card says, in the reader's language, as plain text (not yet escaped)."""

    heading: str
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    # (label or "", text) paragraphs: the update's text, the window's description...
    sections: list[tuple[str, str]] = field(default_factory=list)
    details_label: str = ""
    manage_label: str = ""
    attention: bool = False


@dataclass(frozen=True)
class Times:
    """How a card writes its moments: the channel's zone first (the one it was saved with),
    then MT and UTC (`statuspage.moments`); a window one line a zone."""

    zones: moments.Zones
    language: str

    def when(self, value: str) -> str:
        return moments.written(value, self.zones, self.language)

    def span(self, start: str, end: str) -> str:
        return "\n".join(moments.span_texts(start, end, self.zones, self.language))


def summary(
    payload: payloads.NoticePayload,
    *,
    language: str,
    provider_tz: str,
    reader_tz: str | None = None,
    topics: Sequence[str] = (),
    site_name: str = "",
) -> Summary:
    """The card's content for a notice `payload` (`kind` says which), or for the welcome card
    (kind `webhook_verification`; `topics` names what the channel will receive). Times lead
    with `reader_tz` (the channel's zone) where it is given."""
    kind = str(payload["kind"])
    lang = language if language in ("en", "es", "de") else "en"
    times = Times(moments.Zones(provider_tz, reader_tz, reader_first=True), lang)
    with in_language(lang) as _:
        labels = {
            "details": _("Details"),
            "manage": _("Manage your subscription"),
        }
        if payload["kind"] == payloads.VERIFICATION_KIND:
            names = ", ".join(clean_line(t, 200) for t in topics) or "-"
            return Summary(
                heading=_("Channel subscribed"),
                title=clean_line(site_name, 200),
                sections=[
                    (
                        "",
                        _(
                            "This channel will receive the notices of %(topics)s: incidents "
                            "and maintenance, as they are published.",
                            topics=names,
                        ),
                    )
                ],
                details_label=labels["details"],
                manage_label=labels["manage"],
            )
        if kind not in PHRASES:
            raise ValueError(f"no card for notice kind {kind!r}")
        heading = _(PHRASES[kind])
        if payloads.is_incident(payload):
            return _incident(
                cast(payloads.IncidentPayload, payload), heading, labels, lang, times, _
            )
        if payloads.is_window(payload):
            return _maintenance(
                cast(payloads.WindowPayload, payload), heading, labels, lang, times, _
            )
        raise ValueError(f"no card for notice kind {kind!r}")


def _incident(
    payload: payloads.IncidentPayload,
    heading: str,
    labels: Mapping[str, str],
    lang: str,
    times: Times,
    _: Any,
) -> Summary:
    incident = payload["incident"]
    update = payload["update"]
    facts = [(_("Status"), status_word(update["status"], lang))]
    priority = clean_line(incident["priority"], 20)
    if incident["is_master_case"]:
        case = clean_line(incident["case_number"], 60)
        master = _("Master case P1G")
        priority = f"{master} · {_('Case number')} {case}" if case else master
    if priority:
        facts.append((_("Priority"), priority))
    facts.append((_("Date and time"), times.when(update["at"])))
    if update["etr"]:
        facts.append((_("Estimated time of resolution"), times.when(update["etr"])))
    platforms = [clean_line(p, 120) for p in payload["platforms"]]
    if platforms:
        facts.append((_("Platforms affected"), ", ".join(platforms)))
    # Staff-written text in the reader's language where staff gave it, else the original
    # marked as such.
    title, title_original = version_of(incident["title"], incident.get("title_translations"), lang)
    text, text_original = version_of(update["body"], update.get("body_translations"), lang)
    if title_original:
        title = f"{title} {_(ORIGINAL_NOTE)}"
    body = clean_text(text, TEXT_MAX)
    if body and text_original:
        body = f"{_(ORIGINAL_NOTE)}\n{body}"
    if payload.get("correction"):
        heading = f"{_('Correction')}: {heading}"
    return Summary(
        heading=heading,
        title=clean_line(title, 300),
        facts=facts,
        sections=[("", body)] if body else [],
        details_label=labels["details"],
        manage_label=labels["manage"],
        attention=payload["kind"] != "incident_resolved",
    )


def _maintenance(
    payload: payloads.WindowPayload,
    heading: str,
    labels: Mapping[str, str],
    lang: str,
    times: Times,
    _: Any,
) -> Summary:
    window = payload["window"]
    kind = payload["kind"]
    facts = [(_("Status"), heading)]
    if kind == "maintenance_completion":
        facts += [
            (_("Started"), times.when(window["starts_at"])),
            (_("Completed"), times.when(window["ends_at"])),
        ]
    else:
        facts.append((_("Date and time"), times.span(window["starts_at"], window["ends_at"])))
    previous = window.get("previous_starts_at"), window.get("previous_ends_at")
    if previous[0] and previous[1]:
        facts.append((_("Previously"), times.span(previous[0], previous[1])))
    platforms = [clean_line(p, 120) for p in window["platforms"]]
    facts.append((_("Platforms affected"), ", ".join(platforms) or "-"))
    if window.get("removed_platforms"):
        removed = ", ".join(clean_line(p, 120) for p in window.get("removed_platforms", []))
        facts.append((_("No longer affected"), removed))
    sections: list[tuple[str, str]] = []
    if kind == "maintenance_release_notes" and window["release_notes"]:
        sections.append(
            (_("Added features and functionality"), clean_text(window["release_notes"], 2500))
        )
    for value, label in (
        (window["description"], _("Description of the work")),
        (window["justification"], _("Justification")),
        (window["urgency"], _("Why it cannot wait")),
        (window["note"], _("Note")),
    ):
        text = clean_text(value, 2500)
        if text:
            sections.append((label, text))
    if window["impact"] == "none":
        sections.append(("", _("No customer impact is expected.")))
    return Summary(
        heading=heading,
        title=clean_line(window["title"], 300),
        facts=facts,
        sections=sections,
        details_label=labels["details"],
        manage_label=labels["manage"],
    )


# --- the channel ----------------------------------------------------------------------


Message = Callable[[Summary, Links], dict[str, Any]]


class ChatChannel(Channel):
    """A chat tool's channel, posted cards through its incoming webhook: held to the tool's
    hosts (`hosts_setting`), confirmed by its welcome card answered 2xx, quarantined when a
    post fails for good. A subclass names the tool and lays the card out (`message`)."""

    confirmation = "welcome"
    secret_address = True
    signs = True  # every URL subscriber gets a secret; an incoming webhook checks none
    address_field = "endpoint"
    api_fields = ("endpoint",)
    input_type = "url"
    # The operator's setting of the tool's hosts, and the tool's name in messages.
    hosts_setting = ""
    service = ""
    # "this is a Slack incoming webhook: choose “Slack channel”": said when a URL on this
    # tool's hosts is given as another tool's channel.
    wrong_choice = ""

    def message(self, content: Summary, links: Links) -> dict[str, Any]:
        raise NotImplementedError

    def build(
        self,
        payload: payloads.NoticePayload,
        *,
        language: str,
        provider_tz: str,
        links: Links,
        reader_tz: str | None = None,
        topics: Sequence[str] = (),
        site_name: str = "",
    ) -> dict[str, Any]:
        """The tool's message for a notice `payload` (links made absolute), or the welcome
        card (`topics` naming what the channel will receive); times lead with `reader_tz`."""
        content = summary(
            payload,
            language=language,
            provider_tz=provider_tz,
            reader_tz=reader_tz,
            topics=topics,
            site_name=site_name,
        )
        return self.message(content, links)

    def host_patterns(self, settings: Mapping[str, Any]) -> tuple[str, ...]:
        default = next(s.default for s in self.settings if s.name == self.hosts_setting)
        return endpoints.host_list(settings.get(self.hosts_setting, default))

    def hosts(self, settings: Mapping[str, Any]) -> endpoints.HostRule:
        """Where its URLs may be: on its tool's hosts. A URL on another tool's hosts is
        refused naming that tool's choice, instead of a channel never confirmed."""
        mine = self.host_patterns(settings)

        def refusal(host: str) -> endpoints.UnsafeEndpoint | None:
            if endpoints.on_hosts(host, mine):
                return None
            for other in channels.all_channels():
                if (
                    isinstance(other, ChatChannel)
                    and other is not self
                    and endpoints.on_hosts(host, other.host_patterns(settings))
                ):
                    return endpoints.UnsafeEndpoint(other.wrong_choice)
            return endpoints.UnsafeEndpoint(
                N_("a %(service)s channel's URL must be on %(hosts)s"),
                service=self.service,
                hosts=", ".join(mine) or "-",
            )

        return refusal

    def check_address(self, value: str, settings: Mapping[str, Any]) -> str:
        return endpoints.check_url(
            value, endpoints.Policy.from_config(settings), hosts=self.hosts(settings)
        ).url

    def masked(self, address: str) -> str:
        return endpoints.masked_url(address)

    def api_view(self, address: str) -> dict[str, str | None]:
        return {"endpoint": endpoints.masked_url(address)}

    def takes(self, kind: str) -> bool:
        # A card per platform status flip would be noise: the channel already gets the
        # incident's or the window's card.
        return kind in PHRASES and kind != "p1g_overdue"

    def transport(self, settings: Mapping[str, Any], instance_path: str) -> Any:
        return endpoints.EndpointSender.from_config(settings)

    def prepare(self, recipients: Sequence[Recipient], sending: Sending) -> Prepared:
        """The card of one delivery, as a request to the channel's incoming webhook (no
        signature: an incoming webhook checks none)."""
        (r,) = recipients
        if r.manage_url is None:
            raise ValueError("a channel's delivery needs its subscriber's links")
        payload = sending.payload
        details = payloads.page_url(payload) or sending.base_url + "/"
        links = Links(details=details, manage=r.manage_url)
        message = self.build(
            payload,
            language=sending.language,
            provider_tz=sending.provider_tz,
            reader_tz=sending.timezone,
            links=links,
            topics=r.topics,
            site_name=sending.site_name,
        )
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        headers = {"User-Agent": USER_AGENT, "X-Statuspage-Delivery": str(r.delivery_id)}
        if r.possibly_duplicated:
            headers[POSSIBLY_DUPLICATED] = "true"
        request = endpoints.EndpointRequest(
            url=r.address, body=body, headers=headers, hosts=self.hosts(sending.settings)
        )
        return Prepared(request, [0])

    def send(self, transport: Any, outgoing: Any) -> Receipt | None:
        transport.send(outgoing)
        return None

    def quarantines(self, error: BaseException | None) -> bool:
        return True
