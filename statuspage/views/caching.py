"""Public reads rendered once per change, and HTTP caching for every public response.

A public GET view decorated with `published` is rendered once per *key*: the endpoint, its
arguments, the query parameters it declares, the reader's language, the data version (one
primary-key read of the `data_version` row, bumped by every write: see `statuspage.changes`)
and, for what depends on the clock, the minute. The key holds exactly what changes the
output:

- the view sees only the query parameters it declares (`params`, `repeatable`), so another
  parameter (`?cb=1`, `?utm_source=`) is no new page and costs no render; a single-valued
  parameter keeps its first value, a repeatable one its distinct values, sorted;
- `lang` counts for a page in the reader's language, and only when it names a language the
  site speaks (its links carry it on: `statuspage.renderers.templating`);
- nothing of the request's host: absolute links come from STATUSPAGE_URL, and a request
  naming another host is refused before any view (TRUSTED_HOSTS, `statuspage.config`).

The clock of the request is pinned to that minute while the view renders, so every worker
and machine renders the same bytes for the same key, and the strong ETag is a digest of the
key: a conditional request is answered 304 before anything is rendered or fetched beyond the
version row. Bodies are gzip-compressed once, when they are rendered, and kept in a bounded
per-process cache. Each client may cause PUBLIC_RENDER_LIMIT renders (a page served from the
cache or answered 304 costs nothing); past it, 429.

When a page's key changes (a new minute, a new version), one thread of the process renders
the new body while every other request for the same page is served the previous one (its
own ETag and Last-Modified), so no reader waits on a render once the page has one; a page
never rendered before still makes its readers wait for its first render.

When the database cannot be read (a restart, a failover, a cut network: `statuspage.outage`)
a page is served from its last render, the one last confirmed current (200, `X-Served-Stale:
<when it was last confirmed current, ISO 8601>`, no validators, `Cache-Control: no-cache`);
an HTML page also says so in a line at the top of its main content, inserted into a copy of
the cached bytes, which themselves stay as rendered. A page with no render answers 503 with
Retry-After. So does a personal read, which is never cached.

A shared read (an anonymous reader) is the same for everyone: its language comes from `?lang=`
and Accept-Language only, never the `lang` cookie, it sets no cookie and does not vary on
one. Staff never see a cached page: a request carrying a signed-in session or a pending flash
message is rendered for that reader alone and marked private.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps
from typing import Any, ParamSpec

from flask import Flask, current_app, g, make_response, render_template, request, session
from flask_babel import get_locale
from flask_limiter.util import get_remote_address
from flask_login import current_user
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.wrappers import Response

from statuspage import clock, metrics, outage
from statuspage.extensions import db
from statuspage.queries import version as version_queries
from statuspage.reader import mark_shared_read, shared_read

P = ParamSpec("P")

CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
PRIVATE = "private, no-cache"
# A page served while the database cannot be read: from its last render, said so.
STALE_HEADER = "X-Served-Stale"
STALE_CACHE_CONTROL = "no-cache"
# Response headers a cached entry keeps besides its type.
KEPT_HEADERS = ("Content-Disposition",)
MAX_BYTES = 32 * 1024 * 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LANG = "lang"


@dataclass(frozen=True)
class Publication:
    """What a published view's output depends on besides its route and the data."""

    params: tuple[str, ...]  # query parameters read once (`request.args.get`)
    repeatable: tuple[str, ...]  # query parameters read as a list (`getlist`)
    by_minute: bool
    by_language: bool


@dataclass(frozen=True)
class Rendered:
    body: bytes
    gzipped: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


@dataclass(frozen=True)
class Latest:
    """A page's newest render in this process: its key (the ETag's digest), its
    Last-Modified, and the last moment a request found it current."""

    key: str
    last_modified: datetime
    confirmed_at: datetime


class RenderCache:
    """Rendered bodies by key, least recently used out once over `max_bytes`. Old data
    versions are never read again, so they simply age out.

    Beside the bodies, each page (a key without its minute and version) remembers its
    newest render (`Latest`): what is served while that page renders again, and while the
    database cannot be read."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._gates: dict[str, threading.Lock] = {}
        self._latest: dict[str, Latest] = {}
        self._page_of: dict[str, str] = {}
        self._stale: OrderedDict[tuple[str, datetime, bool], bytes] = OrderedDict()
        self.renders = 0  # how many times a body was rendered (tests and benchmarks read it)

    def get(self, key: str) -> Rendered | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def current(
        self, key: str, page: str, last_modified: datetime, at: datetime
    ) -> Rendered | None:
        """The body of `key`, the current key of `page` as the database said at `at`."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self._latest[page] = Latest(key, last_modified, at)
            return hit

    def put(
        self,
        key: str,
        item: Rendered,
        *,
        page: str | None = None,
        last_modified: datetime | None = None,
        at: datetime | None = None,
    ) -> None:
        with self._lock:
            self.renders += 1
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._items[key] = item
            self._bytes += item.size
            if page is not None and last_modified is not None and at is not None:
                self._latest[page] = Latest(key, last_modified, at)
                self._page_of[key] = page
            while self._bytes > self.max_bytes and len(self._items) > 1:
                dropped_key, dropped = self._items.popitem(last=False)
                self._bytes -= dropped.size
                dropped_page = self._page_of.pop(dropped_key, None)
                latest = self._latest.get(dropped_page) if dropped_page is not None else None
                if latest is not None and latest.key == dropped_key:
                    del self._latest[dropped_page]  # type: ignore[arg-type]

    def latest(self, page: str) -> tuple[Latest, Rendered] | None:
        """The newest render of `page` this process holds, or None."""
        with self._lock:
            latest = self._latest.get(page)
            hit = self._items.get(latest.key) if latest is not None else None
            if latest is None or hit is None:
                return None
            self._items.move_to_end(latest.key)
            return latest, hit

    def stale_body(self, key: str, at: datetime, gz: bool, make: Callable[[], bytes]) -> bytes:
        """A stale copy of `key` as of `at` (made once while the outage lasts)."""
        wanted = (key, at, gz)
        with self._lock:
            body = self._stale.get(wanted)
        if body is None:
            body = make()
            with self._lock:
                self._stale[wanted] = body
                while len(self._stale) > 64:
                    self._stale.popitem(last=False)
        return body

    @contextmanager
    def rendering(self, key: str, *, wait: bool = True) -> Iterator[tuple[bool, Rendered | None]]:
        """One render per key at a time in this process. Yields (True, None) to the thread
        that is to render (then it `put`s the body), (False, body) to one that waited while
        another thread rendered it, and, with `wait` False, (False, None) at once when
        another thread is rendering it (the caller then serves the page's previous body)."""
        with self._lock:
            gate = self._gates.setdefault(key, threading.Lock())
        if not gate.acquire(blocking=wait):
            yield False, None
            return
        try:
            hit = self.get(key)
            yield hit is None, hit
        finally:
            gate.release()
            with self._lock:
                if self._gates.get(key) is gate:
                    del self._gates[key]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0
            self._latest.clear()
            self._page_of.clear()
            self._stale.clear()


def render_cache() -> RenderCache:
    cache: RenderCache | None = current_app.extensions.get("render_cache")
    if cache is None:
        cache = current_app.extensions.setdefault("render_cache", RenderCache())
    return cache


def _personal() -> bool:
    """A signed-in reader or one with a message waiting sees a page made for them."""
    return bool(request.cookies) and ("_user_id" in session or "_flashes" in session)


def publication(endpoint: str | None) -> Publication | None:
    """The declaration of a published view, or None for any other endpoint."""
    view = current_app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, "publication", None)


def declared_args(spec: Publication) -> ImmutableMultiDict[str, str]:
    """The query as the view may read it: its declared parameters (the first value of a
    single one, the distinct values of a repeatable one, sorted) in the order declared and,
    for a page in the reader's language, `lang` when it names a language of the site."""
    kept: list[tuple[str, str]] = []
    for name in spec.params:
        value = request.args.get(name)
        if value is not None:
            kept.append((name, value))
    for name in spec.repeatable:
        kept.extend((name, value) for value in sorted(set(request.args.getlist(name))))
    if spec.by_language and LANG not in spec.params:
        lang = request.args.get(LANG)
        if lang is not None and lang in current_app.config["LANGUAGES"]:
            kept.append((LANG, lang))
    return ImmutableMultiDict(kept)


def prepare_request() -> None:
    """Before a published view (and anything it calls, the language choice included): the
    query is cut to what the view declares, and an anonymous reader's request is marked a
    shared read."""
    spec = publication(request.endpoint)
    if spec is None:
        return
    request.args = declared_args(spec)
    if not _personal():
        mark_shared_read()


def init_app(app: Flask) -> None:
    app.before_request(prepare_request)


def _render_limiter() -> tuple[FixedWindowRateLimiter, list[RateLimitItem]] | None:
    """This app's limit on renders per client (PUBLIC_RENDER_LIMIT), counted in the
    rate-limit store (RATELIMIT_STORAGE_URI), or None when limits are off."""
    config = current_app.config
    limit = str(config.get("PUBLIC_RENDER_LIMIT") or "").strip()
    if not limit or not config.get("RATELIMIT_ENABLED", True):
        return None
    setting = (str(config.get("RATELIMIT_STORAGE_URI") or "memory://"), limit)
    made = current_app.extensions.get("render_limiter")
    if made is None or made[0] != setting:
        strategy = FixedWindowRateLimiter(storage_from_string(setting[0]))
        made = (setting, strategy, parse_many(limit))
        current_app.extensions["render_limiter"] = made
    return made[1], made[2]


def spend_render() -> None:
    """One render for this client (the address ProxyFix found, see TRUSTED_PROXIES), or
    429 with Retry-After when its budget is spent. Signed-in staff are not counted."""
    limiter = _render_limiter()
    if limiter is None or current_user.is_authenticated:
        return
    strategy, items = limiter
    client = get_remote_address() or "-"
    for item in items:
        if not strategy.hit(item, "render", client):
            reset = strategy.get_window_stats(item, "render", client).reset_time
            raise TooManyRequests(retry_after=max(1, int(reset - time.time()) + 1))


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def published(
    *,
    by_minute: bool = True,
    by_language: bool = True,
    params: tuple[str, ...] = (),
    repeatable: tuple[str, ...] = (),
) -> Callable[[Callable[P, Any]], Callable[P, Response]]:
    """Serve a public GET view from the render cache with ETag, Last-Modified, 304s, gzip
    and the public Cache-Control.

    `by_minute`: the view shows something that moves with the clock (next update due,
    window states, the day's bars, "upcoming"); it is rendered at most once a minute.
    `by_language`: the body is in the reader's language.
    `params`, `repeatable`: the query parameters the view reads, once or as a list; it sees
    no other (`declared_args`).
    """
    spec = Publication(tuple(params), tuple(repeatable), by_minute, by_language)

    def decorate(view: Callable[P, Any]) -> Callable[P, Response]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
            if not shared_read():
                spend_render()
                response = make_response(view(*args, **kwargs))
                response.headers["Cache-Control"] = PRIVATE
                return response
            # The page: what the key holds besides the minute and the data version.
            parts = (
                request.endpoint,
                sorted(kwargs.items()),
                list(request.args.items(multi=True)),
                str(get_locale()) if by_language else "",
            )
            page = repr(parts)
            gz = _accepts_gzip()
            try:
                current = version_queries.current(db.engine)
            except Exception as exc:
                if not outage.unreachable(exc):
                    raise
                return _stale(page, gz, by_language=by_language)
            if current is None:  # an unmigrated database: correct, just not cached
                return make_response(view(*args, **kwargs))
            now = clock.unpinned()
            pinned = _minute(now) if by_minute else None
            key = repr((*parts, pinned.isoformat() if pinned else "", current.version))
            digest = hashlib.blake2b(key.encode(), digest_size=12).hexdigest()
            etag = digest + ("-gz" if gz else "")
            last_modified = max(current.changed_at, pinned or EPOCH).replace(microsecond=0)

            if request.if_none_match:
                fresh = request.if_none_match.contains_weak(etag)
            else:
                since = request.if_modified_since
                fresh = since is not None and last_modified <= since
            if fresh:
                return _headers(
                    current_app.response_class(status=304),
                    etag,
                    last_modified,
                    by_language=by_language,
                )

            cache = render_cache()
            entry = cache.current(digest, page, last_modified, now)
            metrics.render_cache_lookup(request.endpoint, hit=entry is not None)
            if entry is None:
                previous = cache.latest(page)
                with cache.rendering(digest, wait=previous is None) as (mine, entry):
                    if mine:  # this thread renders; the others serve the previous body
                        spend_render()
                        g.pinned_now = pinned
                        started = time.perf_counter()
                        try:
                            response = make_response(view(*args, **kwargs))
                        except Exception as exc:
                            if not outage.unreachable(exc):
                                raise
                            return _stale(page, gz, by_language=by_language)
                        finally:
                            g.pinned_now = None
                        if response.status_code != 200:
                            return response
                        entry = _rendered(response)
                        cache.put(digest, entry, page=page, last_modified=last_modified, at=now)
                        metrics.page_rendered(request.endpoint, started)
                if entry is None:  # another thread is rendering it
                    assert previous is not None
                    before, entry = previous
                    digest, last_modified = before.key, before.last_modified
                    etag = digest + ("-gz" if gz else "")
            return _headers(_body(entry, gz), etag, last_modified, by_language=by_language)

        # A function attribute, which mypy does not model (prepare_request reads it).
        wrapper.publication = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _body(entry: Rendered, gz: bool, body: bytes | None = None) -> Response:
    response = current_app.response_class(
        body if body is not None else entry.gzipped if gz else entry.body,
        content_type=entry.content_type,
    )
    response.headers.extend(entry.headers)
    if gz:
        response.headers["Content-Encoding"] = "gzip"
    return response


def _stale(page: str, gz: bool, *, by_language: bool) -> Response:
    """While the database cannot be read: the page's last render, marked with when it was
    last known current; without one, 503 with Retry-After."""
    with suppress(Exception):  # the session's connection may be gone with the database
        db.session.rollback()
    cache = render_cache()
    found = cache.latest(page)
    if found is None:
        raise ServiceUnavailable(retry_after=outage.RETRY_AFTER)
    latest, entry = found
    as_of = latest.confirmed_at
    body = None
    if entry.content_type.startswith("text/html"):

        def make() -> bytes:
            marked = stale_html(entry.body, as_of)
            return gzip.compress(marked, compresslevel=6, mtime=0) if gz else marked

        body = cache.stale_body(latest.key, as_of, gz, make)
    response = _body(entry, gz, body)
    response.headers[STALE_HEADER] = as_of.astimezone(UTC).isoformat(timespec="seconds")
    response.headers["Cache-Control"] = STALE_CACHE_CONTROL
    response.vary.add("Accept-Encoding")
    if by_language:
        response.vary.add("Accept-Language")
    return response


def stale_html(body: bytes, as_of: datetime) -> bytes:
    """`body` with a line saying it shows the page as of `as_of`, at the top of its main
    content (else of its body); a document with neither is left as it is."""
    line = render_template("public/_stale.html", as_of=as_of).strip().encode()
    for tag in (b"<main", b"<body"):
        start = body.find(tag)
        if start != -1:
            end = body.find(b">", start)
            if end != -1:
                return body[: end + 1] + b"\n" + line + body[end + 1 :]
    return body


def _rendered(response: Response) -> Rendered:
    body = response.get_data()
    return Rendered(
        body=body,
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        content_type=response.content_type or "text/html; charset=utf-8",
        headers=tuple(
            (name, response.headers[name]) for name in KEPT_HEADERS if name in response.headers
        ),
    )


def _headers(
    response: Response, etag: str, last_modified: datetime, *, by_language: bool = True
) -> Response:
    response.set_etag(etag)
    response.last_modified = last_modified
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.vary.add("Accept-Encoding")
    if by_language:
        # `?lang=` is in the URL; the `lang` cookie is never read for a shared read.
        response.vary.add("Accept-Language")
    return response
