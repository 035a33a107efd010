"""SMS: a text message to a mobile number, through Twilio's Messages API.

- Numbers are E.164, checked with `phonenumbers` (a national number is read in
  `SMS_DEFAULT_COUNTRY`); a landline is refused when it can be told from the number.
- Opt-in: a code sent by SMS and typed on the page (`confirmation = "code"`, with the page's
  link in the text for whoever did not keep the page open); a known number is not revealed.
- What a number receives is a choice: master cases and incidents of its platforms by default
  (`default_topics`); maintenance only if asked, and then only its start and completion
  (`takes`), never the announcements and reminders.
- The text is in the subscriber's language, within 2 segments: GSM-7 where the text can be
  written in it (letters outside it lose their accents, typographic punctuation becomes
  plain), UCS-2 otherwise, counted as the network counts them (`segments`). It carries the
  page's link and a one-click stop link (the subscriber's unsubscribe link), the stop link
  giving way to "reply STOP" when both do not fit.
- STOP, START and HELP are honoured through Twilio's inbound-message webhook
  (`/channels/sms/inbound`), and each message's fate through its status callback
  (`/channels/sms/status`); both are refused unless `X-Twilio-Signature` is Twilio's
  (`twilio.request_validator`, keyed by the account's auth token).
- A number Twilio refuses as invalid or as a landline (21211, 21614), or a message it reports
  undeliverable to such a number (30005, 30006), fails for good and quarantines the number.
  A 429 or 5xx is retried; no answer at all is retried and marked possibly duplicated.
- At most `SMS_MAX_PER_NOTICE` messages a notice and `SMS_MAX_PER_HOUR` an hour: the rest are
  held for staff (`Channel.ceilings`).

Without an account (`TWILIO_ACCOUNT_SID` empty) messages are written to files in the
instance folder (`sms/`), as mail is, so the product works offline.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast
from urllib.parse import urlencode, urlsplit

import phonenumbers
from flask_babel import lazy_gettext as _l
from pydantic import Field
from twilio.request_validator import RequestValidator

from statuspage import moments
from statuspage.channels.base import (
    POSSIBLY_DUPLICATED,
    AddressFailure,
    AddressRefused,
    Ceilings,
    Channel,
    DeliveryStatus,
    Inbound,
    PermanentFailure,
    Prepared,
    Receipt,
    Recipient,
    Reply,
    Route,
    Sending,
    Setting,
    Start,
    Stop,
    TransientFailure,
)
from statuspage.channels.chat import clean_line
from statuspage.contract import payloads
from statuspage.i18n import N_, version_of
from statuspage.i18n import language as in_language
from statuspage.renderers.wording import PHRASES, status_word
from statuspage.services.errors import Message

SEGMENTS_MAX = 2
TIMEOUT = 10.0
API_BASE = "https://api.twilio.com"
# The maintenance notices a number takes, when it asked for maintenance at all.
MAINTENANCE_KINDS = ("maintenance_start", "maintenance_completion")
# Twilio's error codes that say the number itself cannot take SMS: invalid 'To' number, not a
# mobile number (a landline); by status callback, an unknown destination, a landline or
# unreachable carrier.
ADDRESS_ERRORS = {21211, 21614, 30005, 30006}
# The words Twilio's opt-out handling knows (its defaults), besides its own OptOutType.
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
START_WORDS = {"START", "YES", "UNSTOP"}
HELP_WORDS = {"HELP", "INFO"}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# --- GSM 03.38: what a message in GSM-7 can hold, and how it is counted ----------------------

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "\f^{}\\[~]|€"  # each sent as two septets (an escape and the character)
_GSM = set(GSM_BASIC) | set(GSM_EXTENSION)
# Typography GSM-7 does not have, written as it has it.
_PLAIN = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2026": "...",
    "\u00b7": "-",
    "\u2022": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
}


def gsm7(text: str) -> str | None:
    """`text` as GSM-7 can write it (accents it lacks dropped, typography made plain), or
    None when a character has no GSM-7 form (an emoji, a script GSM-7 lacks)."""
    out: list[str] = []
    for char in text:
        if char in _GSM:
            out.append(char)
        elif char in _PLAIN:
            out.append(_PLAIN[char])
        else:
            bare = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            if not bare or any(c not in _GSM for c in bare):
                return None
            out.append(bare)
    return "".join(out)


def _parts(units: Iterable[int], size: int) -> int:
    """How many parts of `size` units hold these characters (one never split across two)."""
    count, used = 1, 0
    for unit in units:
        if used + unit > size:
            count, used = count + 1, 0
        used += unit
    return count


def segments(text: str) -> tuple[str, int]:
    """The encoding a network sends `text` in and how many segments it takes: GSM-7 (160
    septets alone, 153 a part when split; an extension character is two septets) when every
    character is GSM-7, else UCS-2 (70 UTF-16 units alone, 67 a part; a character outside
    the BMP is two)."""
    if all(c in _GSM for c in text):
        septets = [2 if c in GSM_EXTENSION else 1 for c in text]
        return "GSM-7", 1 if sum(septets) <= 160 else _parts(septets, 153)
    units = [len(c.encode("utf-16-le")) // 2 for c in text]
    return "UCS-2", 1 if sum(units) <= 70 else _parts(units, 67)


def sendable(text: str) -> str:
    """The text as sent: in GSM-7 where it can be written in it, else as it is (UCS-2)."""
    return gsm7(text) or text


def fits(text: str) -> bool:
    return segments(sendable(text))[1] <= SEGMENTS_MAX


# --- the text ---------------------------------------------------------------------------------


def _fitted(variants: Sequence[Any], title: str) -> str:
    """The text in 2 segments: the first (variant, shortest title) of `_PREFERENCE` that
    fits, each with the longest cut of the title that fits; variants are functions of the
    title, richest first. The stop link is kept before the whole title, the whole title
    before the zones beyond the reader's."""
    for index, floor in _PREFERENCE:
        variant = variants[index]
        low, high, best = min(floor or len(title), len(title)), len(title), None
        while low <= high:  # the longest cut of the title that fits
            mid = (low + high) // 2
            if fits(variant(_cut(title, mid))):
                best, low = mid, mid + 1
            else:
                high = mid - 1
        if best is not None:
            return sendable(variant(_cut(title, best)))
    return sendable(variants[-1](""))


# (variant, the shortest the title may be cut to: 0 the whole title), in order of preference.
_PREFERENCE = (
    (0, 0),
    (1, 0),
    (0, 60),
    (1, 60),
    (2, 0),
    (2, 60),
    (1, 20),
    (2, 20),
    (3, 20),
    (4, 20),
    (4, 1),
)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 1)].rstrip() + "..."


def verification_text(payload: payloads.VerificationPayload, site: str, language: str) -> str:
    """The opt-in code, and the page to type it on."""
    with in_language(language) as _:
        return sendable(
            _(
                "%(site)s: your code is %(code)s. Type it on the page you came from, or at "
                "%(link)s, within 30 minutes. If you did not ask for it, ignore this message.",
                site=site,
                code=payload.get("code", ""),
                link=payload.get("verify_url", ""),
            )
        )


def notice_text(
    payload: payloads.NoticePayload,
    *,
    language: str,
    reader_tz: str,
    provider_tz: str,
    site: str,
    stop_url: str,
) -> str:
    """An incident's or a maintenance window's notice in at most 2 segments: the site, what
    happened, the title, the status, the time (the reader's zone first, then MT and UTC),
    the page's link and the stop link."""
    kind = str(payload["kind"])
    lang = language if language in ("en", "es", "de") else "en"
    with in_language(lang) as _:
        heading = _(PHRASES[kind])
        if payloads.is_incident(payload):
            incident = cast(payloads.IncidentPayload, payload)
            subject = incident["incident"]
            if subject["is_master_case"]:
                heading = f"{heading} - {_('Master case P1G')}"
            status = status_word(incident["update"]["status"], lang)
            at = incident["update"]["at"]
            link = subject["url"]
            # The title in the reader's language where staff gave one (no room to mark the
            # original in two segments).
            title = clean_line(
                version_of(subject["title"], subject.get("title_translations"), lang)[0], 300
            )
        else:
            window = cast(payloads.WindowPayload, payload)["window"]
            status = ""
            at = window["ends_at"] if kind == "maintenance_completion" else window["starts_at"]
            link = window["url"]
            title = clean_line(window["title"], 300)
        zones = moments.Zones(provider_tz, reader_tz, reader_first=True)
        # As every renderer writes a moment, without the weekday and the year for room.
        when_all = moments.written(at, zones, lang, year=False, weekday=False, separator=" / ")
        when_mine = moments.written(
            at, moments.Zones(reader_tz, utc=False), lang, year=False, weekday=False
        )
        details = _("Details: %(link)s", link=link)
        stop = _("Stop: %(link)s", link=stop_url)
        reply = _("Reply STOP to stop.")

        def text(title: str, when: str, last: str, prefix: str = f"{site}:") -> str:
            said = (
                _(
                    "%(heading)s: %(title)s (%(status)s).",
                    heading=heading,
                    title=title,
                    status=status,
                )
                if status
                else _("%(heading)s: %(title)s.", heading=heading, title=title)
            )
            return " ".join(p for p in (prefix, said, when, details, last) if p)

        # Richest first: the stop link, every zone; the reader's zone alone; "reply STOP"
        # instead of the link; no time; no site and no stop (a UCS-2 text, 134 units).
        variants = [
            lambda t: text(t, when_all + ".", stop),
            lambda t: text(t, when_mine + ".", stop),
            lambda t: text(t, when_mine + ".", reply),
            lambda t: text(t, "", reply),
            lambda t: text(t, "", "", prefix=""),
        ]
        return _fitted(variants, title)


# --- numbers -------------------------------------------------------------------------------


def _number(value: str, country: str) -> phonenumbers.PhoneNumber:
    try:
        found = phonenumbers.parse(value or "", (country or "US").upper())
    except phonenumbers.NumberParseException:
        raise AddressRefused(
            Message(N_("is not a phone number; give it with + and the country code"))
        ) from None
    if not phonenumbers.is_valid_number(found):
        raise AddressRefused(Message(N_("is not a valid phone number")))
    if phonenumbers.number_type(found) in (
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    ):
        raise AddressRefused(Message(N_("is not a mobile number: a landline cannot take SMS")))
    return found


def e164(value: str, country: str = "US") -> str:
    """A number as stored and sent: E.164 (+ and digits)."""
    return phonenumbers.format_number(_number(value, country), phonenumbers.PhoneNumberFormat.E164)


# --- sending through Twilio ---------------------------------------------------------------------


@dataclass(frozen=True)
class SmsRequest:
    """One message to one number."""

    to: str
    body: str
    delivery_id: int
    possibly_duplicated: bool = False
    status_callback: str = ""

    def part(self, indexes: Iterable[int]) -> SmsRequest:
        return self


@dataclass(frozen=True)
class Twilio:
    """Twilio's Messages API (`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, form
    encoded, HTTP Basic with the account's SID and auth token); `sender` is a number (From)
    or a Messaging Service (`MG...`)."""

    account: str
    token: str
    sender: str
    base: str = API_BASE
    timeout: float = TIMEOUT

    def send(self, message: SmsRequest) -> str:
        """The message's SID once Twilio accepted it."""
        fields = {"To": message.to, "Body": message.body}
        fields["MessagingServiceSid" if self.sender.startswith("MG") else "From"] = self.sender
        if message.status_callback:
            fields["StatusCallback"] = message.status_callback
        target = urlsplit(self.base.rstrip("/"))
        path = f"{target.path}/2010-04-01/Accounts/{self.account}/Messages.json"
        credentials = base64.b64encode(f"{self.account}:{self.token}".encode()).decode()
        headers = {
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "statuspage-sms",
            "X-Statuspage-Delivery": str(message.delivery_id),
        }
        if message.possibly_duplicated:
            headers[POSSIBLY_DUPLICATED] = "true"
        kind = (
            http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
        )
        conn = kind(target.netloc, timeout=self.timeout)
        try:
            conn.request("POST", path, body=urlencode(fields), headers=headers)
            response = conn.getresponse()
            raw = response.read(64 * 1024)
            status, retry_after = response.status, response.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            raise TransientFailure(f"no answer: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {}
        if 200 <= status < 300 and answer.get("sid"):
            return str(answer["sid"])
        # Twilio's message names the number: staff see numbers masked, so it is masked here.
        text = str(answer.get("message", raw[:200])).replace(message.to, CHANNEL.masked(message.to))
        said = f"HTTP {status}: {answer.get('code', '')} {text}"
        if status == 429 or status >= 500:
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise TransientFailure(said, status=status, retry_after=wait)
        if answer.get("code") in ADDRESS_ERRORS:
            raise AddressFailure(said, status=status)
        raise PermanentFailure(said, status=status)


@dataclass(frozen=True)
class SmsFiles:
    """No account: each message is a JSON file in `folder` (the instance's `sms/`)."""

    folder: str

    def send(self, message: SmsRequest) -> str:
        os.makedirs(self.folder, exist_ok=True)
        sid = f"file-{uuid.uuid4().hex}"
        with open(os.path.join(self.folder, f"{sid}.json"), "w", encoding="utf-8") as out:
            json.dump({"to": message.to, "body": message.body, "sid": sid}, out)
        return sid


# --- Twilio's webhooks ------------------------------------------------------------------------


def _signed(inbound: Inbound, settings: Mapping[str, Any]) -> bool:
    token = str(settings.get("TWILIO_AUTH_TOKEN") or "")
    given = inbound.headers.get("X-Twilio-Signature", "")
    if not token or not given:
        return False
    params = {key: values[0] for key, values in inbound.form.items() if values}
    return bool(RequestValidator(token).validate(inbound.url, params, given))


def _first(inbound: Inbound, key: str) -> str:
    return (inbound.form.get(key) or [""])[0]


def _twiml(text: str = "") -> str:
    if not text:
        return EMPTY_TWIML
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escaped}</Message></Response>'
    )


def inbound_message(inbound: Inbound, settings: Mapping[str, Any]) -> Reply:
    """A message a number sent us: STOP stops it, START starts it again, HELP is answered."""
    if not _signed(inbound, settings):
        return Reply(status=403, body="the signature is not Twilio's")
    try:
        sender = e164(_first(inbound, "From"), str(settings.get("SMS_DEFAULT_COUNTRY") or "US"))
    except AddressRefused:
        return Reply(body=EMPTY_TWIML, content_type="text/xml")
    said = (_first(inbound, "OptOutType") or _first(inbound, "Body")).strip().upper()
    word = re.sub(r"[^A-Z]", "", said.split()[0]) if said.split() else ""
    if word in STOP_WORDS:
        return Reply(body=EMPTY_TWIML, content_type="text/xml", actions=(Stop(sender),))
    if word in START_WORDS:
        return Reply(body=EMPTY_TWIML, content_type="text/xml", actions=(Start(sender),))
    if word in HELP_WORDS:
        language = inbound.language_of(sender) or "en"
        with in_language(language) as _:
            text = _(
                "%(site)s: network status notices. %(link)s Reply STOP to stop, START to "
                "start again.",
                site=settings.get("STATUSPAGE_NAME", ""),
                link=str(settings.get("STATUSPAGE_URL", "")).rstrip("/") + "/",
            )
        return Reply(body=_twiml(sendable(text)), content_type="text/xml")
    return Reply(body=EMPTY_TWIML, content_type="text/xml")


def status_callback(inbound: Inbound, settings: Mapping[str, Any]) -> Reply:
    """What became of one message: delivered, or failed and why."""
    if not _signed(inbound, settings):
        return Reply(status=403, body="the signature is not Twilio's")
    sid, status = _first(inbound, "MessageSid"), _first(inbound, "MessageStatus")
    if not sid or not status:
        return Reply(status=400, body="MessageSid and MessageStatus are required")
    code = _first(inbound, "ErrorCode")
    detail = f"Twilio error {code}" if code else ""
    failed = code.isdigit() and int(code) in ADDRESS_ERRORS
    return Reply(
        status=200,
        actions=(DeliveryStatus(sid, status.lower(), detail=detail, address_failed=failed),),
    )


# --- the channel -------------------------------------------------------------------------------


def _whole(value: str) -> int:
    return int(value) if value.strip() else 0


class Sms(Channel):
    name = "sms"
    position = 40
    label = _l("SMS")
    choice = _l("SMS text message (for master cases and incidents)")
    staff_label = _l("SMS")
    form_field = "phone_number"
    field_label = _l("Mobile number")
    input_type = "tel"
    address_field = "phone_number"
    api_fields = ("phone_number", "phone_country")
    api_rules = {
        "phone_number": "a valid mobile number: international (+ and the country code), or "
        "national with phone_country"
    }
    api_schema = {
        "phone_number": (
            Annotated[str, Field(max_length=32, pattern=r"^\+?[0-9 ().-]{1,31}$")] | None,
            Field(
                None,
                description="an SMS subscriber's mobile number: international (+ and the "
                "country code), or national with `phone_country`",
            ),
        ),
        "phone_country": (
            Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None,
            Field(None, description="the country of a national `phone_number` (ISO 3166)"),
        ),
    }
    confirmation = "code"
    shared_provider = True
    default_topics = ("incidents",)
    settings = (
        Setting("TWILIO_ACCOUNT_SID", ""),
        Setting("TWILIO_AUTH_TOKEN", ""),
        Setting("TWILIO_FROM", ""),
        Setting("TWILIO_API_BASE", API_BASE),
        Setting("TWILIO_TIMEOUT", TIMEOUT, float),
        Setting("SMS_DEFAULT_COUNTRY", "US"),
        Setting("SMS_MAX_PER_NOTICE", 5000, _whole),
        Setting("SMS_MAX_PER_HOUR", 20000, _whole),
    )
    routes = (Route("inbound", inbound_message), Route("status", status_callback))

    def takes(self, kind: str) -> bool:
        return kind.startswith("incident_") or kind in MAINTENANCE_KINDS

    def check_address(self, value: str, settings: Mapping[str, Any]) -> str:
        return e164(value, str(settings.get("SMS_DEFAULT_COUNTRY") or "US"))

    def address_from_api(self, fields: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
        number = str(fields.get("phone_number") or "")
        country = fields.get("phone_country")
        if not number or not country:
            return number
        try:
            return e164(number, str(country))
        except AddressRefused:
            return number  # checked again, and refused, as the address

    def mailbox(self, address: str) -> str:
        return f"sms:{address}"

    def masked(self, address: str) -> str:
        """+1…0100: the country code and the last four digits."""
        try:
            found = phonenumbers.parse(address)
        except phonenumbers.NumberParseException:
            return "…"
        return f"+{found.country_code}…{str(found.national_number)[-4:]}"

    def api_view(self, address: str) -> dict[str, str | None]:
        found = phonenumbers.parse(address)
        return {
            "phone_number": address,
            "phone_country": phonenumbers.region_code_for_number(found),
            "display_phone_number": phonenumbers.format_number(
                found, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            ),
        }

    def ceilings(self, settings: Mapping[str, Any]) -> Ceilings | None:
        notice = int(settings.get("SMS_MAX_PER_NOTICE") or 0)
        hour = int(settings.get("SMS_MAX_PER_HOUR") or 0)
        return Ceilings(per_notice=notice or None, per_hour=hour or None)

    def transport(self, settings: Mapping[str, Any], instance_path: str) -> Twilio | SmsFiles:
        if not settings.get("TWILIO_ACCOUNT_SID"):
            return SmsFiles(os.path.join(instance_path, "sms"))
        return Twilio(
            account=str(settings["TWILIO_ACCOUNT_SID"]),
            token=str(settings.get("TWILIO_AUTH_TOKEN") or ""),
            sender=str(settings.get("TWILIO_FROM") or ""),
            base=str(settings.get("TWILIO_API_BASE") or API_BASE),
            timeout=float(settings.get("TWILIO_TIMEOUT") or TIMEOUT),
        )

    def prepare(self, recipients: Sequence[Recipient], sending: Sending) -> Prepared:
        (r,) = recipients
        site = str(sending.settings.get("STATUSPAGE_NAME") or sending.site_name)
        payload = sending.payload
        if payload["kind"] == payloads.VERIFICATION_KIND:
            body = verification_text(payload, site, sending.language)
        else:
            if r.unsubscribe_url is None:
                raise ValueError("an SMS notice needs its subscriber's stop link")
            body = notice_text(
                payload,
                language=sending.language,
                reader_tz=sending.timezone,
                provider_tz=sending.provider_tz,
                site=site,
                stop_url=r.unsubscribe_url,
            )
        request = SmsRequest(
            to=r.address,
            body=body,
            delivery_id=r.delivery_id,
            possibly_duplicated=r.possibly_duplicated,
            status_callback=f"{sending.base_url}/channels/{self.name}/status",
        )
        return Prepared(request, [0])

    def send(self, transport: Twilio | SmsFiles, outgoing: SmsRequest) -> Receipt:  # type: ignore[override]
        return Receipt([transport.send(outgoing)])


CHANNEL = Sms()
