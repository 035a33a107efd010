"""Incident text in three languages, and corrections of a posted update.

A title and each update may carry Spanish and German versions beside the English original;
staff add them when posting or later; pages, feeds, mail, cards and the APIs give readers
their language where present and the original, marked, where not. A posted update's text
can be corrected: audited with before and after, shown as edited, sent again only when asked.
"""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

import flask_babel
import pytest
from sqlalchemy import select

from statuspage.channels.chat import summary
from statuspage.models import AuditEntry, Incident, IncidentUpdate, Notice
from statuspage.renderers.mail import render_notice
from statuspage.services import ValidationError, incidents
from tests.helpers import NOW, api_headers, csrf_of, login, master_case, post_form

API = "/api/v1/pages/calltower"
LATER = NOW + timedelta(minutes=20)


@pytest.fixture
def case(db, css):
    """A master case whose title and first update have a Spanish version, no German one."""
    spanish = {
        "title_translations": {"es": "Fallan las llamadas en Phoenix"},
        "body_translations": {"es": "Estamos **investigando**."},
    }
    english = {"title": "Calls failing in Phoenix", "body": "We are **investigating**."}
    cisco_down = {"cisco": "major_outage"}
    return master_case(
        db, css, case_number="CS-2026-11873", platforms=cisco_down, **english, **spanish
    )


def page(client, path: str, lang: str) -> str:
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    response = client.get(path, headers={"Accept-Language": lang})
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


# --- the rules in the service -----------------------------------------------------------------


def test_an_incident_and_its_first_update_keep_their_versions(case):
    assert case.title_translations == {"es": "Fallan las llamadas en Phoenix"}
    assert case.title_in("es") == "Fallan las llamadas en Phoenix"
    assert case.title_in("de") == "Calls failing in Phoenix" and not case.has_title_in("de")
    first = case.updates[0]
    assert first.body_in("es") == "Estamos **investigando**." and first.body_in("en") == (
        "We are **investigating**."
    )


@pytest.mark.parametrize(
    "versions, field",
    [
        ({"es": "línea\x00rota"}, "title_es"),
        ({"de": "zwei\nZeilen"}, "title_de"),
        ({"de": "x" * 201}, "title_de"),
        ({"fr": "Appels"}, "title_translations"),
    ],
)
def test_a_title_version_is_held_to_the_titles_rules(db, css, versions, field):
    with pytest.raises(ValidationError) as refused:
        incidents.create_incident(
            db, css, title="Calls", title_translations=versions, priority="P3", now=NOW
        )
    assert field in refused.value.errors
    db.rollback()
    assert db.scalar(select(Incident.id)) is None


def test_a_body_version_is_held_to_the_texts_rules(db, css, case):
    with pytest.raises(ValidationError) as refused:
        incidents.post_update(
            db, css, case, body="x", body_translations={"de": "a\x07b"}, now=LATER
        )
    assert "body_de" in refused.value.errors


def test_staff_add_a_title_version_later_and_a_blank_one_removes_it(db, css, case):
    incidents.edit_incident(
        db, css, case, title_translations={"de": "Anrufe in Phoenix scheitern"}, now=LATER
    )
    assert case.title_translations == {
        "es": "Fallan las llamadas en Phoenix",
        "de": "Anrufe in Phoenix scheitern",
    }
    incidents.edit_incident(db, css, case, title_translations={"es": "  "}, now=LATER)
    assert case.title_translations == {"de": "Anrufe in Phoenix scheitern"}
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.before["title_translations"]["es"] == "Fallan las llamadas en Phoenix"
    assert "es" not in entry.after["title_translations"]


def test_a_correction_changes_the_text_only_and_is_audited_before_and_after(db, css, case):
    first = case.updates[0]
    status, shown_at, changes = first.status, first.display_at, len(first.platform_changes)
    incidents.correct_update(
        db,
        css,
        first,
        body="We are **investigating** calls to Phoenix.",
        body_translations={"de": "Wir untersuchen."},
        now=LATER,
    )
    assert first.body == "We are **investigating** calls to Phoenix."
    assert first.body_translations == {"es": "Estamos **investigando**.", "de": "Wir untersuchen."}
    assert (first.status, first.display_at, len(first.platform_changes)) == (
        status,
        shown_at,
        changes,
    )
    assert first.edited_at == LATER and first.updated_at == LATER
    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "incident.correct_update")
    ).one()
    assert entry.before["body"] == "We are **investigating**."
    assert entry.after["body"] == "We are **investigating** calls to Phoenix."
    assert entry.before["body_translations"] == {"es": "Estamos **investigando**."}
    assert entry.after["body_translations"]["de"] == "Wir untersuchen."


def test_adding_a_missing_version_is_not_an_edit(db, css, case):
    first = case.updates[0]
    incidents.correct_update(db, css, first, body_translations={"de": "Wir prüfen."}, now=LATER)
    assert first.body_translations["de"] == "Wir prüfen." and first.edited_at is None
    incidents.correct_update(db, css, first, body_translations={"es": "Revisamos."}, now=LATER)
    assert first.edited_at == LATER  # Spanish readers had seen the old version


def test_a_correction_that_changes_nothing_or_empties_the_text_is_refused(db, css, case):
    first = case.updates[0]
    for kwargs, field in (
        ({"body": "We are **investigating**."}, "body"),
        ({"body": "   "}, "body"),
    ):
        with pytest.raises(ValidationError) as refused:
            incidents.correct_update(db, css, first, now=LATER, **kwargs)
        assert field in refused.value.errors
        db.rollback()
    assert db.get(IncidentUpdate, first.id).body == "We are **investigating**."


def test_a_correction_tells_subscribers_only_when_asked(db, css, case):
    first = case.updates[0]

    def corrections() -> list[Notice]:
        return list(db.scalars(select(Notice).where(Notice.key.contains(":correction:"))))

    incidents.correct_update(db, css, first, body="Reworded", now=LATER)
    assert corrections() == []
    incidents.correct_update(db, css, first, body="Reworded again", notify=True, now=LATER)
    [notice] = corrections()
    assert notice.kind == "incident_created" and notice.payload["correction"] is True
    assert notice.payload["update"]["body"] == "Reworded again"
    assert notice.payload["update"]["body_translations"] == {"es": "Estamos **investigando**."}


def test_an_engineer_cannot_correct_a_master_case(db, case):
    from statuspage.services import PermissionDenied
    from tests.helpers import make_user

    engineer = make_user(db, "engineer", "text-engineer@example.com")
    with pytest.raises(PermissionDenied):
        incidents.correct_update(db, engineer, case.updates[0], body="Mine", now=LATER)


# --- readers ---------------------------------------------------------------------------------


def test_each_page_gives_the_readers_version_and_marks_the_original(client, case):
    spanish = page(client, f"/incidents/{case.id}", "es")
    assert "Fallan las llamadas en Phoenix" in spanish
    assert "Estamos <strong>investigando</strong>." in spanish
    assert "original en inglés" not in spanish.split("<main")[1].split("</h1>")[0]
    german = page(client, f"/incidents/{case.id}", "de")
    h1 = german.split("<h1>")[1].split("</h1>")[0]
    assert '<span lang="en">Calls failing in Phoenix</span>' in h1
    assert "(Original auf Englisch)" in h1
    assert '<div lang="en"><p>We are <strong>investigating</strong>.</p>' in german
    english = page(client, f"/incidents/{case.id}", "en")
    assert "original in English" not in english and "Calls failing in Phoenix" in english
    for path in ("/", "/history"):  # the banner and the home page's card
        assert "Fallan las llamadas en Phoenix" in page(client, path, "es"), path
    embed = client.get("/embed?lang=es").get_data(as_text=True)
    assert "Fallan las llamadas en Phoenix" in embed


def test_a_correction_shows_as_edited_on_the_page_in_the_api_and_in_the_feeds(
    client, db, css, case
):
    first = case.updates[0]
    incidents.correct_update(db, css, first, body="We are investigating Phoenix.", now=LATER)
    db.commit()
    html = page(client, f"/incidents/{case.id}", "en")
    item = html[html.index(f'id="update-{first.id}"') :]
    assert '<span class="edited">edited' in item.split("</li>")[0]
    assert "We are investigating Phoenix." in item
    [shown] = client.get("/api/v2/incidents.json").get_json()["incidents"]
    update = shown["incident_updates"][-1]
    assert update["body"] == "We are investigating Phoenix."
    assert update["edited_at"] == "2026-11-20T15:20:00.000Z"
    assert update["metadata"]["network_status"]["edited_at"] == "2026-11-20T15:20:00.000Z"
    assert update["updated_at"] == "2026-11-20T15:20:00.000Z"
    rss = client.get("/history.rss?lang=en").get_data(as_text=True)
    entry = next(
        i
        for i in ElementTree.fromstring(rss).iter("item")
        if f"update-{first.id}" in i.findtext("guid")
    )
    assert "edited Fri, Nov 20, 2026, 08:20 MST" in entry.findtext("description")
    atom = client.get("/history.atom?lang=en").get_data(as_text=True)
    assert "2026-11-20T15:20:00+00:00" in atom


def test_feeds_carry_the_feeds_language_where_staff_gave_it(client, case):
    spanish = client.get("/history.rss?lang=es").get_data(as_text=True)
    assert "Fallan las llamadas en Phoenix" in spanish and "investigando" in spanish
    assert "<language>es</language>" in spanish
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    german = client.get("/history.rss?lang=de").get_data(as_text=True)
    assert "Calls failing in Phoenix (Original auf Englisch)" in german


def test_mail_and_cards_give_the_subscribers_language(db, case):
    notice = db.scalars(select(Notice).where(Notice.incident_id == case.id)).first()
    spanish = render_notice(notice.payload, "es", "Europe/Madrid")
    assert "Fallan las llamadas en Phoenix" in spanish.subject
    assert "Estamos investigando." in spanish.text and "original" not in spanish.text
    german = render_notice(notice.payload, "de", "Europe/Berlin")
    assert "Calls failing in Phoenix (Original auf Englisch)" in german.text
    assert '<div lang="en">' in german.html
    card = summary(notice.payload, language="es", provider_tz="America/Denver")
    assert card.title == "Fallan las llamadas en Phoenix"
    assert card.sections[0][1] == "Estamos investigando."
    card = summary(notice.payload, language="de", provider_tz="America/Denver")
    assert card.title == "Calls failing in Phoenix (Original auf Englisch)"


def test_a_corrected_notice_says_so(db, css, case):
    incidents.correct_update(db, css, case.updates[0], body="Fixed wording", notify=True, now=LATER)
    notice = db.scalars(select(Notice).where(Notice.key.contains(":correction:"))).one()
    mail = render_notice(notice.payload, "de", "Europe/Berlin")
    assert "Korrektur" in mail.subject
    assert "Korrektur" in summary(notice.payload, language="de", provider_tz="UTC").heading


# --- the APIs --------------------------------------------------------------------------------


@pytest.fixture
def headers(db, css):
    return api_headers(db, css)


def test_the_apis_carry_the_versions_under_metadata(client, headers, case):
    public = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"][0]
    ours = public["metadata"]["network_status"]
    assert ours == {"name_translations": {"es": "Fallan las llamadas en Phoenix"}}
    assert public["name"] == "Calls failing in Phoenix"  # Statuspage's field: the original
    update = public["incident_updates"][0]
    assert update["metadata"]["network_status"]["body_translations"] == {
        "es": "Estamos **investigando**."
    }
    manage = client.get(f"{API}/incidents/{case.id}", headers=headers).get_json()
    assert manage["metadata"] == public["metadata"]


def test_the_manage_api_takes_versions_in_its_namespace_or_at_the_top(client, db, headers, case):
    response = client.patch(
        f"{API}/incidents/{case.id}",
        headers=headers,
        json={
            "incident": {
                "body": "Rerouting calls.",
                "metadata": {
                    "network_status": {
                        "name_translations": {"de": "Anrufe in Phoenix scheitern"},
                        "body_translations": {"es": "Desviando llamadas.", "de": "Umleitung."},
                    }
                },
            }
        },
    )
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown["metadata"]["network_status"]["name_translations"]["de"] == (
        "Anrufe in Phoenix scheitern"
    )
    newest = shown["incident_updates"][0]
    assert newest["metadata"]["network_status"]["body_translations"] == {
        "es": "Desviando llamadas.",
        "de": "Umleitung.",
    }
    refused = client.patch(
        f"{API}/incidents/{case.id}",
        headers=headers,
        json={"incident": {"body": "x", "body_translations": {"fr": "Non"}}},
    )
    assert refused.status_code == 422


def test_the_manage_api_corrects_an_update_as_statuspage_does(client, db, headers, case):
    first = case.updates[0]
    path = f"{API}/incidents/{case.id}/incident_updates/{first.id}"
    response = client.patch(
        path,
        headers=headers,
        json={"incident_update": {"body": "We are investigating Phoenix calls."}},
    )
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown["body"] == "We are investigating Phoenix calls."
    assert shown["edited_at"] is not None and shown["status"] == "investigating"
    assert db.scalars(select(Notice).where(Notice.key.contains(":correction:"))).all() == []
    again = client.patch(
        path,
        headers=headers,
        json={"incident_update": {"body": "Reworded.", "deliver_notifications": True}},
    )
    assert again.status_code == 200
    assert len(db.scalars(select(Notice).where(Notice.key.contains(":correction:"))).all()) == 1
    same = client.patch(path, headers=headers, json={"incident_update": {"body": "Reworded."}})
    assert same.status_code == 422 and "body" in same.get_json()["errors"]
    other = incidents.create_incident(db, case.created_by, title="Other", priority="P3", now=NOW)
    db.commit()
    wrong = f"{API}/incidents/{other.id}/incident_updates/{first.id}"
    assert (
        client.patch(wrong, headers=headers, json={"incident_update": {"body": "x"}}).status_code
        == 404
    )


# --- the staff forms -------------------------------------------------------------------------


def test_staff_post_an_update_with_its_versions(client, db, css, case):
    login(client, css)
    path = f"/admin/incidents/{case.id}"
    versions = {
        "body_es": "Una ruta del operador está caída.",
        "body_de": "Eine Carrier-Route ist ausgefallen.",
    }
    response = post_form(
        client, path, status="identified", body="A carrier route is down.", **versions
    )
    assert response.status_code == 302
    db.expire_all()
    newest = db.get(Incident, case.id).latest_update
    assert newest.body_translations == {
        "es": "Una ruta del operador está caída.",
        "de": "Eine Carrier-Route ist ausgefallen.",
    }


def test_the_correction_form_corrects_and_asks_before_notifying(client, db, css, case):
    login(client, css)
    first = case.updates[0]
    path = f"/admin/incidents/{case.id}/updates/{first.id}/correct"
    html = client.get(path).get_data(as_text=True)
    assert "We are **investigating**." in html and "Estamos **investigando**." in html
    assert 'name="notify"' in html and 'name="notify" type="checkbox" value="y" checked' not in html
    asked = client.post(
        path, data={"csrf_token": csrf_of(html), "body": "Corrected.", "notify": "y"}
    )
    assert asked.status_code == 200 and "What will be sent" in asked.get_data(as_text=True)
    db.expire_all()
    assert db.get(IncidentUpdate, first.id).body == "We are **investigating**."
    done = client.post(path, data={"csrf_token": csrf_of(html), "body": "Corrected quietly."})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#update-{first.id}")
    db.expire_all()
    assert db.get(IncidentUpdate, first.id).body == "Corrected quietly."
    unchanged = client.post(path, data={"csrf_token": csrf_of(html), "body": "Corrected quietly."})
    assert unchanged.status_code == 422
    assert "change the text to correct it" in unchanged.get_data(as_text=True)
