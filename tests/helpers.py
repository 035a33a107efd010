"""Helpers the staff-page tests share: reading a confirmation page as a browser would."""

from __future__ import annotations

from html.parser import HTMLParser


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
    from flask import g

    for name in ("_login_user", "csrf_token", "staff_session", "needs_directory"):
        g.pop(name, None)


def csrf_of(html: str) -> str:
    import re

    found = re.search(r'name="(?:\w+-)?csrf_token"[^>]*value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def authenticator_code(email: str) -> str:
    """A code of the authenticator app of the staff member at `email`, as their phone shows
    it at the app's time; one is set up for them (through the service) if they have none.
    The code is for the first time step after the last one accepted: with the tests' clock
    pinned, a fourth sign-in within one step forgets the last accepted step, as if the next
    half-minute had come."""
    from statuspage import clock
    from statuspage.extensions import db
    from statuspage.services import factors, staff

    user = staff.find_user(db.session, email)
    assert user is not None, email
    now = clock.unpinned()
    current = int(now.timestamp()) // factors.STEP_SECONDS
    factor = factors.factor_of(db.session, user)
    if factor is None or factor.confirmed_at is None:
        factor = factors.begin_totp(db.session, user, now)
        factors.confirm_totp(db.session, user, factors.code_at(factor.secret, current - 1), now)
        db.session.commit()
    db.session.refresh(factor)
    step = current - 1 if factor.last_step is None else max(current - 1, factor.last_step + 1)
    if step > current + 1:
        factor.last_step = None
        db.session.commit()
        step = current - 1
    return factors.code_at(factor.secret, step)


def ensure_authenticator(email: str) -> None:
    """Give the staff member at `email` an authenticator if their role needs one and they
    have none yet (as their first sign-in would have set up)."""
    from statuspage.extensions import db
    from statuspage.services import factors, staff

    user = staff.find_user(db.session, email)
    if user is not None and factors.required(user) and not factors.enrolled(db.session, user):
        authenticator_code(email)


def sign_in(client, email: str, password: str, next_url: str | None = None):
    """Sign in through the forms as a browser would: the password, then (for a role that
    needs one) the authenticator's code. Returns the last response."""
    ensure_authenticator(email)
    path = "/login" + (f"?next={next_url}" if next_url else "")
    forget_request_state()
    token = csrf_of(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token, "email": email, "password": password})
    if response.status_code == 302 and response.headers["Location"].endswith("/login/code"):
        forget_request_state()
        token = csrf_of(client.get("/login/code").get_data(as_text=True))
        response = client.post(
            "/login/code", data={"csrf_token": token, "code": authenticator_code(email)}
        )
    forget_request_state()
    return response
