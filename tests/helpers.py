"""What the tests share: where the project is, and reading pages as a browser would."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask import g
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from statuspage import clock
from statuspage.extensions import db as _db
from statuspage.models import Incident, StaffSession, User
from statuspage.security import SESSION_KEY, SESSION_VERSION
from statuspage.services import incidents, staff

# The tests' folder and the project's, for files the tests read (schemas, the Node clients,
# docs, the source); the test modules sit one folder deeper, by domain.
TESTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = TESTS_DIR.parent

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
# A secret key long enough for create_app (32 characters or more).
SECRET_KEY = "test-secret-key-long-enough-for-create-app"
# One round of PBKDF2 instead of OWASP's scrypt: a test's staff cost nothing to create. The
# production parameters are tested once (tests/security/test_security_sessions.py).
FAST_HASH = "pbkdf2:sha256:1"


# --- the app, staff and forms ----------------------------------------------------------


def app_config(url: str, now: datetime) -> dict[str, object]:
    """The configuration of a test's app on the database at `url`, its clock pinned at `now`."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "SQLALCHEMY_DATABASE_URI": url,
        "FIXED_NOW": now,
        "RATELIMIT_ENABLED": False,
        "STATUSPAGE_URL": "http://localhost",
    }


def make_user(session: Session, role: str, email: str | None = None) -> User:
    user = staff.create_user(
        session,
        None,
        email=email or f"{role}@example.com",
        role=role,
        password=PASSWORD,
        now=NOW,
        hash_method=FAST_HASH,
    )
    session.commit()
    return user


def login(client: FlaskClient, user: User, *, method: str = "password") -> StaffSession:
    """Log a user in through the session, as a real sign-in would leave it (its second
    factor, if any, done): a server session row, and the cookie naming it. Returns the row."""
    key = secrets.token_urlsafe(32)
    signed_in = clock.unpinned()
    row = StaffSession(
        user_id=user.id,
        key_hash=hashlib.sha256(key.encode()).hexdigest(),
        method=method,
        signed_in_at=signed_in,
        directory_checked_at=signed_in if method == "sso" else None,
        user_agent="test client",
        address="127.0.0.1",
    )
    _db.session.add(row)
    _db.session.commit()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess[SESSION_VERSION] = user.session_version
        sess[SESSION_KEY] = key
    forget_request_state()  # the previous user, cached in the app context's `g`
    return row


class _ActionsForm(HTMLParser):
    """The fields of a page's confirmation form (`<form method="post" class="actions">`),
    as a browser sends them when its red button is pressed."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and "actions" in (found.get("class") or "").split():
            self.inside = True
        elif self.inside and tag == "input" and found.get("name"):
            self.fields.append((found["name"] or "", found.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def confirmation_fields(page: str) -> list[tuple[str, str]]:
    """What the confirmation page's red button sends: its token, the carried fields and
    `confirm=yes`."""
    parser = _ActionsForm()
    parser.feed(page)
    assert parser.fields, "no confirmation form on the page"
    return parser.fields


def as_form(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(name, value) pairs as the test client's form data (repeated names kept)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


# --- signing in through the forms, second factor included ----------------------------------


def forget_request_state() -> None:
    """The test app context outlives requests, so `g` is shared between them: forget the
    user, session and CSRF token cached there for the previous request."""
    for name in ("_login_user", "csrf_token", "staff_session", "needs_directory"):
        g.pop(name, None)


def csrf_of(html: str, prefix: str = "") -> str:
    """The CSRF token of the first form on the page (of the form whose fields carry
    `prefix`, such as "update-", where a page holds several)."""
    pattern = rf'name="{prefix}csrf_token"' if prefix else r'name="(?:[\w-]+-)?csrf_token"'
    found = re.search(pattern + r'[^>]*value="([^"]+)"', html)
    assert found, f"no {prefix}csrf_token on the page"
    return found.group(1)


def csrf_token(client: FlaskClient, path: str, prefix: str = "") -> str:
    """Open the page at `path` as a browser would and read its form's CSRF token."""
    forget_request_state()
    return csrf_of(client.get(path).get_data(as_text=True), prefix)


def count(session: Session, model: Any) -> int:
    """How many rows of `model` there are: what a refused write must leave unchanged."""
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- the API ---------------------------------------------------------------------------


def token_headers(plaintext: str) -> dict[str, str]:
    """The Authorization header the Manage API takes (Statuspage's `OAuth <key>` form)."""
    return {"Authorization": f"OAuth {plaintext}"}


def api_headers(
    session: Session,
    who: User | str = "css",
    scopes: tuple[str, ...] = staff.TOKEN_SCOPES,
    **token_fields: Any,
) -> dict[str, str]:
    """The Authorization header of a new API token of `who` (a staff member, or a role for
    which one is made as `api-<role>@example.com`)."""
    user = who if isinstance(who, User) else make_user(session, who, f"api-{who}@example.com")
    plaintext, _ = staff.create_token(session, None, user, scopes=scopes, now=NOW, **token_fields)
    session.commit()
    return token_headers(plaintext)


# --- factories -------------------------------------------------------------------------


def open_incident(
    session: Session,
    actor: User,
    now: datetime = NOW,
    priority: str = "P2",
    *,
    title: str = "Calls failing",
    platforms: Mapping[str, str] | None = None,
    commit: bool = True,
    **fields: Any,
) -> Incident:
    """An incident opened through the service, notifying its subscribers: Cisco in major
    outage unless `platforms` says otherwise, "Investigating" on case CS-1; any other field
    of `incidents.create_incident` by name. Committed unless `commit=False` (flushed only)."""
    fields.setdefault("body", "Investigating")
    fields.setdefault("impact", "major")
    fields.setdefault("case_number", "CS-1")
    made = incidents.create_incident(
        session,
        actor,
        title=title,
        priority=priority,
        platform_statuses={"cisco": "major_outage"} if platforms is None else platforms,
        now=now,
        **fields,
    )
    if commit:
        session.commit()
    return made


def queue_incident(session: Session, actor: User, now: datetime = NOW, priority: str = "P2"):
    """`open_incident`, flushed but not committed."""
    return open_incident(session, actor, now, priority, commit=False)


def master_case(
    session: Session, css: User, *, case_number: str = "CS-1", **fields: Any
) -> Incident:
    """A P1G master case (critical, Microsoft Teams down unless told otherwise)."""
    fields.setdefault("platforms", {"microsoft-teams": "major_outage"})
    fields.setdefault("impact", "critical")
    return open_incident(session, css, priority="P1G", case_number=case_number, **fields)


# --- waiting on other processes --------------------------------------------------------


def wait_until(done: Callable[[], object], timeout: float = 60, step: float = 0.05) -> bool:
    """Poll `done` until it is true or `timeout` seconds have passed; says which."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def authenticator_code(email: str) -> str:
    """A code of the authenticator app of the staff member at `email`, as their phone shows
    it at the app's time; one is set up for them (through the service) if they have none.
    The code is for the first time step after the last one accepted: with the tests' clock
    pinned, a fourth sign-in within one step forgets the last accepted step, as if the next
    half-minute had come."""
    from statuspage.services import factors

    user = staff.find_user(_db.session, email)
    assert user is not None, email
    now = clock.unpinned()
    current = int(now.timestamp()) // factors.STEP_SECONDS
    factor = factors.factor_of(_db.session, user)
    if factor is None or factor.confirmed_at is None:
        factor = factors.begin_totp(_db.session, user, now)
        factors.confirm_totp(_db.session, user, factors.code_at(factor.secret, current - 1), now)
        _db.session.commit()
    _db.session.refresh(factor)
    step = current - 1 if factor.last_step is None else max(current - 1, factor.last_step + 1)
    if step > current + 1:
        factor.last_step = None
        _db.session.commit()
        step = current - 1
    return factors.code_at(factor.secret, step)


def ensure_authenticator(email: str) -> None:
    """Give the staff member at `email` an authenticator if their role needs one and they
    have none yet (as their first sign-in would have set up)."""
    from statuspage.services import factors

    user = staff.find_user(_db.session, email)
    if user is not None and factors.required(user) and not factors.enrolled(_db.session, user):
        authenticator_code(email)


def sign_in(client, email: str, password: str, next_url: str | None = None):
    """Sign in through the forms as a browser would: the password, then (for a role that
    needs one) the authenticator's code. Returns the last response."""
    ensure_authenticator(email)
    path = "/login" + (f"?next={next_url}" if next_url else "")
    response = post_form(client, path, email=email, password=password)
    if response.status_code == 302 and response.headers["Location"].endswith("/login/code"):
        response = post_form(client, "/login/code", code=authenticator_code(email))
    forget_request_state()
    return response


# --- posting forms; apps with rate limits on -----------------------------------------


def post_form(
    client: FlaskClient,
    path: str,
    fields: Mapping[str, Any] | None = None,
    *,
    page: str | None = None,
    prefix: str = "",
    **named: Any,
):
    """Post a form as a browser would: a CSRF token read from the page at `page` (the form's
    own page at `path` unless told) as the field `{prefix}csrf_token` (`prefix` names one
    form of several on a page, such as "p1g-"), then `fields` under their full names and the
    `named` ones with `prefix` put before them."""
    token = csrf_token(client, page or path)
    data = {**(fields or {}), **{f"{prefix}{name}": value for name, value in named.items()}}
    return client.post(path, data={f"{prefix}csrf_token": token, **data})


def rate_limited_config(url: str, **settings: Any) -> dict[str, object]:
    """The configuration of an app on the database at `url` with its rate limits on and CSRF
    checks off (the tests post the sign-in form bare); `settings` add to it."""
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "RATELIMIT_ENABLED": True,
        "WTF_CSRF_ENABLED": False,
        "SQLALCHEMY_DATABASE_URI": url,
        **settings,
    }


# --- subscribers ---------------------------------------------------------------------


def subscribe(
    session: Session,
    address: str,
    slugs: list[str],
    *,
    at: datetime = NOW,
    mode: str = "email",
    confirmed: bool = True,
    incidents: bool = True,
    maintenance: bool = True,
) -> Any:
    """A subscriber (English, Denver's time) to the platforms `slugs`, made at `at`: confirmed
    then unless `confirmed` is false, taking incidents and maintenance unless told otherwise."""
    from statuspage.models import Platform, Subscriber, Subscription

    reader = {"language": "en", "timezone": "America/Denver"}
    stamps = {"confirmed_at": at if confirmed else None, "created_at": at}
    subscriber = Subscriber(address=address, mode=mode, updated_at=at, **reader, **stamps)
    session.add(subscriber)
    session.flush()
    ids = [session.scalar(select(Platform.id).where(Platform.slug == slug)) for slug in slugs]
    topics = {"incidents": incidents, "maintenance": maintenance}
    session.add_all(
        Subscription(subscriber_id=subscriber.id, platform_id=pid, **topics, **stamps)
        for pid in ids
    )
    session.commit()
    return subscriber
