"""The public subscription pages over HTTP: no enumeration, CSRF, signed links, limits."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import Notice, Subscriber, Subscription
from statuspage.seed.defaults import seed_platforms
from statuspage.services.subscriptions import links, signup
from tests.subscriptions.forms import csrf_token, post_subscribe, save_manage


def test_subscribe_form_lists_platforms_with_labels(client):
    html = client.get("/subscribe").get_data(as_text=True)
    assert "Microsoft Teams (Operator Connect)" in html
    assert '<label for="email">' in html


def test_subscribe_answers_the_same_for_known_and_unknown(client, db):
    first = post_subscribe(client, email="known@example.com", platforms=["cisco"])
    again = post_subscribe(client, email="known@example.com", platforms=["cisco"])
    fresh = post_subscribe(client, email="fresh@example.com", platforms=["cisco"])
    assert first.status_code == again.status_code == fresh.status_code == 200
    strip = lambda r: re.sub(r"csrf_token[^>]+", "", r.get_data(as_text=True))  # noqa: E731
    assert strip(again) == strip(fresh)
    # The second mail to the known address waits out the confirmation throttle, silently.
    assert db.scalar(select(func.count()).select_from(Notice)) == 2


def test_subscribe_without_csrf_is_refused_and_writes_nothing(client, db):
    response = client.post("/subscribe", data={"email": "a@example.com", "platforms": "cisco"})
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "nope", "platforms": ["cisco"]}, "email"),
        ({"email": "a@example.com"}, "choose at least one platform"),
        ({"email": "a@example.com", "platforms": ["atlantis"]}, "unknown platform"),
        (
            {"email": "a@example.com", "platforms": ["cisco"], "timezone": "Nowhere/Land"},
            "not a known time zone",
        ),
        ({"email": "a@example.com", "platforms": ["cisco"], "language": "xx"}, "must be one of"),
        ({"email": "<script>alert(1)</script>@x", "platforms": ["cisco"]}, "email"),
    ],
)
def test_bad_subscribe_input_gets_a_form_error_and_writes_nothing(client, db, fields, message):
    response = post_subscribe(client, **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "<script>alert(1)</script>" not in html
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_confirm_manage_and_one_click_unsubscribe(app, client, db):
    post_subscribe(client, email="a@example.com", platforms=["cisco", "contact-centre"])
    notice = db.scalar(select(Notice))
    link = notice.payload["confirm_url"]
    assert client.get(link).status_code == 200  # shows the button, confirms nothing
    assert db.scalar(select(Subscriber)).confirmed_at is None
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    subscriber = db.scalar(select(Subscriber))
    assert subscriber.confirmed_at is not None
    manage = links.manage_path(app.config["SECRET_KEY"], subscriber)
    page = client.get(manage)
    assert page.status_code == 200 and "a@example.com" in page.get_data(as_text=True)
    saved = save_manage(client, manage, "de", "Europe/Berlin", "cisco:incidents")
    assert saved.status_code == 200
    db.refresh(subscriber)
    assert subscriber.language == "de"
    assert [(s.platform.slug, s.incidents, s.maintenance) for s in subscriber.subscriptions] == [
        ("cisco", True, False)
    ]
    unsubscribe = links.unsubscribe_path(app.config["SECRET_KEY"], subscriber)
    confirm_page = client.get(unsubscribe)
    assert confirm_page.status_code == 200 and "<form" in confirm_page.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Subscription)) == 1  # GET changes nothing
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without any form token.
    done = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert db.scalar(select(func.count()).select_from(Subscription)) == 0


def test_forged_links_are_not_found(client, db):
    for path in (
        "/subscriptions/confirm/abc",
        "/subscriptions/manage/abc.def.ghi",
        "/subscriptions/unsubscribe/x",
    ):
        assert client.get(path).status_code == 404
    assert client.post("/subscriptions/unsubscribe/x").status_code == 404


def test_incident_subscription_from_its_page(client, db, css, now):
    from statuspage.services import incidents

    incident = incidents.create_incident(db, css, title="Down", priority="P2", now=now)
    db.commit()
    page = client.get(f"/subscribe?incident={incident.id}").get_data(as_text=True)
    assert "Down" in page
    response = post_subscribe(client, email="b@example.com", incident=str(incident.id))
    assert response.status_code == 200
    sub = db.scalar(select(Subscription))
    assert sub.incident_id == incident.id and sub.platform_id is None


def test_subscribe_is_rate_limited(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-long-enough-for-create-app",
            "RATELIMIT_ENABLED": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'rl.db'}",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        _db.create_all()
        from datetime import UTC, datetime

        seed_platforms(_db.session, datetime.now(UTC))
        _db.session.commit()
        client = app.test_client()
        codes = [
            client.post(
                "/subscribe",
                data={
                    "email": f"u{i}@example.com",
                    "platforms": "cisco",
                    "language": "en",
                    "timezone": "UTC",
                    "incidents": "y",
                },
            ).status_code
            for i in range(12)
        ]
        _db.session.remove()
        _db.engine.dispose()
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]


# --- issue 8: the form's layout, its errors and the time zone list -----------------------


class Tree(HTMLParser):
    """Each element's tag and attributes with those of its ancestors: enough to check where
    an input sits (inside a label, a fieldset) without a browser."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.elements: list[tuple[str, dict[str, str], list[tuple[str, dict[str, str]]]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = (tag, {k: v or "" for k, v in attrs})
        self.elements.append((*element, list(self.stack)))
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def find(self, tag: str, **attrs: str):
        return [
            (a, parents)
            for t, a, parents in self.elements
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def ids(self) -> set[str]:
        return {a["id"] for _, a, _ in self.elements if "id" in a}


def test_every_checkbox_and_radio_sits_inside_its_label_in_a_fieldset(client):
    page = Tree(client.get("/subscribe").get_data(as_text=True))
    boxes = page.find("input", type="checkbox") + page.find("input", type="radio")
    assert len(boxes) >= 7 + 2 + 4  # platforms, incidents/maintenance, the four channels
    for attrs, parents in boxes:
        label = parents[-1]
        assert label[0] == "label" and label[1]["for"] == attrs["id"], attrs
        assert "choice" in label[1]["class"]
        assert any(tag == "fieldset" for tag, _ in parents), attrs
    legends = [t for t, _, parents in page.elements if t == "legend"]
    assert len(legends) >= 3  # how, platforms, notices


def test_field_macro_puts_a_checkbox_beside_its_label_for_every_form(app):
    """The shared macro (staff forms use it too) lays out a lone checkbox and a group."""
    from flask import render_template_string
    from flask_wtf import FlaskForm
    from wtforms import BooleanField, RadioField
    from wtforms.fields.choices import SelectChoice

    class Form(FlaskForm):
        active = BooleanField("Active")
        kind = RadioField("Kind", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])

    with app.test_request_context("/"):
        html = render_template_string(
            '{% from "macros/forms.html" import field %}{{ field(form.active) }}'
            "{{ field(form.kind) }}",
            form=Form(meta={"csrf": False}),
        )
    assert re.search(
        r'<label class="choice" for="active"><input id="active"[^>]*> <span>Active', html
    )
    assert re.search(
        r'<fieldset class="field choices" id="kind"[^>]*>\s*<legend>Kind</legend>', html
    )
    assert '<label class="choice" for="kind-1"><input id="kind-1"' in html


def test_every_error_comes_in_one_round_at_the_top_linked_to_its_field(client, db):
    response = post_subscribe(
        client,
        email="not-an-address",
        timezone="Mars/Olympus_Mons",
        language="xx",
        incidents="",
        maintenance="",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', html, re.S)
    assert summary, "no error summary"
    tag = re.search(r'<div class="error-summary"[^>]*>', html).group(0)
    assert 'role="alert"' in tag and 'tabindex="-1"' in tag and "autofocus" in tag
    # Above the form, and before any field.
    assert html.index('class="error-summary"') < html.index("<form")
    links = dict(re.findall(r'<a href="#([\w-]+)">([^<]*)</a>', summary.group(1)))
    assert set(links) == {"email", "platforms-0", "timezone", "language"}
    assert "choose at least one platform" in links["platforms-0"]
    assert "not a known time zone" in links["timezone"]
    page = Tree(html)
    by_id = {a["id"]: a for _, a, _ in page.elements if "id" in a}
    for field_id in ("email", "timezone", "language", "platforms-0"):
        # Each link lands on a field that says it is wrong and points at its message.
        assert by_id[field_id].get("aria-invalid") == "true", field_id
    for _, attrs, _ in page.elements:
        for ref in attrs.get("aria-describedby", "").split():
            assert ref in page.ids(), ref
    assert "Error:" in html.split("</title>")[0]
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.scalar(select(func.count()).select_from(Notice)) == 0


def test_time_zone_is_a_grouped_list_with_the_common_zones_first(client):
    html = client.get("/subscribe").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="timezone"[^>]*>(.*?)</select>', html, re.S).group(1)
    groups = re.findall(r'<optgroup label="([^"]+)">', select_html)
    assert groups[0] == "Common time zones" and {"Europe", "Asia", "Americas"} <= set(groups)
    common = re.search(r'<optgroup label="Common time zones">(.*?)</optgroup>', select_html).group(
        1
    )
    values = re.findall(r'value="([^"]+)"', common)
    assert values[:5] == [
        "America/Denver",
        "America/Phoenix",
        "America/Chicago",
        "America/New_York",
        "America/Los_Angeles",
    ]
    assert {"America/Mexico_City", "Europe/Madrid", "Europe/Berlin", "UTC"} <= set(values)
    assert '<option selected value="America/Denver">' in select_html  # MT without a script
    assert 'value="Asia/Tokyo"' in select_html and 'value="US/Mountain"' not in select_html
    # The filter box is there for the script to reveal; no inline script anywhere.
    assert 'id="timezone-filter"' in html and 'aria-controls="timezone"' in html
    assert "<script>" not in html


def test_a_forged_time_zone_is_refused_with_a_message_and_not_offered_back(client, db):
    response = post_subscribe(
        client, email="a@example.com", platforms=["cisco"], timezone="Etc/<b>Nowhere"
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "not a known time zone" in html and "<b>Nowhere" not in html
    assert "Nowhere" not in re.search(r'<select[^>]*id="timezone".*?</select>', html, re.S).group(0)
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_any_zone_of_the_list_is_accepted(client, db):
    assert (
        post_subscribe(
            client, email="a@example.com", platforms=["cisco"], timezone="Asia/Kolkata"
        ).status_code
        == 200
    )
    assert db.scalar(select(Subscriber.timezone)) == "Asia/Kolkata"


@pytest.mark.parametrize(
    "query, headers, language",
    [("?lang=es", {}, "es"), ("", {"Accept-Language": "de-DE,de;q=0.9"}, "de"), ("", {}, "en")],
)
def test_the_form_language_defaults_to_the_page_language(client, query, headers, language):
    html = client.get(f"/subscribe{query}", headers=headers).get_data(as_text=True)
    assert f'<option selected value="{language}">' in html


def confirmed_subscriber(app, client, db, **fields):
    post_subscribe(client, email="a@example.com", platforms=["cisco"], **fields)
    link = db.scalar(select(Notice)).payload["confirm_url"]
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    subscriber = db.scalar(select(Subscriber))
    return subscriber, links.manage_path(app.config["SECRET_KEY"], subscriber)


def test_unticking_everything_says_nothing_will_be_sent(app, client, db):
    subscriber, manage = confirmed_subscriber(app, client, db)
    page = client.get(manage).get_data(as_text=True)
    # Something is ticked: the live note is empty, and the boxes sit in their labels.
    assert re.search(r'id="nothing-note"[^>]*></p>', page)
    assert '<label class="choice" for="cisco-incidents"><input type="checkbox"' in page
    saved = save_manage(client, manage, "en", "UTC")
    assert saved.status_code == 200
    html = saved.get_data(as_text=True)
    flash = re.search(r'<p class="flash" role="status">([^<]*)</p>', html).group(1)
    assert "Nothing will be sent" in flash
    note = re.search(r'id="nothing-note"[^>]*>([^<]*)</p>', html).group(1)
    assert "Nothing will be sent" in note
    db.refresh(subscriber)
    assert subscriber.subscriptions == []


def test_saving_with_a_box_ticked_says_only_saved(app, client, db):
    _, manage = confirmed_subscriber(app, client, db)
    html = save_manage(client, manage, "en", "UTC", "cisco:maintenance").get_data(as_text=True)
    assert (
        "Your preferences are saved." in html
        and "Nothing will be sent" not in html.split('id="nothing-note"')[0]
    )


def test_manage_errors_come_at_the_top_and_keep_the_boxes_as_left(app, client, db):
    _, manage = confirmed_subscriber(app, client, db)
    response = save_manage(client, manage, "xx", "Nowhere/Land", "contact-centre:incidents")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#language"' in summary and 'href="#timezone"' in summary
    assert re.search(r'id="contact-centre-incidents" name="contact-centre:incidents" checked', html)
    assert not re.search(r'id="cisco-incidents" name="cisco:incidents" checked', html)


def test_platforms_a_stranger_adds_wait_for_their_own_confirmation(app, client, db, now):
    """Anyone may ask /subscribe for more platforms for a known address; the manage page
    shows them as waiting, and saving it (even with their boxes forged in) never confirms
    them: only the confirmation link mailed for them does."""
    subscriber, manage = confirmed_subscriber(app, client, db)
    signup.subscribe(
        db,
        secret=app.config["SECRET_KEY"],
        email="A@example.com",
        platforms=["contact-centre"],
        now=now + timedelta(minutes=11),
    )
    db.commit()
    page = client.get(manage).get_data(as_text=True)
    fieldset = re.search(r"<legend>Contact Centre</legend>.*?</fieldset>", page, re.S).group(0)
    assert "Waiting for confirmation" in fieldset and "checkbox" not in fieldset
    boxes = ("cisco:incidents", "contact-centre:incidents", "contact-centre:maintenance")
    saved = save_manage(client, manage, "en", "UTC", *boxes)
    assert saved.status_code == 200
    db.refresh(subscriber)
    pending = {s.platform.slug: s.confirmed_at for s in subscriber.subscriptions}
    assert pending["cisco"] is not None and pending["contact-centre"] is None
    link = db.scalars(select(Notice).order_by(Notice.id.desc())).first().payload["confirm_url"]
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    db.refresh(subscriber)
    assert all(s.confirmed_at is not None for s in subscriber.subscriptions)
    assert "Waiting for confirmation" not in client.get(manage).get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "use an address whose part before the @ is ASCII only"),
        ("es", "use una dirección cuya parte anterior a la @ sea solo ASCII"),
        ("de", "verwenden Sie eine Adresse, deren Teil vor dem @ nur ASCII enthält"),
    ],
)
def test_an_address_mail_cannot_reach_is_refused_in_the_readers_language(
    client, db, language, says
):
    client.set_cookie("lang", language)
    response = post_subscribe(client, email="x.ù@example.com", platforms=["cisco"])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert says in html and 'aria-invalid="true" id="email"' in html
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_an_internationalised_domain_is_kept_and_its_confirmation_goes_as_ascii(
    app, client, db, now
):
    from jobs import scheduler

    app.config.update(SENDGRID_API_KEY=None)
    assert (
        post_subscribe(client, email="Ann@Bücher.example", platforms=["cisco"]).status_code == 200
    )
    assert db.scalar(select(Subscriber.address)) == "ann@bücher.example"
    scheduler.tick(app, now)
    (name,) = os.listdir(os.path.join(app.instance_path, "mail"))
    with open(os.path.join(app.instance_path, "mail", name), "rb") as fh:
        raw = fh.read()
    assert b"To: ann@xn--bcher-kva.example" in raw
