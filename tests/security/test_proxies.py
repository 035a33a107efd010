"""Behind proxies: the real client (X-Forwarded-* from TRUSTED_PROXIES hops only) is what rate
limits key on, and login is limited per account as well, so nobody locks the staff out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.seed.defaults import seed_platforms
from tests.helpers import PASSWORD, make_user, rate_limited_config


@pytest.fixture
def make_app(tmp_path, made_apps: list[Flask]):
    """An app with rate limits on, behind `hops` trusted proxies, with two staff members."""
    made = made_apps

    def make(hops: int, **settings: object) -> Flask:
        url = f"sqlite:///{tmp_path / f'proxies{len(made)}.db'}"
        app = create_app(rate_limited_config(url, TRUSTED_PROXIES=hops, **settings))
        with app.app_context():
            _db.create_all()
            now = datetime.now(UTC)
            seed_platforms(_db.session, now)
            for email in ("ops@example.com", "victim@example.com"):
                make_user(_db.session, "css", email)
            _db.session.remove()
        made.append(app)
        return app

    return make


def bad_login(client: FlaskClient, email: str, client_ip: str | None = None) -> int:
    headers = {"X-Forwarded-For": client_ip} if client_ip else {}
    return client.post(
        "/login", data={"email": email, "password": "not the password"}, headers=headers
    ).status_code


def subscribe(client: FlaskClient, i: int, client_ip: str) -> int:
    return client.post(
        "/subscribe",
        data={
            "email": f"reader{i}@example.com",
            "platforms": "cisco",
            "language": "en",
            "timezone": "UTC",
            "incidents": "y",
        },
        headers={"X-Forwarded-For": client_ip},
    ).status_code


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_login_budget(make_app):
    client = make_app(1).test_client()
    first = [bad_login(client, f"u{i}@example.com", "203.0.113.1") for i in range(11)]
    assert first == [401] * 10 + [429]
    assert bad_login(client, "someone@example.com", "203.0.113.2") == 401


def test_without_trusted_proxies_the_forwarded_header_is_ignored(make_app):
    client = make_app(0).test_client()
    codes = [bad_login(client, f"u{i}@example.com", f"203.0.113.{i}") for i in range(11)]
    assert codes == [401] * 10 + [429]


def test_only_the_trusted_hops_are_believed(make_app):
    """With one trusted proxy, an address the client itself put in front is ignored."""
    client = make_app(1).test_client()
    for i in range(10):
        assert bad_login(client, f"u{i}@example.com", f"198.51.100.{i}, 203.0.113.1") == 401
    assert bad_login(client, "u10@example.com", "198.51.100.99, 203.0.113.1") == 429


def test_bad_logins_against_one_account_do_not_lock_out_another(make_app):
    app = make_app(1)
    client = app.test_client()
    codes = [bad_login(client, "Victim@Example.com", f"203.0.113.{i}") for i in range(6)]
    assert codes == [401] * 5 + [429]  # many clients, one account: the account's budget
    assert bad_login(client, "victim@example.com", "203.0.113.200") == 429
    ok = client.post(
        "/login",
        data={"email": "ops@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.0"},
    )
    assert ok.status_code == 302


def test_a_good_login_does_not_spend_the_accounts_budget(make_app):
    client = make_app(1).test_client()
    for i in range(6):
        response = client.post(
            "/login",
            data={"email": "ops@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        assert response.status_code == 302
        client.post("/logout", headers={"X-Forwarded-For": f"203.0.113.{i}"})
        client.delete_cookie("session")


def test_subscribe_is_limited_per_forwarded_client_not_worldwide(make_app):
    client = make_app(1).test_client()
    codes = [subscribe(client, i, "203.0.113.1") for i in range(11)]
    assert codes == [200] * 10 + [429]
    assert subscribe(client, 99, "203.0.113.2") == 200


def test_a_trusted_proxy_tells_the_scheme_and_host(make_app):
    client = make_app(1, EXTRA_TRUSTED_HOSTS="status.example.com").test_client()
    response = client.get(
        "/login",
        headers={
            "X-Forwarded-For": "203.0.113.1",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "status.example.com",
        },
    )
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers
    untrusted = make_app(0).test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in untrusted.headers
