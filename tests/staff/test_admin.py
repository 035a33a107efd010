"""Staff incident forms: P1G rules through the forms, updates, templates, bad input."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import flask_babel
import pytest
from sqlalchemy import select

from statuspage.forms.staff import MESSAGE_TEMPLATES
from statuspage.models import AuditEntry, Incident, IncidentUpdate, Platform, User
from statuspage.services import incidents, staff
from tests.helpers import (
    NOW,
    PASSWORD,
    as_form,
    confirmation_fields,
    count,
    csrf_token,
    login,
    open_incident,
    post_form,
)

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


NEW = "/admin/incidents/new"


def new_incident(client, **fields):
    """Open an incident through the form, confirming its notice on the page that asks."""
    defaults = {"title": "Calls failing", "impact": "major", "priority": "P2"}
    defaults |= {"status": "investigating", "body": "Looking into it"}
    response = post_form(client, NEW, {**defaults, "deliver_notifications": "y", **fields})
    page = response.get_data(as_text=True)
    if response.status_code == 200 and 'class="actions"' in page:
        return client.post("/admin/incidents/new", data=as_form(confirmation_fields(page)))
    return response


def down(client, db, engineer) -> Incident:
    """A P2 incident with Cisco in major outage, and its engineer signed in."""
    incident = open_incident(db, engineer, title="Down")
    login(client, engineer)
    return incident


def test_engineer_opens_incident_with_platform_status(client, db, engineer):
    login(client, engineer)
    response = new_incident(client, **{"platform-cisco": "partial_outage"})
    assert response.status_code == 302
    incident = db.scalar(select(Incident))
    assert incident.priority == "P2"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "partial_outage"


def test_engineer_cannot_open_a_master_case(client, db, engineer):
    login(client, engineer)
    # The form does not offer P1G to an engineer: a forged choice is refused on the form.
    response = new_incident(client, priority="P1G", case_number="CS-1")
    assert response.status_code == 422
    assert count(db, Incident) == 0 and count(db, AuditEntry) == 1  # only the user's creation


def test_css_opens_master_case_and_it_shows_first(client, db, css):
    login(client, css)
    assert new_incident(client, priority="P1G", case_number="CS-9").status_code == 302
    assert db.scalar(select(Incident.priority)) == "P1G"


def test_engineer_cannot_designate_or_remove_p1g_through_forms(client, db, engineer, css):
    incident = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, engineer)
    t = csrf_token(client, NEW)
    for path, data in (
        (f"{local.id}/p1g", {"p1g-csrf_token": t, "p1g-case_number": "CS-2"}),
        (f"{incident.id}/p1g/remove", {"rm-csrf_token": t, "rm-priority": "P2"}),
        (f"{incident.id}/delete", {"del-csrf_token": t, "del-confirm": "yes"}),
    ):
        assert client.post(f"/admin/incidents/{path}", data=data).status_code == 403, path
    page = client.get(f"/admin/incidents/{local.id}").get_data(as_text=True)
    assert "Designate P1G" not in page
    db.expire_all()
    assert db.get(Incident, local.id).priority == "P2"
    assert db.get(Incident, incident.id).priority == "P1G"


def test_css_designates_and_removes_p1g(client, db, css):
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    t = csrf_token(client, NEW)
    client.post(
        f"/admin/incidents/{local.id}/p1g",
        data={
            "p1g-csrf_token": t,
            "p1g-case_number": "CS-5",
            "p1g-customer_case_numbers": "A-1, A-2",
        },
    )
    db.expire_all()
    assert db.get(Incident, local.id).is_master_case
    asked = client.post(
        f"/admin/incidents/{local.id}/p1g/remove", data={"rm-csrf_token": t, "rm-priority": "P1"}
    )
    # Removing P1G asks first; its confirmation does it.
    client.post(
        f"/admin/incidents/{local.id}/p1g/remove",
        data=as_form(confirmation_fields(asked.get_data(as_text=True))),
    )
    db.expire_all()
    assert db.get(Incident, local.id).priority == "P1"


def test_post_update_and_resolve(client, db, engineer):
    incident = down(client, db, engineer)
    path = f"/admin/incidents/{incident.id}"
    response = post_form(client, path, status="resolved", body="Fixed", deliver_notifications="y")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Incident, incident.id).status == "resolved"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "operational"


def test_message_template_fills_the_form_without_javascript(client, db, engineer):
    incident = down(client, db, engineer)
    path = f"/admin/incidents/{incident.id}"
    page = post_form(client, path, status="identified", template="investigating", use_template="1")
    assert "We are investigating reports of issues with Cisco" in page.get_data(as_text=True)
    assert count(db, IncidentUpdate) == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": ""}, "This field is required"),
        ({"impact": "apocalyptic"}, "Not a valid choice"),
        ({"priority": "P9"}, "Not a valid choice"),
        ({"platform-cisco": "on_fire"}, "status must be one of"),
        ({"platform-atlantis": "major_outage"}, "unknown platform"),
        ({"priority": "P1G"}, "support case number"),
        ({"title": "x" * 500}, "Field cannot be longer than 200"),
        ({"case_number": "<script>"}, "must be letters"),
    ],
)
def test_bad_incident_input_writes_nothing(client, db, css, fields, message):
    login(client, css)
    response = new_incident(client, **fields)
    assert response.status_code == 422, fields
    page = response.get_data(as_text=True)
    assert message in page and "<script>" not in page.split("<main")[1].replace(
        '<script src="/static/localtime.js" defer></script>', ""
    )
    assert count(db, Incident) == 0


def test_missing_csrf_and_huge_body_are_refused(app, client, db, css):
    login(client, css)
    assert client.post("/admin/incidents/new", data={"title": "x"}).status_code == 400
    huge = post_form(client, NEW, title="x", body="y" * 3_000_000)
    assert huge.status_code == 413
    assert count(db, Incident) == 0


def test_unknown_ids_are_404(client, css):
    login(client, css)
    for path in ("/admin/incidents/999", "/admin/incidents/abc", "/admin/maintenance/999"):
        assert client.get(path).status_code == 404


def test_script_in_text_is_shown_escaped(client, db, css):
    incidents.create_incident(
        db, css, title="<script>alert(1)</script>", body="<img onerror=x>", priority="P2", now=NOW
    )
    db.commit()
    login(client, css)
    page = client.get("/admin/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_admin_creates_user_and_token_shown_once(client, db, admin):
    login(client, admin)
    t = csrf_token(client, "/admin/users")
    user = {"csrf_token": t, "role": "css", "password": "long enough pw"}
    bad = client.post("/admin/users", data={**user, "email": "admin@example.com"})
    assert bad.status_code == 422 and "exists" in bad.get_data(as_text=True)
    ok = client.post("/admin/users", data={**user, "email": "new@example.com"})
    assert ok.status_code == 302
    new = db.scalar(select(User).where(User.email == "new@example.com"))
    wanted = {"user_id": str(new.id), "name": "ci", "scopes": "read", "days": "90"}
    page = client.post("/admin/tokens", data={"csrf_token": t, **wanted}).get_data(as_text=True)
    plaintext = re.search(r'<code class="token">([^<]+)</code>', page).group(1)

    assert staff.authenticate_token(db, plaintext, NOW).email == "new@example.com"
    assert plaintext not in client.get("/admin/tokens").get_data(as_text=True)


def test_audit_log_shows_changes(client, db, admin, css):
    incidents.create_incident(db, css, title="Down", priority="P2", now=NOW)
    db.commit()
    login(client, admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "incident.create" in page and "css@example.com" in page
    assert client.get("/admin/audit?page=x").status_code == 400


def without_script_files(page: str) -> str:
    """The page minus its own <script src=...> tags, so any other <script> is injected."""
    return re.sub(r'<script src="/static/[\w.]+" defer></script>', "", page)


def test_dashboard_shows_overdue_clock_in_red_and_in_words(client, db, css):
    late = incidents.create_incident(
        db, css, title="Global outage", priority="P1G", case_number="CS-7", now=NOW - HOUR * 2
    )
    fresh = incidents.create_incident(db, css, title="Slow portal", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    page = client.get("/admin/").get_data(as_text=True)
    rows = {
        m.group(2): m.group(1)
        for m in re.finditer(r'<tr class="([^"]*)">\s*<td><a[^>]*>([^<]+)<', page)
    }
    assert rows["Global outage"] == "overdue-row" and rows["Slow portal"] == ""
    assert page.index("Global outage") < page.index("Slow portal")  # master case first
    assert '<span class="overdue"><strong>Overdue</strong>' in page
    assert late.is_update_overdue(NOW) and not fresh.is_update_overdue(NOW)
    assert "admin.css" in page
    for section in ("Upcoming maintenance", "Notice delivery", "Subscribers per platform"):
        assert section in page


def test_resolve_form_closes_the_incident_and_frees_platforms(client, db, engineer):
    incident = down(client, db, engineer)
    path = f"/admin/incidents/{incident.id}/resolve"
    form = client.get(path).get_data(as_text=True)
    assert "This incident has been resolved" in form  # pre-filled closing wording
    empty = post_form(client, path, body=" ")
    assert empty.status_code == 422 and "This field is required" in empty.get_data(as_text=True)
    db.expire_all()
    assert db.get(Incident, incident.id).status == "investigating"
    done = post_form(client, path, body="Carrier fixed the route.")
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Incident, incident.id).status == "resolved"
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == "operational"
    assert client.get("/admin/incidents/999/resolve").status_code == 404


def edit(client, incident_id, **fields):
    path = f"/admin/incidents/{incident_id}/edit"
    page = client.get(path).get_data(as_text=True)
    current = {
        name: value
        for name, value in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', page)
        if name != "csrf_token"
    }
    selected = dict(
        re.findall(r'<select[^>]*name="(\w+)".*?<option selected value="([^"]*)"', page, re.S)
    )
    return post_form(client, path, {**current, **selected, **fields})


def test_engineer_cannot_change_a_master_case_priority_through_the_edit_form(
    client, db, engineer, css
):
    case = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    audits = count(db, AuditEntry)
    login(client, engineer)
    t = csrf_token(client, NEW)
    # A master case is CSS's: nothing of it is the engineer's to edit, title included.
    for fields in ({"priority": "P2"}, {"case_number": "CS-9"}, {"title": "Global calling"}):
        data = {
            "csrf_token": t,
            "title": "Global",
            "impact": "none",
            "priority": "P1G",
            "case_number": "CS-1",
            **fields,
        }
        assert client.post(f"/admin/incidents/{case.id}/edit", data=data).status_code == 403
    # An ordinary incident's form offers no P1G: a forged choice is refused on the form.
    assert edit(client, local.id, priority="P1G", case_number="CS-2").status_code == 422
    db.expire_all()
    assert db.get(Incident, case.id).priority == "P1G"
    assert db.get(Incident, case.id).case_number == "CS-1"
    assert db.get(Incident, case.id).title == "Global"
    assert db.get(Incident, local.id).priority == "P2"
    assert count(db, AuditEntry) == audits


def test_css_changes_priority_and_case_numbers_through_the_edit_form(client, db, css):
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    missing = edit(client, local.id, priority="P1G")
    assert missing.status_code == 422
    assert 'id="case_number-error"' in missing.get_data(as_text=True)
    ok = edit(
        client, local.id, priority="P1G", case_number="CS-3", customer_case_numbers="A-1, B-2"
    )
    assert ok.status_code == 302
    db.expire_all()
    found = db.get(Incident, local.id)
    assert found.is_master_case and found.customer_case_numbers == ["A-1", "B-2"]


def test_p1g_form_errors_are_shown_on_the_field(client, db, css):
    local = incidents.create_incident(db, css, title="Local", priority="P2", now=NOW)
    db.commit()
    login(client, css)
    path = f"/admin/incidents/{local.id}"
    response = post_form(
        client, f"{path}/p1g", {"p1g-case_number": "no spaces"}, page=path, prefix="p1g-"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'aria-describedby="p1g-case_number-hint p1g-case_number-error"' not in page
    assert 'aria-describedby="p1g-case_number-error"' in page and "must be letters" in page
    db.expire_all()
    assert db.get(Incident, local.id).priority == "P2"


def gettext_in(lang: str):
    from babel.support import Translations

    from statuspage.i18n import TRANSLATIONS_DIR

    return Translations.load(TRANSLATIONS_DIR, [lang]).gettext


def test_message_templates_hold_all_three_languages_whatever_the_staff_language(
    client, db, engineer
):
    incident = down(client, db, engineer)
    es, de = gettext_in("es"), gettext_in("de")
    for staff_language in ("en", "de"):
        page = client.get(f"/admin/incidents/{incident.id}?lang={staff_language}")
        page = page.get_data(as_text=True)
        texts = json.loads(html.unescape(re.search(r'data-templates="([^"]+)"', page).group(1)))
        filled = texts["investigating"]
        assert filled["en"].startswith("We are investigating reports of issues with Cisco")
        assert filled["es"] == es(MESSAGE_TEMPLATES["investigating"]) % {"platforms": "Cisco"}
        assert filled["de"] == de(MESSAGE_TEMPLATES["investigating"]) % {"platforms": "Cisco"}
        assert filled["es"] != filled["en"] and filled["de"] != filled["en"]
        fills = json.loads(html.unescape(re.search(r'data-fills="([^"]+)"', page).group(1)))
        assert fills == {"en": "body", "es": "body_es", "de": "body_de"}
    assert "/static/admin.js" in page
    script = client.get("/static/admin.js")
    assert script.status_code == 200 and b"data-templates" in script.data
    script.close()


def test_script_in_an_incident_never_reaches_the_staff_pages_raw(client, db, css):
    title, body = "<script>alert(1)</script>", "<script>alert(2)</script> **bold**"
    incident = open_incident(db, css, title=title, body=body)
    login(client, css)
    for path in (
        f"/admin/incidents/{incident.id}",
        f"/admin/incidents/{incident.id}/edit",
        f"/admin/incidents/{incident.id}/resolve",
    ):
        page = without_script_files(client.get(path).get_data(as_text=True))
        assert "<script" not in page, path
        assert "&lt;script&gt;alert(1)" in page, path


LABELLED_PAGES = [
    "/login",
    "/admin/incidents/new",
    "/admin/incidents/{id}",
    "/admin/incidents/{id}/edit",
    "/admin/incidents/{id}/resolve",
    "/admin/platforms/1",
    "/admin/users",
    "/admin/users/{user}",
    "/admin/tokens",
]


@pytest.mark.parametrize("path", LABELLED_PAGES)
def test_every_staff_input_has_a_label(client, db, admin, path):
    incident = incidents.create_incident(
        db, admin, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    db.commit()
    if path != "/login":
        login(client, admin)
    page = client.get(path.format(id=incident.id, user=admin.id)).get_data(as_text=True)
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    ids = [
        re.search(r'id="([^"]+)"', c).group(1)
        for c in controls
        if 'type="hidden"' not in c and 'type="submit"' not in c
    ]
    assert ids, path
    for control_id in ids:
        assert f'for="{control_id}"' in page, (path, control_id)


def test_admin_edits_a_platform_and_the_audit_log_keeps_before_and_after(client, db, admin):
    login(client, admin)
    path = "/admin/platforms/1"
    old = db.get(Platform, 1).name
    fields = {"name": "Hosted voice", "description": "Calls and numbers", "position": "7"}
    response = post_form(client, path, fields)
    assert response.status_code == 302
    db.expire_all()
    platform = db.get(Platform, 1)
    assert (platform.name, platform.position) == ("Hosted voice", 7)
    assert "Hosted voice" in client.get("/admin/platforms").get_data(as_text=True)
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "platform.update" in audit or "platform.edit" in audit
    assert html.escape(old, quote=True) in audit and "Hosted voice" in audit


def test_admin_disables_a_user_who_then_cannot_sign_in(client, db, admin, css):
    login(client, admin)
    path = f"/admin/users/{css.id}"
    response = post_form(client, path, role="engineer", password="")
    assert response.status_code == 302
    db.expire_all()
    assert (db.get(User, css.id).role, db.get(User, css.id).active) == ("engineer", False)
    post_form(client, "/logout", page=NEW)
    denied = post_form(client, "/login", email=css.email, password=PASSWORD)
    assert denied.status_code == 401


def test_admin_revokes_a_token(client, db, admin):
    plaintext, api_token = staff.create_token(db, admin, admin, name="ci", now=NOW)
    db.commit()
    login(client, admin)
    path = f"/admin/tokens/{api_token.id}/revoke"
    response = post_form(client, path, {"rv-confirm": "yes"}, page="/admin/tokens", prefix="rv-")
    assert response.status_code == 302
    assert staff.authenticate_token(db, plaintext, NOW) is None
    assert "revoked" in client.get("/admin/tokens").get_data(as_text=True)


def test_audit_log_is_newest_first_and_paginated(client, db, admin):
    for n in range(55):
        incidents.create_incident(db, admin, title=f"Incident {n:02d}", now=NOW + n * MINUTE)
    db.commit()
    login(client, admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert first.index("Incident 54") < first.index("Incident 53")
    assert "Incident 54" not in second and "Incident 00" in second
    assert "Incident 00" not in first
    assert "1 / 2" in first and "?page=2" in first


# --- issue 8: the staff pages -------------------------------------------------------------


def browser_defaults(page: str) -> dict[str, str]:
    """What a browser sends for an untouched form's selects: the selected (or first) option."""
    sent = {}
    for name, options in re.findall(r'<select[^>]* name="(\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', options)
        sent[name] = (chosen or re.search(r'<option value="([^"]*)"', options)).group(1)
    return sent


def test_new_incident_defaults_to_an_ordinary_priority(client, db, engineer):
    """A hurried engineer's first submit (title and message, every default kept) opens a P3."""
    login(client, engineer)
    page = client.get("/admin/incidents/new").get_data(as_text=True)
    defaults = browser_defaults(page)
    assert defaults["priority"] == "P3"
    response = post_form(client, NEW, defaults, title="Calls dropping", body="Looking")
    assert response.status_code == 302
    incident = db.scalar(select(Incident))
    assert (incident.priority, incident.title) == ("P3", "Calls dropping")


def test_new_incident_without_a_priority_field_is_p3(client, db, engineer):
    login(client, engineer)
    data = {"title": "Calls dropping", "status": "investigating", "impact": "minor"}
    assert post_form(client, NEW, data).status_code == 302
    assert db.scalar(select(Incident.priority)) == "P3"


def test_option_labels_and_canned_messages_follow_the_staff_language(client, db, engineer):
    incident = down(client, db, engineer)
    english = client.get(f"/admin/incidents/{incident.id}?lang=en").get_data(as_text=True)
    assert ">Investigating</option>" in english and ">Upstream carrier</option>" in english
    assert ">Partial outage</option>" in english and "— unchanged —" in english
    found = re.search(r'data-templates="([^"]+)"', english).group(1)
    templates = json.loads(html.unescape(found))
    assert templates["investigating"]["en"].startswith(
        "We are investigating reports of issues with Cisco"
    )
    # The labels go through the catalogs: German words where the catalog has them.
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    german = client.get(f"/admin/incidents/{incident.id}?lang=de").get_data(as_text=True)
    assert ">Wird untersucht</option>" in german and ">Investigating</option>" not in german
