"""Manage API tokens: named, scoped, expiring, listed with their last use, revocable by
their owner and admins, and revoked with their owner's access. The scope check is proved on
every Manage API route by a walk of the app's route table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from statuspage.contract.operations import SECURED
from statuspage.models import (
    ApiToken,
    AuditEntry,
    Incident,
    IncidentUpdate,
    Platform,
    Subscriber,
    Subscription,
)
from statuspage.services import ValidationError, incidents, staff
from statuspage.services.subscriptions import staff_api
from tests.helpers import NOW, csrf_of, forget_request_state, login, make_user, token_headers

BASE = "/api/v1/pages/calltower"


def manage_api_routes(app):
    """(rule, method, scope) of every Manage API route, from the app's route table."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api_v1."):
            view = app.view_functions[rule.endpoint]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, getattr(view, SECURED, None)


def token(db, user, scopes=staff.TOKEN_SCOPES, **kwargs):
    plaintext, made = staff.create_token(db, None, user, scopes=scopes, now=NOW, **kwargs)
    db.commit()
    return plaintext, made


def data_counts(db) -> tuple[int, ...]:
    models = (Incident, IncidentUpdate, Subscriber, Subscription)
    statuses = tuple(db.scalars(select(Platform.status).order_by(Platform.id)))
    return tuple(db.scalar(select(func.count()).select_from(m)) for m in models) + statuses


def test_every_manage_api_route_declares_its_scope_by_what_it_touches(app):
    routes = list(manage_api_routes(app))
    assert len(routes) >= 17
    for rule, method, scope in routes:
        if "/subscribers" in rule.rule:
            expected = "subscribers"  # personal data, read or written
        else:
            expected = "read" if method == "GET" else "write"
        assert scope == expected, (rule.rule, method, scope)


@pytest.fixture
def world(db, css):
    """An incident with an update, a platform and a subscriber for the routes' ids."""
    incident = incidents.create_incident(db, css, title="Calls dropping", priority="P3", now=NOW)
    subscriber = staff_api.create_by_staff(
        db, css, secret="s", email="a@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    return {
        "page_id": "calltower",
        "incident_id": str(incident.id),
        "component_id": str(db.scalar(select(Platform.id).where(Platform.slug == "cisco"))),
        "subscriber_id": str(subscriber.id),
        "update_id": str(incident.updates[0].id),
    }


def test_a_token_without_a_routes_scope_is_refused_there_and_writes_nothing(
    app, client, db, css, world
):
    for rule, method, scope in manage_api_routes(app):
        others = [s for s in staff.TOKEN_SCOPES if s != scope]
        plaintext, _ = token(db, css, others, name=f"{method} {rule.rule}"[:120])
        before = data_counts(db)
        path = rule.build(world, append_unknown=False)[1]
        forget_request_state()
        response = client.open(path, method=method, headers=token_headers(plaintext), json={})
        assert response.status_code == 403, (method, path, response.status_code)
        assert (
            f'error="insufficient_scope", scope="{scope}"' in (response.headers["WWW-Authenticate"])
        )
        assert scope in response.get_json()["error"]
        db.expire_all()
        assert data_counts(db) == before, (method, path)


def test_a_token_with_a_routes_scope_passes_the_check_there(app, client, db, css, world):
    for rule, method, scope in manage_api_routes(app):
        plaintext, _ = token(db, css, [scope], name=f"{method} {rule.rule}"[:120])
        path = rule.build(world, append_unknown=False)[1]
        forget_request_state()
        response = client.open(path, method=method, headers=token_headers(plaintext), json={})
        assert response.status_code not in (401, 403), (method, path, response.status_code)


def test_the_document_names_each_operations_scope(client):
    spec = client.get("/api/openapi.json").get_json()
    seen = set()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if path.startswith("/api/v1/"):
                [requirement] = op["security"]
                seen.update(requirement["OAuth"])
                assert "403" in op["responses"], (path, method)
    assert seen == set(staff.TOKEN_SCOPES)


def test_a_token_lasts_ninety_days_unless_asked_and_a_year_at_most(db, css):
    _, made = token(db, css)
    assert made.expires_at == NOW + timedelta(days=90)
    for expires in (NOW, NOW - timedelta(days=1), NOW + timedelta(days=367)):
        with pytest.raises(ValidationError) as refused:
            staff.create_token(db, None, css, name="x", expires_at=expires, now=NOW)
        assert "expires" in refused.value.errors
    with pytest.raises(ValidationError) as refused:
        staff.create_token(db, None, css, name="x", scopes=["read", "admin"], now=NOW)
    assert "scopes" in refused.value.errors


def test_an_expired_token_is_refused(app, client, db, css):
    plaintext, _ = token(db, css, expires_at=NOW + timedelta(days=1))
    assert client.get(f"{BASE}/incidents", headers=token_headers(plaintext)).status_code == 200
    app.config["FIXED_NOW"] = NOW + timedelta(days=1)
    forget_request_state()
    assert client.get(f"{BASE}/incidents", headers=token_headers(plaintext)).status_code == 401


def test_a_new_role_revokes_the_users_tokens(client, db, admin, css):
    plaintext, _ = token(db, css)
    staff.update_user(db, admin, css, role="engineer", now=NOW)
    db.commit()
    assert client.get(f"{BASE}/incidents", headers=token_headers(plaintext)).status_code == 401
    db.expire_all()
    assert db.scalar(select(ApiToken.revoked_reason)) == "role changed"


def test_a_tokens_use_is_noted_to_the_minute_and_audited_at_most_hourly(app, client, db, css):
    plaintext, made = token(db, css)
    for after in (0, 30, 120, 3600 + 120, 3600 + 130):
        app.config["FIXED_NOW"] = NOW + timedelta(seconds=after)
        forget_request_state()
        assert client.get(f"{BASE}/incidents", headers=token_headers(plaintext)).status_code == 200
    db.expire_all()
    assert db.get(ApiToken, made.id).last_used_at == NOW + timedelta(seconds=3600 + 120)
    uses = db.scalars(select(AuditEntry.at).where(AuditEntry.action == "token.use")).all()
    assert uses == [NOW, NOW + timedelta(seconds=3600 + 120)]


def test_staff_make_list_and_revoke_their_own_tokens_and_no_one_elses(client, db, admin, engineer):
    theirs, admins_token = token(db, admin, name="the admin's")
    login(client, engineer)
    page = client.get("/admin/account/").get_data(as_text=True)
    assert "the admin&#39;s" not in page and admins_token.prefix not in page
    forget_request_state()
    made = client.post(
        "/admin/account/tokens",
        data={"csrf_token": csrf_of(page), "name": "my script", "scopes": "read", "days": "30"},
    )
    plaintext = re.search(r'<code class="token">([^<]+)</code>', made.get_data(as_text=True))
    mine = db.scalar(select(ApiToken).where(ApiToken.name == "my script"))
    assert plaintext and mine.scopes == "read" and mine.expires_at == NOW + timedelta(days=30)
    assert mine.user_id == engineer.id
    forget_request_state()
    listing = client.get("/admin/account/").get_data(as_text=True)
    assert plaintext.group(1) not in listing and mine.prefix in listing  # shown once
    forget_request_state()
    assert client.get(f"/admin/account/tokens/{admins_token.id}/revoke").status_code == 404
    forget_request_state()
    ask = client.get(f"/admin/account/tokens/{mine.id}/revoke").get_data(as_text=True)
    forget_request_state()
    client.post(
        f"/admin/account/tokens/{mine.id}/revoke",
        data={"rv-csrf_token": csrf_of(ask), "rv-confirm": "yes"},
    )
    db.expire_all()
    assert db.get(ApiToken, mine.id).revoked_at is not None
    assert db.get(ApiToken, admins_token.id).revoked_at is None
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "token.revoke"))
    assert entry.actor_id == engineer.id


def test_the_admin_view_lists_every_token_with_scopes_expiry_and_last_use(client, db, admin):
    engineer = make_user(db, "engineer")
    token(db, engineer, ["read"], name="engineer's monitor")
    token(db, admin, name="admin's deploy", expires_at=NOW + timedelta(days=7))
    login(client, admin)
    page = client.get("/admin/tokens").get_data(as_text=True)
    assert "engineer&#39;s monitor" in page and "admin&#39;s deploy" in page
    assert "engineer@example.com" in page and "read, write, subscribers" in page


def test_tokens_create_takes_scopes_a_name_and_an_expiry(runner: FlaskCliRunner, db, css):
    result = runner.invoke(
        args=[
            "tokens", "create", "css@example.com",
            "--scope", "read", "--scope", "subscribers",
            "--name", "crm sync", "--expires", "30",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    made = staff.token_for(db, plaintext, NOW)
    assert made.name == "crm sync" and made.scopes == "read subscribers"
    assert made.expires_at == NOW + timedelta(days=30)
    dated = runner.invoke(args=["tokens", "create", "css@example.com", "--expires", "2027-01-31"])
    made = staff.token_for(db, dated.output.strip().splitlines()[-1], NOW)
    assert made.expires_at == datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC)
    assert made.scopes == "read write subscribers" and made.name == "command line"
    bad = runner.invoke(args=["tokens", "create", "css@example.com", "--expires", "soon"])
    assert bad.exit_code != 0 and "sp_" not in bad.output
