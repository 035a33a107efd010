"""Statuspage's subscriber endpoints of the Manage API v1: list, create, show, unsubscribe and
resend the confirmation, with Statuspage's shapes, status codes and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage.endpoints import masked_url as masked
from statuspage.models import AuditEntry, Notice, Platform, Subscriber, Subscription
from statuspage.services.subscriptions import staff_api
from tests.api.support import BASE, token_for
from tests.helpers import NOW, make_user

SUBSCRIBERS = f"{BASE}/subscribers"


def platform_id(db, slug: str) -> str:
    return str(db.scalar(select(Platform.id).where(Platform.slug == slug)))


def counts(db) -> tuple[int, ...]:
    return tuple(
        db.scalar(select(func.count()).select_from(model))
        for model in (Subscriber, Subscription, AuditEntry, Notice)
    )


def confirmation_mails(db, email: str) -> int:
    return db.scalar(
        select(func.count())
        .select_from(Notice)
        .where(Notice.kind == "subscription_confirm", Notice.direct_address == email)
    )


def add(client, headers, **fields):
    return client.post(SUBSCRIBERS, headers=headers, json={"subscriber": fields})


def test_every_subscriber_route_needs_a_token_and_the_right_page(client, db):
    headers = token_for(db, "css")
    for method, path in (
        ("GET", SUBSCRIBERS),
        ("POST", SUBSCRIBERS),
        ("GET", f"{SUBSCRIBERS}/1"),
        ("DELETE", f"{SUBSCRIBERS}/1"),
        ("POST", f"{SUBSCRIBERS}/1/resend_confirmation"),
    ):
        response = client.open(path, method=method, json={"subscriber": {"email": "a@b.example"}})
        assert response.status_code == 401 and response.is_json, (method, path)
    assert client.get("/api/v1/pages/other/subscribers", headers=headers).status_code == 404
    assert counts(db)[0] == 0


def test_css_adds_a_confirmed_subscriber_when_confirmation_is_skipped(client, db):
    headers = token_for(db, "css")
    cisco = platform_id(db, "cisco")
    response = add(
        client,
        headers,
        email="NOC@Customer.example",
        component_ids=[cisco],
        skip_confirmation_notification=True,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == str(int(body["id"]))
    assert body["mode"] == "email" and body["email"] == "noc@customer.example"
    assert body["components"] == [cisco] and body["skip_confirmation_notification"] is True
    assert body["quarantined_at"] is None and body["purge_at"] is None
    assert body["created_at"].endswith("Z") and body["state"] == "active"
    subscriber = db.get(Subscriber, int(body["id"]))
    assert subscriber.confirmed_at is not None and subscriber.source == "api"
    [sub] = subscriber.subscriptions
    assert sub.incidents and sub.maintenance and sub.confirmed_at is not None
    assert confirmation_mails(db, "noc@customer.example") == 0
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.create"))
    assert entry.actor_label == "api-css@example.com" and entry.after["state"] == "active"


def test_without_the_flag_the_address_opts_in_by_mail_and_waits(client, db):
    """Statuspage's rule: only skip_confirmation_notification opts an address in at once."""
    headers = token_for(db, "admin")
    response = add(client, headers, email="ops@customer.example")
    assert response.status_code == 201
    body = response.get_json()
    assert body["state"] == "unconfirmed" and body["skip_confirmation_notification"] is False
    # No component_ids: every platform, as a Statuspage page subscriber.
    assert len(body["components"]) == db.scalar(select(func.count()).select_from(Platform))
    assert confirmation_mails(db, "ops@customer.example") == 1
    active = client.get(SUBSCRIBERS, headers=headers).get_json()
    waiting = client.get(f"{SUBSCRIBERS}?state=unconfirmed", headers=headers).get_json()
    assert active == [] and [s["id"] for s in waiting] == [body["id"]]


def test_an_engineer_token_lists_and_reads_but_cannot_change_subscribers(client, db, css):
    headers = token_for(db, "engineer")
    known = staff_api.create_by_staff(
        db, css, secret="s", email="a@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    assert client.get(SUBSCRIBERS, headers=headers).status_code == 200
    assert client.get(f"{SUBSCRIBERS}/{known.id}", headers=headers).status_code == 200
    before = counts(db)  # the reads noted the token's use (audited hourly); no more is written
    refused = [
        add(client, headers, email="b@customer.example"),
        client.delete(f"{SUBSCRIBERS}/{known.id}", headers=headers),
        client.post(f"{SUBSCRIBERS}/{known.id}/resend_confirmation", headers=headers),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert all("css" in r.get_json()["error"] for r in refused)
    db.expire_all()
    assert counts(db) == before and db.get(Subscriber, known.id).state == "active"


def test_show_one_and_unknown_ids_are_404(client, db, css):
    headers = token_for(db, "engineer")
    known = staff_api.create_by_staff(
        db, css, secret="s", email="a@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    shown = client.get(f"{SUBSCRIBERS}/{known.id}", headers=headers)
    assert shown.status_code == 200 and shown.get_json()["email"] == "a@customer.example"
    css_headers = token_for(db, "css")
    for path in ("999", "abc", "99999999999999999999999", "-1"):
        for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/resend_confirmation")):
            response = client.open(
                f"{SUBSCRIBERS}/{path}{suffix}", method=method, headers=css_headers
            )
            assert response.status_code == 404 and response.is_json, (method, path)


def test_delete_unsubscribes_and_retires_the_links(client, db, css):
    headers = token_for(db, "css")
    known = staff_api.create_by_staff(
        db, css, secret="s", email="a@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    version = known.token_version
    response = client.delete(f"{SUBSCRIBERS}/{known.id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["state"] == "unsubscribed" and body["components"] == []
    db.expire_all()
    gone = db.get(Subscriber, known.id)
    assert gone.subscriptions == [] and gone.confirmed_at is None
    assert gone.token_version == version + 1
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "subscribers.unsubscribe"))
    assert entry.before["state"] == "active" and entry.after["state"] == "unsubscribed"
    again = client.delete(f"{SUBSCRIBERS}/{known.id}", headers=headers)
    assert again.status_code == 409 and "subscriber" in again.get_json()["errors"]
    assert client.get(SUBSCRIBERS, headers=headers).get_json() == []
    listed = client.get(f"{SUBSCRIBERS}?state=unsubscribed", headers=headers).get_json()
    assert [s["id"] for s in listed] == [str(known.id)]
    # An address that left can be added again; it opts in afresh.
    back = add(client, headers, email="a@customer.example")
    assert back.status_code == 201 and back.get_json()["id"] == str(known.id)
    assert back.get_json()["state"] == "unconfirmed"


def test_resend_confirmation_mails_an_unconfirmed_address_within_its_allowance(client, db, app):
    headers = token_for(db, "css")
    created = add(client, headers, email="late@customer.example").get_json()
    path = f"{SUBSCRIBERS}/{created['id']}/resend_confirmation"
    # The address had its mail at creation: the allowance holds for staff too.
    too_soon = client.post(path, headers=headers)
    assert too_soon.status_code == 409 and "subscriber" in too_soon.get_json()["errors"]
    assert confirmation_mails(db, "late@customer.example") == 1
    app.config["FIXED_NOW"] = NOW + timedelta(minutes=11)
    later = client.post(path, headers=headers)
    assert later.status_code == 201 and later.get_json()["state"] == "unconfirmed"
    assert confirmation_mails(db, "late@customer.example") == 2
    assert db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "subscribers.resend_confirmation")
    )
    confirmed = add(
        client, headers, email="ok@customer.example", skip_confirmation_notification=True
    ).get_json()
    refused = client.post(f"{SUBSCRIBERS}/{confirmed['id']}/resend_confirmation", headers=headers)
    assert refused.status_code == 409
    assert refused.get_json()["errors"]["subscriber"] == "is already confirmed"


def test_list_pages_from_zero_filters_and_sorts(client, db, css):
    headers = token_for(db, "engineer")
    for n, name in enumerate(["delta", "alpha", "echo", "charlie", "bravo"]):
        staff_api.create_by_staff(
            db,
            css,
            secret="s",
            email=f"{name}@customer.example",
            skip_confirmation=True,
            now=NOW + timedelta(minutes=n),
        )
    staff_api.create_by_staff(db, css, secret="s", email="wait@customer.example", now=NOW)
    db.commit()

    def emails(query: str) -> list[str]:
        response = client.get(f"{SUBSCRIBERS}?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [s["email"].split("@")[0] for s in response.get_json()]

    assert emails("") == ["delta", "alpha", "echo", "charlie", "bravo"]
    assert emails("limit=2") == ["delta", "alpha"]
    assert emails("limit=2&page=1") == ["echo", "charlie"]
    assert emails("per_page=2&page=2") == ["bravo"]
    assert emails("limit=2&page=3") == []
    assert emails("sort_field=primary") == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert emails("sort_field=primary&sort_direction=desc&limit=1") == ["echo"]
    assert emails("q=ALP") == ["alpha"]
    assert emails("q=%25") == []  # a LIKE wildcard is searched for, not obeyed
    assert emails("state=unconfirmed") == ["wait"]
    assert len(emails("state=all")) == 6
    assert emails("state=quarantined") == []
    assert emails("type=email&limit=1") == ["delta"]
    assert emails("type=webhook") == [] and emails("type=sms") == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("per_page=x", "per_page"),
        ("page=-1", "page"),
        ("page=x", "page"),
        ("type=pigeon", "type"),
        ("state=bogus", "state"),
        ("sort_field=email", "sort_field"),
        ("sort_direction=up", "sort_direction"),
    ],
)
def test_bad_list_parameters_are_422_with_field_errors(client, db, query, field):
    headers = token_for(db, "engineer")
    response = client.get(f"{SUBSCRIBERS}?{query}", headers=headers)
    assert response.status_code == 422 and field in response.get_json()["errors"]


BAD = [
    ({"email": "a@customer.example"}, "subscriber"),
    (["not", "an", "object"], "subscriber"),
    ({"subscriber": {}}, "email"),
    ({"subscriber": {"email": 42}}, "email"),
    ({"subscriber": {"email": "not an address"}}, "email"),
    ({"subscriber": {"email": "a\x00@customer.example"}}, "email"),
    ({"subscriber": {"email": "a@customer.example", "component_ids": "1"}}, "component_ids"),
    ({"subscriber": {"email": "a@customer.example", "component_ids": []}}, "component_ids"),
    ({"subscriber": {"email": "a@customer.example", "component_ids": ["999"]}}, "component_ids"),
    ({"subscriber": {"email": "a@customer.example", "component_ids": [True]}}, "component_ids"),
    (
        {"subscriber": {"email": "a@customer.example", "component_ids": ["1"] * 1000}},
        "component_ids",
    ),
    (
        {"subscriber": {"email": "a@customer.example", "skip_confirmation_notification": "yes"}},
        "skip_confirmation_notification",
    ),
    ({"subscriber": {"email": "a@b.example", "endpoint": "https://hook.example"}}, "endpoint"),
    ({"subscriber": {"phone_number": "5555550100", "phone_country": "us"}}, "phone_number"),
    ({"subscriber": {"type": "sms", "email": "a@customer.example"}}, "phone_number"),
    ({"subscriber": {"type": "teams"}}, "endpoint"),
    ({"subscriber": {"type": "pigeon", "endpoint": "https://hook.example"}}, "type"),
    ({"subscriber": {"type": "slack", "endpoint": 42}}, "endpoint"),
    ({"subscriber": {"type": "integration_partner", "endpoint": "https://x.example"}}, "type"),
]


@pytest.mark.parametrize("body, field", BAD)
def test_bad_create_bodies_are_422_with_field_errors_and_write_nothing(
    client, db, css, body, field
):
    headers = token_for(db, "css")
    staff_api.create_by_staff(
        db, css, secret="s", email="known@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    before = counts(db)
    response = client.post(SUBSCRIBERS, headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert counts(db) == before


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("", {"subscriber": {"email": "known@customer.example"}}, "email"),
        ("/{id}", None, "subscriber"),
        ("/{id}/resend_confirmation", None, "subscriber"),
    ],
)
def test_a_request_the_present_state_refuses_is_a_409_conflict_naming_the_field(
    client, db, css, path, body, field
):
    """Well formed, but what is there now stands in the way (an address already subscribed,
    already unsubscribed, already confirmed): 409, not 422, with the JSON error body the
    document declares, and nothing written."""
    headers = token_for(db, "css")
    known = staff_api.create_by_staff(
        db, css, secret="s", email="known@customer.example", skip_confirmation=True, now=NOW
    )
    db.commit()
    if path == "/{id}":
        assert client.delete(f"{SUBSCRIBERS}/{known.id}", headers=headers).status_code == 200
    before = counts(db)
    response = client.open(
        f"{SUBSCRIBERS}{path.replace('{id}', str(known.id))}",
        method="DELETE" if path == "/{id}" else "POST",
        headers=headers,
        json=body,
    )
    assert response.status_code == 409, response.get_json()
    answer = response.get_json()
    assert answer["error"] == "conflict" and field in answer["errors"]
    assert counts(db) == before


def test_a_form_encoded_or_empty_body_is_422(client, db):
    headers = token_for(db, "css")
    form = client.post(
        SUBSCRIBERS,
        headers=headers,
        data="subscriber[email]=a@b.example",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 422 and counts(db)[0] == 0
    assert client.post(SUBSCRIBERS, headers=headers).status_code == 422


def test_the_staff_service_checks_the_role_itself(db, engineer):
    from statuspage.services import PermissionDenied

    make_user(db, "css", "other-css@example.com")
    with pytest.raises(PermissionDenied):
        staff_api.create_by_staff(db, engineer, secret="s", email="x@customer.example", now=NOW)


@pytest.mark.parametrize("kind", ["teams", "slack"])
def test_a_teams_or_slack_channel_is_added_with_its_endpoint(app, client, db, kind):
    """This product's extension of Statuspage's subscriber `type`: a Microsoft Teams or Slack
    channel's incoming webhook, added like Statuspage's webhook (by `endpoint`)."""
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True  # the test's endpoint is on 127.0.0.1
    headers = token_for(db, "css")
    url = f"http://127.0.0.1:9/{kind}-hook"
    cisco = platform_id(db, "cisco")
    response = add(client, headers, type=kind, endpoint=url, component_ids=[cisco])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["mode"], body["endpoint"], body["email"]) == (kind, masked(url), None)
    assert body["components"] == [cisco] and body["secret"]
    assert db.get(Subscriber, int(body["id"])).mode == kind
    listed = client.get(f"{SUBSCRIBERS}?type={kind}&state=all", headers=headers).get_json()
    assert [s["id"] for s in listed] == [body["id"]] and "secret" not in listed[0]
    assert client.get(f"{SUBSCRIBERS}?type=webhook&state=all", headers=headers).get_json() == []


def test_fields_this_page_does_not_know_are_ignored(client, db):
    """Statuspage clients send fields this page has no use for: they never cause a refusal."""
    headers = token_for(db, "css")
    response = add(
        client,
        headers,
        email="noc@customer.example",
        page_access_user_id="abc",
        skip_confirmation_notification=True,
        anything={"nested": [1, 2]},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["state"] == "active"


def test_an_address_mail_cannot_reach_is_refused_and_an_idn_domain_is_kept(client, db):
    """The API reads addresses through the service's check: a part before the @ that is not
    ASCII cannot be delivered (no SMTPUTF8) and is refused; an internationalised domain is
    kept, and mailed as IDNA."""
    headers = token_for(db, "css")
    refused = add(client, headers, email="x.ù@example.com", skip_confirmation_notification=True)
    assert refused.status_code == 422
    assert "ASCII only" in refused.get_json()["errors"]["email"]
    assert counts(db)[0] == 0
    kept = add(client, headers, email="Ann@Bücher.example", skip_confirmation_notification=True)
    assert kept.status_code == 201, kept.get_json()
    assert kept.get_json()["email"] == "ann@bücher.example"
