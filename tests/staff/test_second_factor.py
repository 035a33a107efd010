"""The second factor of a password sign-in: TOTP (RFC 6238) set up from a QR code, ten
single-use recovery codes, a code taken once, and the per-account limits covering it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import AuditEntry, RecoveryCode, SecondFactor, StaffSession, User
from statuspage.services import factors
from tests.helpers import (
    NOW,
    PASSWORD,
    csrf_of,
    forget_request_state,
    login,
    make_user,
    rate_limited_config,
    sign_in,
)

STEP = int(NOW.timestamp()) // factors.STEP_SECONDS
CODE_SHAPE = r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}"


def password(client, email, secret=PASSWORD):
    """The first step only: the password form."""
    forget_request_state()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    forget_request_state()
    return client.post("/login", data={"csrf_token": token, "email": email, "password": secret})


def code(client, value, path="/login/code"):
    forget_request_state()
    token = csrf_of(client.get(path).get_data(as_text=True))
    forget_request_state()
    return client.post(path, data={"csrf_token": token, "code": value})


def console(client) -> int:
    forget_request_state()
    return int(client.get("/admin/").status_code)


def enrolled(db, user):
    """`user` with an authenticator set up; returns its secret and recovery codes."""
    secret, codes = factors.enrol_by_operator(db, user, NOW - timedelta(days=1))
    db.commit()
    return secret, codes


def actions(db) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_codes_follow_rfc_6238():
    """RFC 6238's SHA-1 test vectors (the last six of their eight digits)."""
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    for moment, expected in [(59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")]:
        assert factors.code_at(secret, moment // 30) == expected[-6:]


def test_an_admin_without_an_authenticator_sets_one_up_before_anything_opens(client, db, admin):
    first = password(client, "admin@example.com")
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/enrol")
    assert console(client) == 302  # the password alone opens nothing
    forget_request_state()
    page = client.get("/login/enrol").get_data(as_text=True)
    assert re.search(r'<svg role="img" width="\d+" height="\d+" class="qr"><title>', page)
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert key == db.scalar(select(SecondFactor.secret).where(SecondFactor.user_id == admin.id))
    done = code(client, factors.code_at(key, STEP), "/login/enrol")
    assert done.status_code == 200
    shown = re.findall(CODE_SHAPE, done.get_data(as_text=True))
    assert len(shown) == len(set(shown)) == 10
    assert console(client) == 200
    # Stored as digests only.
    stored = set(db.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in shown}
    assert actions(db)[-2:] == ["factor.enrol", "sign_in"]


def test_a_reload_shows_the_same_key_and_another_browser_gets_its_own(app, client, db, admin):
    password(client, "admin@example.com")
    keys = [re.search(r'id="totp-key">([^<]+)<', client.get("/login/enrol").get_data(as_text=True))]
    again = client.get("/login/enrol").get_data(as_text=True)
    assert keys[0].group(1) in again
    other = app.test_client()
    password(other, "admin@example.com")
    theirs = other.get("/login/enrol").get_data(as_text=True)
    assert keys[0].group(1) not in theirs


def test_the_enrolment_page_keeps_the_content_security_policy(client, admin):
    password(client, "admin@example.com")
    response = client.get("/login/enrol")
    page = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert not re.search(r"<script(?![^>]*\ssrc=)|\sstyle\s*=|\son[a-z]+\s*=|<style", page)


def test_a_password_then_a_code_signs_in(client, db, css):
    secret, _ = enrolled(db, css)
    first = password(client, "css@example.com")
    assert first.headers["Location"].endswith("/login/code")
    assert console(client) == 302
    done = code(client, factors.code_at(secret, STEP))
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    assert console(client) == 200


def test_a_wrong_code_is_refused_and_recorded(client, db, css):
    secret, _ = enrolled(db, css)
    password(client, "css@example.com")
    wrong = code(client, factors.code_at(secret, STEP + 5))  # a real code, but not for now
    assert wrong.status_code == 401
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert console(client) == 302
    failure = db.scalar(select(AuditEntry).where(AuditEntry.action == "sign_in.failure"))
    assert failure.after["reason"] == "second_factor" and failure.object_id == str(css.id)


def test_a_code_is_taken_once_even_within_its_window(app, client, db, css):
    secret, _ = enrolled(db, css)
    password(client, "css@example.com")
    used = factors.code_at(secret, STEP)
    assert code(client, used).status_code == 302
    other = app.test_client()
    password(other, "css@example.com")
    assert code(other, used).status_code == 401  # the same code, still within its 30 s
    assert code(other, factors.code_at(secret, STEP - 1)).status_code == 401  # an older one
    assert code(other, factors.code_at(secret, STEP + 1)).status_code == 302  # the next one


def test_the_steps_either_side_are_taken_for_a_drifting_clock(app, db, css):
    secret, _ = enrolled(db, css)
    for offset in (-1, 1):
        client = app.test_client()
        password(client, "css@example.com")
        assert code(client, factors.code_at(secret, STEP + offset)).status_code == 302
    client = app.test_client()
    password(client, "css@example.com")
    assert code(client, factors.code_at(secret, STEP + 2)).status_code == 401


def test_a_recovery_code_signs_in_once(app, client, db, css):
    _, codes = enrolled(db, css)
    password(client, "css@example.com")
    done = code(client, codes[3].lower())
    assert done.status_code == 302
    forget_request_state()
    assert "9 are left" in client.get("/admin/").get_data(as_text=True)
    other = app.test_client()
    password(other, "css@example.com")
    assert code(other, codes[3]).status_code == 401
    assert "factor.recovery_code_used" in actions(db)


def test_new_recovery_codes_replace_the_old_ones(app, client, db, css):
    _, old = enrolled(db, css)
    login(client, css)
    forget_request_state()
    token = csrf_of(client.get("/admin/account/").get_data(as_text=True))
    page = client.post("/admin/account/recovery-codes", data={"codes-csrf_token": token})
    new = re.findall(CODE_SHAPE, page.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    other = app.test_client()
    password(other, "css@example.com")
    assert code(other, old[0]).status_code == 401
    assert code(other, new[0]).status_code == 302


def test_an_engineer_signs_in_with_a_password_alone_unless_they_set_up_a_factor(
    client, db, engineer
):
    first = password(client, "engineer@example.com")
    assert first.headers["Location"].endswith("/admin/") and console(client) == 200
    secret, _ = enrolled(db, engineer)
    other = client.application.test_client()
    assert password(other, "engineer@example.com").headers["Location"].endswith("/login/code")
    assert code(other, factors.code_at(secret, STEP)).status_code == 302


def test_a_pending_password_is_good_for_ten_minutes(app, client, db, css):
    secret, _ = enrolled(db, css)
    password(client, "css@example.com")
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=11)
    forget_request_state()
    late = client.get("/login/code")
    assert late.status_code == 302 and late.headers["Location"].endswith("/login")
    step = int((NOW + timedelta(minutes=11)).timestamp()) // 30
    forget_request_state()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    forget_request_state()
    refused = client.post(
        "/login/code", data={"csrf_token": token, "code": factors.code_at(secret, step)}
    )
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/login")
    assert console(client) == 302


def test_an_admin_removes_a_lost_authenticator_and_the_next_sign_in_sets_up_a_new_one(
    app, client, db, admin, css
):
    enrolled(db, css)
    theirs = app.test_client()
    sign_in(theirs, "css@example.com", PASSWORD)
    assert console(theirs) == 200
    login(client, admin)
    forget_request_state()
    page = client.get(f"/admin/users/{css.id}/authenticator/remove").get_data(as_text=True)
    forget_request_state()
    done = client.post(
        f"/admin/users/{css.id}/authenticator/remove",
        data={"rm-csrf_token": csrf_of(page), "rm-confirm": "yes"},
    )
    assert done.status_code == 302
    assert db.scalar(select(func.count(SecondFactor.id))) == 0
    assert db.scalar(select(func.count(RecoveryCode.id))) == 0
    assert console(theirs) == 302  # signed out too
    again = password(app.test_client(), "css@example.com")
    assert again.headers["Location"].endswith("/login/enrol")
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "factor.remove"))
    assert entry.actor_id == admin.id and entry.object_id == str(css.id)


def test_a_staff_member_sets_up_and_removes_their_own_authenticator(client, db, engineer):
    login(client, engineer)
    forget_request_state()
    page = client.get("/admin/account/authenticator").get_data(as_text=True)
    key = re.search(r'id="totp-key">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    done = code(client, factors.code_at(key, STEP), "/admin/account/authenticator")
    assert len(re.findall(CODE_SHAPE, done.get_data(as_text=True))) == 10
    assert factors.enrolled(db, engineer)
    forget_request_state()
    ask = client.get("/admin/account/authenticator/remove").get_data(as_text=True)
    forget_request_state()
    client.post(
        "/admin/account/authenticator/remove",
        data={"rm-csrf_token": csrf_of(ask), "rm-confirm": "yes"},
    )
    db.expire_all()
    assert not factors.enrolled(db, engineer)
    assert actions(db)[-2:] == ["factor.enrol", "factor.remove"]


def test_local_login_off_leaves_passwords_to_the_named_break_glass_admins(app, db, admin, css):
    make_user(db, "admin", "other-admin@example.com")
    app.config.update(LOCAL_LOGIN=False, BREAK_GLASS_ADMINS=["ADMIN@example.com"])
    assert password(app.test_client(), "css@example.com").status_code == 401
    assert password(app.test_client(), "other-admin@example.com").status_code == 401
    glass = password(app.test_client(), "admin@example.com")
    assert glass.status_code == 302 and glass.headers["Location"].endswith("/login/enrol")
    assert "Break-glass sign-in" not in app.test_client().get("/login").get_data(as_text=True)


def test_sessions_opened_with_a_password_close_when_local_login_is_turned_off(app, client, db, css):
    login(client, css)
    assert console(client) == 200
    app.config["LOCAL_LOGIN"] = False
    assert console(client) == 302


# --- the per-account limits cover the second factor -----------------------------------------


@pytest.fixture
def limited(tmp_path):
    app = create_app(rate_limited_config(f"sqlite:///{tmp_path / 'limits.db'}", FIXED_NOW=NOW))
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


def test_wrong_codes_spend_the_accounts_sign_in_budget_with_wrong_passwords(limited):
    users = {}
    for email in ("css@example.com", "other@example.com"):
        users[email] = make_user(_db.session, "css", email)
        factors.enrol_by_operator(_db.session, users[email], NOW)
        _db.session.commit()
    client = limited.test_client()
    wrong = {"email": "css@example.com", "password": "not the password"}
    codes = [client.post("/login", data=wrong).status_code for _ in range(3)]
    assert client.post("/login", data={**wrong, "password": PASSWORD}).status_code == 302
    codes += [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(3)]
    # Five failures a minute per account, password and code together.
    assert codes == [401, 401, 401, 401, 401, 429]
    assert client.post("/login", data={**wrong, "password": PASSWORD}).status_code == 429
    other = limited.test_client()
    ok = other.post("/login", data={"email": "other@example.com", "password": PASSWORD})
    assert ok.status_code == 302  # another account keeps its own budget


def test_the_session_table_holds_only_a_digest_of_the_cookies_key(client, db, css):
    sign_in(client, "css@example.com", PASSWORD)
    with client.session_transaction() as sess:
        key = sess["_sid"]
    assert db.scalar(select(StaffSession.key_hash)) not in (None, key)
    assert db.scalar(select(func.count(User.id))) == 1
