"""Staff sessions: a new one at sign-in, dead at sign-out, a new password, disabling and an
admin's "sign out everywhere"; cookie flags; password hashes at OWASP's scrypt parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from statuspage import config, create_app
from statuspage.models import AuditEntry
from statuspage.services import staff
from tests import helpers
from tests.helpers import (
    FAST_HASH,
    PASSWORD,
    SECRET_KEY,
    csrf_token,
    forget_request_state,
    token_headers,
)

OWASP = "scrypt:131072:8:1"
NEW_PASSWORD = "another long password"


def sign_in(client, email, password=PASSWORD):
    """The password, then the authenticator's code (admins and CSS need a second factor)."""
    response = helpers.sign_in(client, email, password)
    assert response.status_code == 302, response.status_code
    assert "/login" not in response.headers["Location"]
    return response


def change_password(db, admin, user) -> None:
    """The admin gives `user` the password "another long password", now."""
    staff.update_user(
        db, admin, user, password=NEW_PASSWORD, now=datetime.now(UTC), hash_method=FAST_HASH
    )
    db.commit()


def console(client) -> int:
    """The status of /admin/ for this client's cookie alone."""
    forget_request_state()
    return client.get("/admin/").status_code


def copy_of(client, app):
    """Another browser holding a copy of this client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_console(app, client, css):
    sign_in(client, "css@example.com")
    stolen = copy_of(client, app)
    assert console(stolen) == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert console(client) == 302
    assert console(stolen) == 302


def test_sign_in_starts_a_new_session_with_a_new_csrf_token(client, css):
    csrf_token(client, "/login")
    with client.session_transaction() as sess:
        before = sess["csrf_token"]
        sess["planted"] = "by someone who set this cookie"
    sign_in(client, "css@example.com")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != before
        assert sess["_sv"] == 0
    csrf_token(client, "/admin/")
    with client.session_transaction() as sess:
        assert sess["csrf_token"] != before


def test_a_new_password_ends_the_users_sessions(app, client, db, admin, css):
    sign_in(client, "css@example.com")
    change_password(db, admin, css)
    assert console(client) == 302
    sign_in(client, "css@example.com", NEW_PASSWORD)
    assert console(client) == 200


def test_disabling_a_user_ends_their_sessions(client, db, admin, css):
    sign_in(client, "css@example.com")
    staff.update_user(db, admin, css, active=False, now=datetime.now(UTC))
    db.commit()
    assert css.session_version == 1
    assert console(client) == 302


def test_an_admin_signs_a_user_out_everywhere(app, client, db, admin, css):
    theirs = app.test_client()
    sign_in(theirs, "css@example.com")
    laptop = copy_of(theirs, app)
    forget_request_state()
    sign_in(client, "admin@example.com")
    page = client.get(f"/admin/users/{css.id}").get_data(as_text=True)
    assert "Sign out everywhere" in page
    token = csrf_token(client, f"/admin/users/{css.id}")
    response = client.post(f"/admin/users/{css.id}/sign-out", data={"so-csrf_token": token})
    assert response.status_code == 302
    assert console(theirs) == 302 and console(laptop) == 302
    assert console(client) == 200  # the admin's own session is untouched
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "user.sign_out_everywhere"))
    assert entry is not None and entry.actor_id == admin.id and entry.object_id == str(css.id)


def test_sign_out_everywhere_needs_an_admin_and_a_csrf_token(app, client, db, admin, css):
    sign_in(client, "admin@example.com")
    assert client.post(f"/admin/users/{css.id}/sign-out").status_code == 400
    other = app.test_client()
    forget_request_state()
    sign_in(other, "css@example.com")
    token = csrf_token(other, "/admin/")
    forget_request_state()
    refused = other.post(f"/admin/users/{admin.id}/sign-out", data={"so-csrf_token": token})
    assert refused.status_code == 403
    db.refresh(admin)
    assert admin.session_version == 0


def _cookie_header(app) -> str:
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"email": "x@example.com", "password": "x"})
    return response.headers.get("Set-Cookie", "")


def _app(tmp_path, **overrides):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'cookies.db'}",
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
    )


def test_session_cookie_is_httponly_lax_and_secure_on_https(tmp_path, app, client, css):
    response = sign_in(client, "css@example.com")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    # A working day, not Flask's 31 days.
    expires = re.search(r"Expires=([^;]+)", cookie).group(1)
    left = datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    assert timedelta(hours=11) < left - datetime.now(UTC) <= timedelta(hours=12)

    https = _app(tmp_path, STATUSPAGE_URL="https://status.example.com")
    assert https.config["SESSION_COOKIE_SECURE"] is True
    forced = _app(tmp_path, STATUSPAGE_URL="http://x", SESSION_COOKIE_SECURE=True)
    assert forced.config["SESSION_COOKIE_SECURE"] is True
    plain = _app(tmp_path, STATUSPAGE_URL="http://x")
    assert plain.config["SESSION_COOKIE_SECURE"] is False


def test_session_cookie_secure_can_be_set_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    assert config.load(str(tmp_path))["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")
    assert config.load(str(tmp_path))["SESSION_COOKIE_SECURE"] is False


def test_passwords_are_hashed_at_owasp_scrypt_parameters_by_default(tmp_path):
    assert config.load(str(tmp_path))["PASSWORD_HASH_METHOD"] == OWASP
    assert staff.PASSWORD_HASH_METHOD == OWASP
    assert _app(tmp_path).config["PASSWORD_HASH_METHOD"] == OWASP


def test_sign_in_rehashes_a_password_stored_with_weaker_parameters(app, client, db, css):
    css.password_hash = generate_password_hash(PASSWORD, "scrypt:32768:8:1")
    db.commit()
    app.config["PASSWORD_HASH_METHOD"] = OWASP
    sign_in(client, "css@example.com")
    db.refresh(css)
    assert css.password_hash.startswith(OWASP + "$")
    assert staff.authenticate(db, "css@example.com", PASSWORD) is css
    assert staff.authenticate(db, "css@example.com", "wrong password!") is None


API = "/api/v1/pages/calltower/incidents"


def tokens_of(db, user, count=2):
    """`count` working Manage API tokens of `user`, and one revoked before."""
    now = datetime.now(UTC)
    made = [staff.create_token(db, None, user, name=f"t{i}", now=now)[0] for i in range(count)]
    _, old = staff.create_token(db, None, user, name="old", now=now)
    staff.revoke_token(db, None, old, now)
    db.commit()
    return made


def works(client, token) -> bool:
    forget_request_state()
    return client.get(API, headers=token_headers(token)).status_code == 200


def revocations(db, user, reason):
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "token.revoke").order_by(AuditEntry.id)
    ).all()
    return [e for e in entries if (e.after or {}).get("reason") == reason]


def test_a_new_password_revokes_the_users_api_tokens(client, db, admin, css):
    mine = tokens_of(db, admin, 1)
    theirs = tokens_of(db, css)
    assert all(works(client, t) for t in theirs + mine)
    change_password(db, admin, css)
    assert not any(works(client, t) for t in theirs)
    assert works(client, mine[0])  # another user's token is untouched
    entries = revocations(db, css, "password changed")
    assert len(entries) == 2 and all(e.actor_id == admin.id for e in entries)


def test_disabling_a_user_revokes_their_api_tokens_for_good(client, db, admin, css):
    theirs = tokens_of(db, css)
    staff.update_user(db, admin, css, active=False, now=datetime.now(UTC))
    db.commit()
    staff.update_user(db, admin, css, active=True, now=datetime.now(UTC))
    db.commit()
    assert not any(works(client, t) for t in theirs)  # enabling again brings none back
    assert len(revocations(db, css, "user disabled")) == 2


def test_sign_out_everywhere_revokes_the_users_api_tokens(app, client, db, admin, css):
    theirs = tokens_of(db, css)
    sign_in(client, "admin@example.com")
    token = csrf_token(client, f"/admin/users/{css.id}")
    assert (
        client.post(f"/admin/users/{css.id}/sign-out", data={"so-csrf_token": token}).status_code
        == 302
    )
    assert not any(works(app.test_client(), t) for t in theirs)
    assert len(revocations(db, css, "signed out everywhere")) == 2
