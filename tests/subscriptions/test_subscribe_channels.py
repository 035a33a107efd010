"""/subscribe offers a webhook, a Microsoft Teams channel and a Slack channel besides email
(issue 9): the chosen way decides which address is used, every mistake comes in one round,
nothing is written on a mistake, and the manage link of a channel never confirms it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from statuspage.models import Notice, Subscriber, Subscription
from statuspage.services.subscriptions import channel_signup, links
from tests.helpers import count
from tests.subscriptions.forms import post_subscribe, save_manage

HOOK = "http://127.0.0.1:9/hooks/abcdefghijklmnopqrstuvwxyz"
FIELD = {"webhook": "webhook_url", "teams": "teams_url", "slack": "slack_url"}


@pytest.fixture
def loopback(app):
    """Tests point channels at this machine, as the operator may allow for local testing."""
    app.config["WEBHOOK_ALLOW_LOOPBACK"] = True
    return app


def post_channel(client, channel, url=HOOK, **fields):
    """/subscribe for a channel at `url`, of Cisco and the Contact Centre."""
    field = FIELD.get(channel, "webhook_url")
    chosen = {"channel": channel, field: url, "platforms": ["cisco", "contact-centre"]}
    return post_subscribe(client, **{**chosen, **fields})


@pytest.mark.parametrize("channel", ["webhook", "teams", "slack"])
def test_each_channel_subscribes_a_subscriber_of_its_mode(loopback, client, db, channel):
    response = post_channel(
        client,
        channel,
        language="de",
        timezone="Europe/Berlin",
        maintenance="",
        email="ignored-because-another-way-was-chosen",
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.mode == channel and subscriber.address == HOOK
    assert subscriber.confirmed_at is None  # until the endpoint or the channel answers
    assert (subscriber.language, subscriber.timezone) == ("de", "Europe/Berlin")
    assert sorted((s.platform.slug, s.incidents, s.maintenance) for s in subscriber.subscriptions)[
        :2
    ] == [("cisco", True, False), ("contact-centre", True, False)]
    # Its verification request (a webhook) or welcome card (a channel) is queued.
    notice = db.scalar(select(Notice))
    assert (
        notice.kind == channel_signup.VERIFICATION_KIND
        and notice.direct_subscriber_id == subscriber.id
    )
    # The manage link is given once, here; the URL itself (a credential) is not echoed.
    assert links.manage_path(loopback.config["SECRET_KEY"], subscriber) in html
    assert HOOK not in html and "…wxyz" in html
    if channel == "webhook":
        assert subscriber.webhook_secret in html and "X-Statuspage-Signature" in html
    else:
        assert subscriber.webhook_secret not in html and "welcome message" in html


def test_the_page_explains_where_a_teams_or_slack_url_comes_from(client):
    html = client.get("/subscribe").get_data(as_text=True)
    assert "Post to a channel when a webhook request is received" in html
    assert "incoming webhook" in html and "https://hooks.slack.com/" in html
    for channel in ("email", "webhook", "teams", "slack"):
        assert f'type="radio" value="{channel}"' in html
        assert f'data-channel="{channel}"' in html  # every address field, shown without JS


def test_channel_mistakes_all_come_in_one_round_and_write_nothing(loopback, client, db):
    response = post_channel(
        client,
        "slack",
        url="ftp://example.com/x",
        platforms=["atlantis"],
        timezone="Nowhere/Land",
        language="xx",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    links = set(re.findall(r'href="#([\w-]+)"', summary))
    assert links == {"slack_url", "platforms-0", "timezone", "language"}
    assert 'aria-invalid="true" id="slack_url"' in html
    assert count(db, Subscriber) == count(db, Notice) == count(db, Subscription) == 0


def test_a_bad_page_choice_with_a_good_url_still_writes_nothing(loopback, client, db):
    """The URL passes and the subscriber is made, but the zone is wrong: all rolled back."""
    response = post_channel(client, "teams", timezone="Nowhere/Land")
    assert response.status_code == 422
    assert "not a known time zone" in response.get_data(as_text=True)
    assert count(db, Subscriber) == count(db, Notice) == 0


def test_channels_need_a_topic_like_email(loopback, client, db):
    response = post_channel(client, "webhook", incidents="", maintenance="")
    assert response.status_code == 422
    assert 'href="#incidents"' in response.get_data(as_text=True)
    assert count(db, Subscriber) == 0


def test_an_unknown_way_is_refused(loopback, client, db):
    response = post_channel(client, "carrier-pigeon")
    assert response.status_code == 422
    assert 'href="#channel-0"' in response.get_data(as_text=True)
    assert count(db, Subscriber) == 0


def test_loopback_urls_are_refused_unless_the_operator_allows_them(client, db):
    response = post_channel(client, "webhook")
    assert response.status_code == 422
    assert "loopback" in response.get_data(as_text=True)
    assert count(db, Subscriber) == 0


def test_a_url_already_subscribed_is_refused_by_the_service(loopback, client, db):
    """A URL is not a mailbox: the service says it is already subscribed (its owner holds
    the manage link). The email path keeps answering the same whatever the address."""
    assert post_channel(client, "slack").status_code == 200
    again = post_channel(client, "slack")
    assert again.status_code == 422
    assert "already subscribed" in again.get_data(as_text=True)
    assert count(db, Subscriber) == 1


def test_channel_subscribe_without_csrf_is_refused(loopback, client, db):
    response = client.post(
        "/subscribe", data={"channel": "teams", "teams_url": HOOK, "platforms": "cisco"}
    )
    assert response.status_code == 400
    assert count(db, Subscriber) == 0


def test_a_channel_can_follow_one_incident(loopback, client, db, css, now):
    from statuspage.services import incidents

    incident = incidents.create_incident(db, css, title="Down", priority="P2", now=now)
    db.commit()
    response = post_channel(client, "teams", incident=str(incident.id), platforms=[])
    assert response.status_code == 200
    sub = db.scalar(select(Subscription))
    assert sub.incident_id == incident.id and sub.platform_id is None


def test_the_manage_page_of_a_channel_changes_it_but_never_confirms_it(loopback, client, db):
    post_channel(client, "slack")
    subscriber = db.scalar(select(Subscriber))
    manage = links.manage_path(loopback.config["SECRET_KEY"], subscriber)
    page = client.get(manage).get_data(as_text=True)
    assert "Slack channel" in page and HOOK not in page and "welcome message" in page
    assert "maintenance calendar" not in page  # a channel has no personal calendar
    saved = save_manage(client, manage, "es", "America/Mexico_City", "cisco:maintenance")
    assert saved.status_code == 200
    db.refresh(subscriber)
    assert [(s.platform.slug, s.incidents, s.maintenance) for s in subscriber.subscriptions] == [
        ("cisco", False, True)
    ]
    assert subscriber.language == "es"
    # Whoever subscribed the URL holds this link: saving proves nothing about the channel.
    assert subscriber.confirmed_at is None
    assert all(s.confirmed_at is None for s in subscriber.subscriptions)
    unsubscribed = client.post(links.unsubscribe_path(loopback.config["SECRET_KEY"], subscriber))
    assert unsubscribed.status_code == 200
    assert count(db, Subscription) == 0


SLACK_URL = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXX"
TEAMS_URL = "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d"


@pytest.mark.parametrize(
    ("language", "channel", "url", "says"),
    [
        ("en", "teams", SLACK_URL, "this is a Slack incoming webhook: choose “Slack channel”"),
        ("es", "teams", SLACK_URL, "elija «Canal de Slack»"),
        ("de", "slack", TEAMS_URL, "wählen Sie „Kanal in Microsoft Teams“"),
    ],
)
def test_a_url_of_the_other_kind_is_a_field_error_naming_the_right_one(
    client, db, resolver, guard, language, channel, url, says
):
    """The person sees why at the field, in their language, instead of "Almost done" for a
    channel that could never be confirmed."""
    resolver.update(
        {"hooks.slack.com": "93.184.216.34", "contoso.webhook.office.com": "93.184.216.34"}
    )
    client.set_cookie("lang", language)
    response = post_channel(client, channel, url=url)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'aria-invalid="true" id="{FIELD[channel]}"' in html
    assert says in html
    assert count(db, Subscriber) == count(db, Notice) == 0 and guard == []


def test_the_page_takes_the_channel_hosts_from_the_settings(app, client, db, resolver, guard):
    resolver["chat.example.net"] = "93.184.216.34"
    url = "https://chat.example.net/hooks/x"
    assert post_channel(client, "slack", url=url).status_code == 422
    app.config["SLACK_WEBHOOK_HOSTS"] = ["hooks.slack.com", "chat.example.net"]
    assert post_channel(client, "slack", url=url).status_code == 200
    assert db.scalar(select(Subscriber)).address == url and guard == []
