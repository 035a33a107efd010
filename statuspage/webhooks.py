"""Outgoing webhooks: which endpoints may be called, the signature, and the HTTP request.

No Flask and no database here: the subscription service checks a URL with `check_url`, the
delivery job signs a body with `sign` and posts it with `WebhookSender`.

Server-side request forgery is refused at every step, not only when the URL is given:
- only https, or http to a loopback address when `allow_loopback` is on (tests, a receiver
  on the same machine);
- the host is resolved (`socket.getaddrinfo`) and EVERY address must be public: private,
  loopback (unless allowed), link-local, multicast, reserved, unspecified, shared (CGNAT)
  and the cloud metadata addresses are refused, also inside IPv4-mapped IPv6;
- the request connects to the address that was checked, never to the name again, so a DNS
  answer that changes between check and connect (rebinding) cannot redirect it;
- redirects are never followed: a 3xx answer is a failure.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from statuspage.mail import PermanentMailError, TransientMailError

URL_MAX = 254  # a webhook's URL is its subscriber's address (Subscriber.email)
TIMEOUT = 10.0
RESPONSE_MAX = 64 * 1024
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
SIGNATURE_HEADER = "X-Statuspage-Signature"
TIMESTAMP_HEADER = "X-Statuspage-Timestamp"


class UnsafeWebhook(ValueError):
    """The URL may not be called: the reason, fit to show to whoever gave it."""


class WebhookRefused(PermanentMailError):
    """Sending again would not help: the endpoint is not allowed, or it redirected."""


class WebhookFailed(TransientMailError):
    """No 2xx: a non-2xx answer (`status`), a timeout or a connection error (`status` None)."""


Address = tuple[int, tuple[str, int] | tuple[str, int, int, int]]


def _address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, loopback: bool) -> str:
    """Why this address may not be called, or "" when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _address_refused(ip.ipv4_mapped, loopback)
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "" if loopback else "a loopback address"
    for refused, what in (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not a public address"),
    ):
        if refused:
            return what
    return ""


@dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to (addresses already resolved and allowed)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[Address, ...] = field(default=())


def _split(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise UnsafeWebhook(f"must be a URL of at most {URL_MAX} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeWebhook("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhook("is not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeWebhook("must be an https URL")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhook("must not carry a user name or password")
    host = parts.hostname or ""
    if not host:
        raise UnsafeWebhook("must name a host")
    if parts.fragment:
        raise UnsafeWebhook("must not have a fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def check_url(url: str, *, allow_loopback: bool = False) -> Target:
    """The URL's target, resolved, when it may be called; `UnsafeWebhook` says why not.

    Every address the name resolves to is checked: one private address among public ones
    is enough to refuse, since the connection could go to any of them."""
    scheme, host, port, path = _split(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeWebhook(f"host {host!r} cannot be resolved") from exc
    addresses: list[Address] = []
    for family, _type, _proto, _name, sockaddr in found:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        why = _address_refused(ip, allow_loopback)
        if why:
            raise UnsafeWebhook(f"host {host!r} resolves to {ip}, {why}")
        if scheme == "http" and not ip.is_loopback:
            raise UnsafeWebhook("must be an https URL")
        addresses.append((family, sockaddr))
    if not addresses:
        raise UnsafeWebhook(f"host {host!r} cannot be resolved")
    return Target(scheme, host, port, path, tuple(addresses))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed by the subscriber's secret, of
    `timestamp + "." + body`: the value of the signature header."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@dataclass(frozen=True)
class WebhookRequest:
    """One signed POST to one endpoint."""

    url: str
    body: bytes
    headers: dict[str, str]
    # A token the endpoint must echo in its answer's body (a verification request), or "".
    expect_echo: str = ""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; the name is used only for Host."""

    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pinned = address

    def _open(self) -> socket.socket:
        family, sockaddr = self._pinned
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, address, timeout)
        self._context = ssl.create_default_context()

    def connect(self) -> None:
        # The certificate is checked against the name, the connection made to the address.
        self.sock = self._context.wrap_socket(self._open(), server_hostname=self.host)


@dataclass
class WebhookSender:
    """Posts a `WebhookRequest`; returns when the endpoint answered 2xx within `timeout`.

    Raises `WebhookRefused` (the URL is not allowed now, a redirect, or a verification not
    echoed: sending again would not help) or `WebhookFailed` (try again later). Safe to call
    from several threads at once."""

    timeout: float = TIMEOUT
    allow_loopback: bool = False

    def send(self, request: WebhookRequest) -> None:
        try:
            target = check_url(request.url, allow_loopback=self.allow_loopback)
        except UnsafeWebhook as exc:
            raise WebhookRefused(f"refused: {exc}") from None
        cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        conn = cls(target.host, target.port, target.addresses[0], self.timeout)
        try:
            conn.request(
                "POST",
                target.path,
                body=request.body,
                headers={"Content-Type": "application/json", **request.headers},
            )
            response = conn.getresponse()
            answer = response.read(RESPONSE_MAX)
            status = response.status
        except ssl.SSLCertVerificationError as exc:
            raise WebhookFailed(f"TLS: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            raise WebhookFailed(f"no answer: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        if 300 <= status < 400:
            raise WebhookRefused(f"HTTP {status}: redirects are not followed", status=status)
        if not 200 <= status < 300:
            raise WebhookFailed(f"HTTP {status}: {answer[:200]!r}", status=status)
        if request.expect_echo and request.expect_echo.encode() not in answer:
            raise WebhookRefused(
                "the endpoint answered 2xx without echoing the verification token", status=status
            )
