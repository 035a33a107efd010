"""Staff login: same answer whatever was wrong, local redirects only, rate limited."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.services import staff
from tests import helpers
from tests.helpers import FAST_HASH, PASSWORD, post_form, rate_limited_config


def attempt(client, email, password):
    """One try at the sign-in form."""
    return post_form(client, "/login", email=email, password=password)


def test_login_and_logout(client, css):
    response = helpers.sign_in(client, "CSS@example.com", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    assert client.get("/admin/").status_code == 200
    post_form(client, "/logout", page="/admin/")
    assert client.get("/admin/").status_code == 302


def test_wrong_password_and_unknown_address_look_the_same(client, css):
    wrong = attempt(client, "css@example.com", "wrong password!")
    unknown = attempt(client, "nobody@example.com", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert "Invalid email or password." in strip(wrong)


def test_disabled_user_cannot_log_in(client, db, admin, css):
    staff.update_user(db, admin, css, active=False, now=datetime.now(UTC))
    db.commit()
    assert attempt(client, "css@example.com", PASSWORD).status_code == 401


def test_next_only_to_local_paths(client, css):
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = helpers.sign_in(client, "css@example.com", PASSWORD, target)
        assert response.headers["Location"].endswith("/admin/"), target
        post_form(client, "/logout", page="/admin/")
    ok = helpers.sign_in(client, "css@example.com", PASSWORD, "/admin/maintenance")
    assert ok.headers["Location"].endswith("/admin/maintenance")


def test_login_without_csrf_is_refused(client, css):
    assert (
        client.post("/login", data={"email": "css@example.com", "password": PASSWORD}).status_code
        == 400
    )


def test_login_is_rate_limited(tmp_path):
    app = create_app(rate_limited_config(f"sqlite:///{tmp_path / 'rl.db'}"))
    with app.app_context():
        _db.create_all()
        client = app.test_client()
        codes = [
            client.post(
                "/login", data={"email": f"u{i}@example.com", "password": "nope nope nope"}
            ).status_code
            for i in range(12)
        ]
        _db.session.remove()
        _db.engine.dispose()
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]


SPELLINGS = [
    "css@example.com",
    "CSS@ｅxample.com",  # a full-width letter in the domain
    "css@example．com",  # a full-width full stop
    "css@example。com",  # an ideographic full stop
    "  Css@EXAMPLE.com ",
    "ｃｓｓ@example.com",  # full-width letters before the @
]


def test_every_spelling_of_an_address_signs_in_to_one_account_and_shares_its_budget(tmp_path):
    """The per-account limit keys on the address as sign-in reads it (one normalisation for
    the limiter, sign-in and user creation): another spelling of the same address gets no
    budget of its own."""
    app = create_app(rate_limited_config(f"sqlite:///{tmp_path / 'spellings.db'}"))
    with app.app_context():
        _db.create_all()
        user = staff.create_user(
            _db.session,
            None,
            email="CSS@ｅxample．com",
            role="css",
            password=PASSWORD,
            now=datetime.now(UTC),
            hash_method=FAST_HASH,
        )
        _db.session.commit()
        assert user.email == "css@example.com"
        assert {staff.find_user(_db.session, s) for s in SPELLINGS} == {user}
        assert len({staff.account_key(s) for s in SPELLINGS}) == 1
        client = app.test_client()
        codes = [
            client.post("/login", data={"email": s, "password": "not the password"}).status_code
            for s in SPELLINGS
        ]
        _db.session.remove()
        _db.engine.dispose()
    assert codes == [401] * 5 + [429]
