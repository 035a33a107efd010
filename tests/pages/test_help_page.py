"""The plan on the page: /help holds the priority table and the support contacts (settings),
every incident links to it and shows its priority's promise, every footer the contacts."""

from __future__ import annotations

import flask_babel
import pytest

from statuspage.models.vocab import PRIORITIES
from statuspage.services import incidents
from tests.helpers import NOW


def test_help_page_holds_the_priority_table(client):
    response = client.get("/help")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for code, p in PRIORITIES.items():
        assert f'<tr role="row" id="{code}">' in page
        for words in (p.label, p.definition, p.initial_response, p.update_frequency):
            assert words in page, words
    assert "Partial/intermittent impairment of critical services affecting multiple users" in page
    assert "estimated time of resolution (ETR)" in page


def test_help_and_every_footer_show_the_plans_contacts(client, db, css):
    found = incidents.create_incident(db, css, title="Down", priority="P2", now=NOW)
    db.commit()
    for path in ("/help", "/", f"/incidents/{found.id}", "/history", "/maintenance"):
        page = client.get(path).get_data(as_text=True)
        assert "(800) 347-5444" in page, path
        assert 'href="http://support.calltower.com"' in page, path
        assert "M-F 5 AM to 12 AM MT, S/Su 8 AM to 5 PM" in page, path
        assert 'href="/help"' in page, path


def test_the_contacts_are_settings(app, client):
    app.config.update(
        SUPPORT_PHONE="+1 555 0100",
        SUPPORT_PORTAL_URL="https://help.example.com",
        SUPPORT_CHAT_HOURS="Always",
    )
    page = client.get("/help").get_data(as_text=True)
    assert "+1 555 0100" in page and 'href="https://help.example.com"' in page
    assert "Always" in page and "347-5444" not in page


@pytest.mark.parametrize(
    ("priority", "promise"),
    [
        ("P2", "Priority 2 — initial response: 30 min; update frequency: 2 hours."),
        ("P4", "Priority 4 — initial response: 1 Business Day; update frequency: 2 Business Days."),
        ("P1G", "Priority 1G (Global) — initial response: Immediate; update frequency: Hourly."),
    ],
)
def test_every_incident_shows_its_promise_and_links_the_plan(client, db, css, priority, promise):
    found = incidents.create_incident(
        db, css, title="Down", priority=priority, case_number="CS-1", now=NOW
    )
    db.commit()
    page = client.get(f"/incidents/{found.id}").get_data(as_text=True)
    assert promise in page
    assert f'href="/help#{priority}"' in page


def test_the_plan_is_in_the_readers_language(client, db, css):
    found = incidents.create_incident(db, css, title="Down", priority="P2", now=NOW)
    db.commit()
    for language, words in (
        ("es", "Frecuencia de actualización"),
        ("de", "Aktualisierungshäufigkeit"),
    ):
        flask_babel.refresh()
        page = client.get(f"/help?lang={language}").get_data(as_text=True)
        assert words in page and "Partial/intermittent impairment" not in page
        flask_babel.refresh()
        page = client.get(f"/incidents/{found.id}?lang={language}").get_data(as_text=True)
        assert "initial response" not in page and ("30 min" in page or "30 Min." in page)
