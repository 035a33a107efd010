"""Outgoing HTTP to subscribers' endpoints (webhooks, Teams and Slack incoming webhooks):
which URLs may be called, the URL's encoded form, and the request.

No Flask and no database here: a channel checks a URL with `check_url` when it is
subscribed, and posts with `EndpointSender`. What may be called is the operator's `Policy`
(settings `WEBHOOK_ALLOW_LOOPBACK`, `WEBHOOK_PORTS`), and for a channel held to its
service's hosts (Teams, Slack), that channel's own `HostRule`.

Server-side request forgery is refused at every step, not only when the URL is given:
- only https, or http to a loopback address when `allow_loopback` is on (tests, a receiver
  on the same machine);
- only the allowed ports (443 unless the operator allows more; a loopback receiver, where
  allowed, on any port);
- the host is resolved (`socket.getaddrinfo`) and EVERY address must be global unicast by
  this module's own tables (`address_refusal`), not by the `ipaddress` module's flags, whose
  answers changed between Python patch releases: IPv4 outside every range of IANA's
  special-purpose registry; IPv6 inside 2000::/3 and outside that registry (6to4, Teredo,
  documentation...), NAT64 and IPv4-compatible addresses refused whatever they carry, and an
  IPv4-mapped address judged by the IPv4 address inside;
- the request connects to the address that was checked, never to the name again, so a DNS
  answer that changes between check and connect (rebinding) cannot redirect it;
- redirects are never followed: a 3xx answer is a failure.

URLs are stored and sent in one encoded form (`check_url(...).url`): the host as IDNA
(ASCII), the path and query percent-encoded as UTF-8, default ports dropped.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import idna

from statuspage.channels.base import AddressRefused, PermanentFailure, TransientFailure
from statuspage.i18n import N_
from statuspage.services.errors import Message

URL_MAX = 254  # an endpoint's URL is its subscriber's address (Subscriber.address)
TIMEOUT = 10.0
RESPONSE_MAX = 64 * 1024
PORTS = (443,)


class UnsafeEndpoint(AddressRefused):
    """The URL may not be called: `message` says why, fit to show to whoever gave it (a
    catalog template, worded in the reader's language by the page that shows it)."""

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(Message(template, **params))


class EndpointRefused(PermanentFailure):
    """Sending again would not help: the endpoint is not allowed, or it redirected."""


class EndpointFailed(TransientFailure):
    """No 2xx: a non-2xx answer (`status`), a timeout or a connection error (`status` None)."""


# Why a host may not be called by a channel held to some hosts (a Teams or Slack channel's
# incoming-webhook hosts), or None where it may.
HostRule = Callable[[str], "UnsafeEndpoint | None"]


Address = tuple[int, tuple[str, int] | tuple[str, int, int, int]]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address


def _words(value: str | Iterable[Any]) -> tuple[str, ...]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return tuple(str(item).strip().lower() for item in items if str(item).strip())


def on_hosts(host: str, patterns: Iterable[str]) -> bool:
    """Whether `host` is one of `patterns` ("hooks.slack.com" is that host,
    "*.logic.azure.com" any host under it, not the name itself)."""
    return any(host.endswith(p[1:]) if p.startswith("*.") else host == p for p in patterns)


def host_list(value: str | Iterable[Any]) -> tuple[str, ...]:
    """A host-list setting ("a.example *.b.example", or a list) as lower-case patterns."""
    return _words(value)


@dataclass(frozen=True)
class Policy:
    """What may be called: loopback receivers (tests) and the ports. A channel held to
    some hosts adds its own rule (`HostRule`)."""

    allow_loopback: bool = False
    ports: tuple[int, ...] = PORTS

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Policy:
        """The policy of an app's settings (`statuspage.config`); a setting left out keeps
        its default."""
        return cls(
            allow_loopback=bool(config.get("WEBHOOK_ALLOW_LOOPBACK")),
            ports=tuple(int(p) for p in _words(config.get("WEBHOOK_PORTS", PORTS))),
        )


# --- which addresses: global unicast by our own tables -------------------------------------
# IANA's IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and later updates, as of
# 2025), multicast, and the reserved IPv4 block. Kept here rather than read from `ipaddress`
# (`is_global`, `is_private`), which allowed 192.0.0.192, 3fff::/20 and 6to4 wrappers of
# 127.0.0.1 on some Python releases.
_V4_REFUSED = tuple(
    (ipaddress.IPv4Network(net), what)
    for net, what in (
        ("0.0.0.0/8", N_("this network")),
        ("10.0.0.0/8", N_("private")),
        ("100.64.0.0/10", N_("shared address space")),
        ("127.0.0.0/8", N_("loopback")),
        ("169.254.0.0/16", N_("link-local")),
        ("172.16.0.0/12", N_("private")),
        ("192.0.0.0/24", N_("IETF protocol assignments")),
        ("192.0.2.0/24", N_("documentation")),
        ("192.31.196.0/24", "AS112"),
        ("192.52.193.0/24", "AMT"),
        ("192.88.99.0/24", N_("6to4 relay anycast")),
        ("192.168.0.0/16", N_("private")),
        ("192.175.48.0/24", "AS112"),
        ("198.18.0.0/15", N_("benchmarking")),
        ("198.51.100.0/24", N_("documentation")),
        ("203.0.113.0/24", N_("documentation")),
        ("224.0.0.0/4", N_("multicast")),
        ("240.0.0.0/4", N_("reserved")),
    )
)
# IANA allocates global unicast IPv6 from 2000::/3 only: everything outside it is refused
# (loopback, unspecified, IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48,
# discard 100::/64, SRv6 5f00::/16, unique local fc00::/7, link-local fe80::/10, multicast
# ff00::/8...), IPv4-mapped ::ffff:0:0/96 aside (judged by the IPv4 address inside).
_V6_GLOBAL = ipaddress.IPv6Network("2000::/3")
_V6_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_V6_REFUSED = tuple(
    (ipaddress.IPv6Network(net), what)
    for net, what in (
        ("2001::/23", N_("IETF protocol assignments (Teredo, benchmarking, ORCHID)")),
        ("2001:db8::/32", N_("documentation")),
        ("2002::/16", "6to4"),
        ("2620:4f:8000::/48", "AS112"),
        ("3fff::/20", N_("documentation")),
    )
)
_V6_NAMED = tuple(
    (ipaddress.IPv6Network(net), what)
    for net, what in (
        ("::1/128", N_("loopback")),
        ("::/96", N_("IPv4-compatible")),
        ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"),
        ("fc00::/7", N_("unique local")),
        ("fe80::/10", N_("link-local")),
        ("ff00::/8", N_("multicast")),
    )
)
_LOOPBACK = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv6Network("::1/128"))


def _embedded(ip: IP) -> IP:
    """The IPv4 address inside an IPv4-mapped IPv6 address, else the address itself."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _V6_MAPPED:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_loopback(ip: IP) -> bool:
    ip = _embedded(ip)
    return any(ip.version == net.version and ip in net for net in _LOOPBACK)


# Said of an IPv6 address outside 2000::/3.
NOT_GLOBAL_UNICAST = N_("outside global unicast")


def address_range(ip: IP) -> tuple[str, str] | None:
    """The range that keeps `ip` from being called and what it is (a catalog word):
    ("10.0.0.0/8", "private"); None for a global unicast address."""
    ip = _embedded(ip)
    if isinstance(ip, ipaddress.IPv4Address):
        return next(((str(net), what) for net, what in _V4_REFUSED if ip in net), None)
    if ip not in _V6_GLOBAL:
        named = ((str(net), what) for net, what in _V6_NAMED if ip in net)
        return next(named, (str(_V6_GLOBAL), NOT_GLOBAL_UNICAST))
    return next(((str(net), what) for net, what in _V6_REFUSED if ip in net), None)


def address_refusal(ip: IP) -> str:
    """The range that keeps `ip` from being called ("10.0.0.0/8 private"), or "" for a
    global unicast address."""
    found = address_range(ip)
    return f"{found[0]} {found[1]}" if found else ""


# --- the URL, in one encoded form -------------------------------------------------------------

_ESCAPE = re.compile(r"(%[0-9A-Fa-f]{2})")
_ASCII_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


def _encoded(part: str, safe: str) -> str:
    """`part` with every character a URL may not hold percent-encoded as UTF-8; existing
    %XX escapes are kept, a stray % is escaped."""
    return "".join(
        piece if _ESCAPE.fullmatch(piece) else quote(piece, safe=safe)
        for piece in _ESCAPE.split(part)
    )


def _literal(host: str) -> IP | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _ascii_host(host: str) -> str:
    """The host as it is resolved and sent: an IP literal as it is, a name as IDNA (ASCII,
    lower case, no final dot)."""
    if _literal(host) is not None:
        return host
    name = host[:-1] if host.endswith(".") else host
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            raise UnsafeEndpoint(
                N_("the host name %(host)s is not a valid internationalised domain name"),
                host=ascii(host),
            ) from None
    name = name.lower()
    if not _ASCII_HOST.fullmatch(name):
        raise UnsafeEndpoint(N_("the host name %(host)s is not valid"), host=ascii(host))
    return name


@dataclass(frozen=True)
class Target:
    """A checked URL: its encoded form (`url`, what is stored and sent) and what to connect
    to (addresses already resolved and allowed)."""

    scheme: str
    host: str
    port: int
    path: str
    url: str = ""
    addresses: tuple[Address, ...] = field(default=())


def masked_url(url: str) -> str:
    """An endpoint as staff and the API see it: scheme, host and the path's last four
    characters. A channel's incoming-webhook URL is a credential (whoever has it may post to
    the channel), so it is never shown whole."""
    parts = urlsplit(url)
    tail = (parts.path or "")[-4:]
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}"


def _too_long() -> UnsafeEndpoint:
    return UnsafeEndpoint(N_("must be a URL of at most %(max)d characters"), max=URL_MAX)


def encode_url(url: str) -> Target:
    """The URL split and encoded (not resolved): `UnsafeEndpoint` for what is not an http(s)
    URL or cannot be encoded."""
    if not isinstance(url, str) or not url or len(url) > URL_MAX:
        raise _too_long()
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise UnsafeEndpoint(N_("must not contain spaces or control characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeEndpoint(N_("is not a valid URL")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeEndpoint(N_("must be an https URL"))
    if parts.username is not None or parts.password is not None:
        raise UnsafeEndpoint(N_("must not carry a user name or password"))
    if not parts.hostname:
        raise UnsafeEndpoint(N_("must name a host"))
    if parts.fragment:
        raise UnsafeEndpoint(N_("must not have a fragment"))
    host = _ascii_host(parts.hostname)
    try:
        path = _encoded(parts.path or "/", "/:@!$&'()*+,;=")
        query = _encoded(parts.query, "/?:@!$&'()*+,;=")
    except UnicodeError:
        raise UnsafeEndpoint(N_("the path or query cannot be encoded as a URL")) from None
    path += f"?{query}" if query else ""
    default = 443 if scheme == "https" else 80
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        netloc += f":{port}"
    encoded = f"{scheme}://{netloc}{path}"
    if len(encoded) > URL_MAX:
        raise _too_long()
    return Target(scheme, host, port or default, path, encoded)


def check_url(url: str, policy: Policy | None = None, *, hosts: HostRule | None = None) -> Target:
    """The URL's target, encoded and resolved, when `policy` (and `hosts`, a channel's rule
    of where it may be) lets it be called; `UnsafeEndpoint` says why not.

    Every address the name resolves to is checked: one refused address among public ones
    is enough to refuse, since the connection could go to any of them."""
    policy = policy or Policy()
    target = encode_url(url)
    host = target.host
    literal = _literal(host)
    # A receiver on this machine, where the operator allows one, stands in for any service.
    if hosts is not None and not (
        policy.allow_loopback and literal is not None and is_loopback(literal)
    ):
        refused = hosts(host)
        if refused is not None:
            raise refused
    try:
        found = socket.getaddrinfo(
            host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (OSError, UnicodeError):
        raise UnsafeEndpoint(N_("host %(host)s cannot be resolved"), host=repr(host)) from None
    addresses: list[Address] = []
    for family, _type, _proto, _name, sockaddr in found:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        local = policy.allow_loopback and is_loopback(ip)
        why = None if local else address_range(ip)
        if why is not None:
            raise UnsafeEndpoint(
                N_(
                    "host %(host)s resolves to %(address)s, which may not be called "
                    "(%(range)s: %(kind)s)"
                ),
                host=repr(host),
                address=str(ip),
                range=why[0],
                kind=Message(why[1]),
            )
        if target.scheme == "http" and not local:
            raise UnsafeEndpoint(N_("must be an https URL"))
        if not local and target.port not in policy.ports:
            raise UnsafeEndpoint(
                N_("port %(port)d may not be called (allowed: %(ports)s)"),
                port=target.port,
                ports=", ".join(str(p) for p in policy.ports) or "-",
            )
        addresses.append((family, sockaddr))  # type: ignore[arg-type]  # AF_INET(6) only
    if not addresses:
        raise UnsafeEndpoint(N_("host %(host)s cannot be resolved"), host=repr(host))
    return Target(target.scheme, host, target.port, target.path, target.url, tuple(addresses))


@dataclass(frozen=True)
class EndpointRequest:
    """One POST to one endpoint."""

    url: str
    body: bytes
    headers: dict[str, str]
    # A token the endpoint must echo in its answer's body (a verification request), or "".
    expect_echo: str = ""
    # Where the endpoint may be (a Teams or Slack channel: its service's hosts), checked
    # again at every send.
    hosts: HostRule | None = None

    def part(self, indexes: Iterable[int]) -> EndpointRequest:
        return self  # one recipient: the request itself


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
class EndpointSender:
    """Posts an `EndpointRequest`; returns when the endpoint answered 2xx within `timeout`.

    The URL is checked again against `policy` at every send (an address may have changed,
    a row may predate today's rules). Raises `EndpointRefused` (the URL is not allowed now or
    cannot be encoded, a redirect, or a verification not echoed: sending again would not
    help) or `EndpointFailed` (try again later). Safe to call from several threads at once."""

    timeout: float = TIMEOUT
    policy: Policy = field(default_factory=Policy)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EndpointSender:
        return cls(
            timeout=float(config.get("WEBHOOK_TIMEOUT", TIMEOUT)), policy=Policy.from_config(config)
        )

    def send(self, request: EndpointRequest) -> None:
        try:
            target = check_url(request.url, self.policy, hosts=request.hosts)
        except UnsafeEndpoint as exc:
            raise EndpointRefused(f"refused: {exc}") from None
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
            raise EndpointFailed(f"TLS: {exc}") from None
        except UnicodeError as exc:  # a header that cannot be sent: it never will be
            raise EndpointRefused(f"refused: the request cannot be encoded: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            raise EndpointFailed(f"no answer: {type(exc).__name__}: {exc}") from None
        finally:
            conn.close()
        if 300 <= status < 400:
            raise EndpointRefused(f"HTTP {status}: redirects are not followed", status=status)
        if not 200 <= status < 300:
            raise EndpointFailed(f"HTTP {status}: {answer[:200]!r}", status=status)
        if request.expect_echo and request.expect_echo.encode() not in answer:
            raise EndpointRefused(
                "the endpoint answered 2xx without echoing the verification token", status=status
            )
