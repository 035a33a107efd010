"""No English left on Spanish and German: links that open in the reader's language (mail,
cards, feeds, calendars), calendars that take `?lang=`, the mail's invite.ics, the address
checker's and the URL checks' messages, a form sent too often, and the chat hours."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import flask_babel
import icalendar
import pytest
from email_validator import EmailNotValidError, EmailSyntaxError, validate_email
from markupsafe import escape

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.extensions import limiter
from statuspage.i18n import DEFAULT_CHAT_HOURS
from statuspage.i18n import language as in_language
from statuspage.renderers.mail import render_notice
from statuspage.services import addresses
from statuspage.views.caching import render_cache
from tests.channels.messages import payload
from tests.helpers import FAST_HASH, NOW, SECRET_KEY, open_incident
from tests.maintenance_fixtures import one_off
from tests.outbox import add_subscribers, tick
from tests.subscriptions.forms import csrf_token

# What a page, mail or calendar says does not depend on the database: SQLite only.
pytestmark = pytest.mark.one_backend


def page(client, path: str, **headers: str) -> str:
    flask_babel.refresh()  # the test's app context keeps the last request's locale
    return client.get(path, headers=headers).get_data(as_text=True)


# --- links -------------------------------------------------------------------------------


def test_links_in_a_spanish_subscribers_mail_open_in_spanish(app, client, db, css, sendgrid):
    add_subscribers(db, 1, language="es", tz="Europe/Madrid", prefix="es")
    incident = open_incident(db, css)
    tick(app, NOW)
    (mail,) = sendgrid.messages()
    manage = re.search(r"http://localhost(/subscriptions/manage/\S+)", mail.text).group(1)
    assert manage.endswith("?lang=es")
    assert f"http://localhost/incidents/{incident.id}?lang=es" in mail.text
    assert mail.headers["List-Unsubscribe"].endswith("?lang=es>")
    # Opened in a browser that asks for English, the manage page is Spanish.
    assert '<html lang="es">' in page(client, manage, **{"Accept-Language": "en"})
    client.delete_cookie("lang")


def test_invite_ics_of_a_spanish_mail_is_spanish():
    notice = payload("maintenance_week_before")
    notice["calendar"] = {
        "series_key": None,
        "recurrence_id": None,
        "timezone": "America/Denver",
        "sequence": 0,
        "cancelled": False,
    }
    mail = render_notice(
        notice,
        "es",
        "Europe/Madrid",
        site_url="https://status.example",
        organizer_email="status@example.com",
        organizer_name="Status",
    )
    (invite,) = mail.attachments
    (event,) = icalendar.Calendar.from_ical(invite.content).walk("VEVENT")
    description = str(event["DESCRIPTION"])
    assert "Plataformas afectadas: Cisco, Contact Centre" in description
    assert "Justificación: Security fixes" in description
    assert "Platforms affected" not in description and "Justification" not in description


def test_calendars_take_lang_and_speak_it(client, db, css):
    window = one_off(db, css, title="Firmware")
    db.commit()
    english = icalendar.Calendar.from_ical(page(client, "/maintenance.ics").encode())
    spanish = icalendar.Calendar.from_ical(page(client, "/maintenance.ics?lang=es").encode())
    german = icalendar.Calendar.from_ical(
        page(client, "/platforms/cisco/maintenance.ics?lang=de").encode()
    )
    assert str(english["X-WR-CALNAME"]) == "CallTower Network Status maintenance"
    assert str(spanish["X-WR-CALNAME"]) == "CallTower Network Status: mantenimiento"
    assert str(german["X-WR-CALNAME"]) == "CallTower Network Status: Wartung von Cisco"
    assert str(spanish["X-WR-CALDESC"]) == "Ventanas de mantenimiento programado y no programado"
    for calendar, words, lang in (
        (spanish, "Plataformas afectadas", "es"),
        (german, "Betroffene Plattformen", "de"),
    ):
        (event,) = calendar.walk("VEVENT")
        assert words in str(event["DESCRIPTION"]), lang
        assert str(event["URL"]) == f"http://localhost/maintenance/{window.id}?lang={lang}"
        assert str(calendar["URL"]).endswith(f"maintenance.ics?lang={lang}")
    (event,) = english.walk("VEVENT")
    assert str(event["URL"]) == f"http://localhost/maintenance/{window.id}"  # English: none


@pytest.mark.parametrize(
    ("path", "headers", "lang"),
    [
        ("/?lang=es", {}, "es"),
        ("/", {"Accept-Language": "de"}, "de"),  # however the page's language was chosen
        ("/maintenance?lang=de", {}, "de"),
        ("/history?lang=es", {}, "es"),
    ],
)
def test_feed_and_calendar_links_on_spanish_and_german_pages_carry_the_language(
    client, path, headers, lang
):
    html = page(client, path, **headers)
    links = re.findall(r'href="([^"]*(?:\.ics|\.rss|\.atom)[^"]*)"', html)
    assert links and all(link.endswith(f"?lang={lang}") for link in links), links
    assert f'href="webcal://localhost/maintenance.ics?lang={lang}"' in html or (
        "/maintenance.ics" not in html.split("<footer", 1)[0] and path.startswith("/history")
    )


def test_feed_and_calendar_links_on_english_pages_name_no_language(client):
    html = page(client, "/", **{"Accept-Language": "en"})
    links = re.findall(r'href="([^"]*(?:\.ics|\.rss|\.atom)[^"]*)"', html)
    assert links and not any("lang=" in link for link in links)


def test_a_feeds_own_links_open_in_its_language(client, db, css):
    incident = open_incident(db, css)
    feed = ElementTree.fromstring(page(client, "/history.rss?lang=de"))
    channel = feed.find("channel")
    assert channel.findtext("link") == "http://localhost/history?lang=de"
    atom = "{http://www.w3.org/2005/Atom}link"
    assert channel.find(atom).get("href") == "http://localhost/history.rss?lang=de"
    assert channel.findtext("language") == "de"
    (item,) = channel.iter("item")
    assert item.findtext("link") == f"http://localhost/incidents/{incident.id}?lang=de"
    assert item.findtext("guid").startswith(f"http://localhost/incidents/{incident.id}#")


# --- third-party messages ----------------------------------------------------------------------


def checker_says(address: str) -> str:
    """The address checker's own (English) words about `address`."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    raise AssertionError(f"{address} is valid")


ADDRESSES = [
    "nobody",
    "a..b@example.com",
    "ann@localhost",
    "a b@example.com",
    "ann@x.invalid",
    ".ann@example.com",
    "ann@-example.com",
]


@pytest.mark.parametrize("language", ["es", "de"])
@pytest.mark.parametrize("address", ADDRESSES)
def test_the_address_checkers_messages_are_in_the_readers_language(client, address, language):
    english = checker_says(address)
    message = addresses.checker_message(english)
    assert str(message) == english.replace("SPACE", "U+0020")  # the API's words stay as they were
    with in_language(language) as gettext:
        words = gettext(message.template, **message.params)
    assert words != str(message)
    data = {
        "csrf_token": csrf_token(client, f"/subscribe?lang={language}"),
        "channel": "email",
        "email": address,
        "platforms": ["cisco"],
        "incidents": "y",
        "language": language,
        "timezone": "Europe/Madrid",
    }
    flask_babel.refresh()
    response = client.post(f"/subscribe?lang={language}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert str(escape(words)) in text
    assert str(escape(english)) not in text


def test_a_message_the_address_checker_may_add_is_never_shown_in_english(monkeypatch):
    def checker(*args: object, **kwargs: object) -> None:
        raise EmailSyntaxError("The email address is unlike any we know.")

    monkeypatch.setattr(addresses, "validate_email", checker)
    with pytest.raises(addresses.AddressError) as caught:
        addresses.deliverable("ann@example.com")
    assert caught.value.message == addresses.NOT_VALID
    with in_language("de") as gettext:
        assert gettext(caught.value.message) == "Dies ist keine gültige E-Mail-Adresse."


@pytest.mark.parametrize(("language", "words"), [("es", "privada"), ("de", "privat")])
def test_a_refused_address_range_is_named_in_the_readers_language(client, language, words):
    data = {
        "csrf_token": csrf_token(client, f"/subscribe?lang={language}"),
        "channel": "webhook",
        "webhook_url": "https://10.0.0.1/hook",  # an address: nothing is resolved
        "platforms": ["cisco"],
        "incidents": "y",
        "language": language,
        "timezone": "Europe/Madrid",
    }
    flask_babel.refresh()
    text = client.post(f"/subscribe?lang={language}", data=data).get_data(as_text=True)
    assert f"10.0.0.0/8: {words})" in text
    assert "private)" not in text


# --- a form sent too often ---------------------------------------------------------------------


@pytest.fixture
def limited(db_url, now):
    """An app with its rate limits on (they are off in every other test), on the test's
    fresh database; form tokens off where `csrf` is False."""

    def make(csrf: bool = True):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": SECRET_KEY,
                "PASSWORD_HASH_METHOD": FAST_HASH,
                "SQLALCHEMY_DATABASE_URI": db_url,
                "FIXED_NOW": now,
                "STATUSPAGE_URL": "http://localhost",
                "RATELIMIT_ENABLED": True,
                "WTF_CSRF_ENABLED": csrf,
            }
        )
        made.append(app)
        return app

    made: list = []
    try:
        yield make
    finally:
        limiter.enabled = False  # the limiter is one object for every app of the process
        for app in made:
            with app.app_context():
                _db.engine.dispose()


def test_a_form_sent_too_often_comes_back_with_what_was_typed_in_the_readers_language(limited):
    app = limited()
    with app.app_context():
        client = app.test_client()
        data = {
            "channel": "email",
            "email": "nobody",  # a mistake: each try is answered 422 and counted
            "platforms": ["cisco"],
            "incidents": "y",
            "language": "es",
            "timezone": "Europe/Madrid",
        }
        statuses = []
        for _ in range(11):
            data["csrf_token"] = csrf_token(client, "/subscribe?lang=es")
            statuses.append(client.post("/subscribe?lang=es", data=data))
        assert [r.status_code for r in statuses] == [422] * 10 + [429]
        refused = statuses[-1]
        html = refused.get_data(as_text=True)
        assert '<html lang="es">' in html
        assert "Demasiadas solicitudes en poco tiempo: espere" in html
        assert "per 1 minute" not in html and "Too many" not in html
        assert 'value="nobody"' in html  # what was typed is kept
        assert '<option selected value="Europe/Madrid">' in html
        assert int(refused.headers["Retry-After"]) > 0


def test_the_too_many_requests_page_is_in_the_readers_language(limited):
    app = limited(csrf=False)
    with app.app_context():
        client = app.test_client()
        codes = []
        for i in range(11):
            flask_babel.refresh()
            codes.append(
                client.post("/login?lang=de", data={"email": f"u{i}@example.com", "password": "x"})
            )
        refused = codes[-1]
        assert refused.status_code == 429
        html = refused.get_data(as_text=True)
        assert "Zu viele Anfragen" in html and "per 1 minute" not in html


# --- settings that are text -----------------------------------------------------------------------


def test_the_chat_hours_are_in_the_pages_language(app, client):
    assert app.config["SUPPORT_CHAT_HOURS"] == DEFAULT_CHAT_HOURS
    assert DEFAULT_CHAT_HOURS in page(client, "/?lang=en")
    with in_language("es") as gettext:
        spanish = gettext(DEFAULT_CHAT_HOURS)
    assert spanish != DEFAULT_CHAT_HOURS
    html = page(client, "/?lang=es")
    assert spanish in html and DEFAULT_CHAT_HOURS not in html
    # A language's own setting wins; hours the operator wrote are shown as written.
    app.config.update(SUPPORT_CHAT_HOURS_DE="Mo–Fr 6–22 Uhr", SUPPORT_CHAT_HOURS="24/7")
    render_cache().clear()
    assert "Chat: Mo–Fr 6–22 Uhr" in page(client, "/?lang=de")
    assert "Chat: 24/7" in page(client, "/?lang=es")
