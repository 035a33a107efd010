"""Dangerous staff actions ask first: deleting an incident, revoking an API token and
cancelling a maintenance window each show a confirmation page (no script needed), refuse a
request without its confirmation with a message and write nothing, and, confirmed, do it and
audit it as before."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from statuspage.models import ApiToken, AuditEntry, Incident, MaintenanceWindow, Notice
from statuspage.services import incidents, staff
from tests.helpers import NOW, count, csrf_token, login, open_incident, post_form
from tests.maintenance_fixtures import build


def audit_actions(db) -> list[str]:
    return list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def incident(db, css):
    title = "Voicemail <b>delays</b>"
    return open_incident(db, css, priority="P3", title=title, platforms={"cisco": "partial_outage"})


@pytest.fixture
def token(db, admin):
    _, made = staff.create_token(db, admin, admin, name="ci", now=NOW)
    db.commit()
    return made


@pytest.fixture
def window(db, admin):
    cal = build(db, admin)
    db.commit()
    return cal.unscheduled


# --- the pages that ask ---------------------------------------------------------------


def test_the_incident_page_links_a_red_delete_apart_from_post_update(client, css, incident):
    login(client, css)
    html = client.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    # Not a button in the update form: a link, in its own danger zone, after everything else.
    delete = f'<a class="button danger" href="/admin/incidents/{incident.id}/delete">'
    assert delete in html
    zone = html.index('class="danger-zone"')
    assert html.index(">Post update</button>") < zone < html.index(delete)
    assert 'class="danger"' not in html[: html.index("</form>")]
    # The update form comes before the timeline, which grows with every update.
    assert html.index(">Post an update</h2>") < html.index(">Timeline</h2>")


def test_delete_asks_on_a_page_that_works_without_script(client, db, css, incident):
    login(client, css)
    page = client.get(f"/admin/incidents/{incident.id}/delete")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Delete the incident “Voicemail &lt;b&gt;delays&lt;/b&gt;”?" in html
    assert "This cannot be undone." in html
    form = html[html.index('<form method="post" class="actions">') :]
    assert 'name="del-confirm" value="yes"' in form and 'name="del-csrf_token"' in form
    assert '<button type="submit" class="danger">Delete incident</button>' in form
    assert f'href="/admin/incidents/{incident.id}">Cancel, keep it</a>' in form
    assert "<script>" not in html
    assert count(db, Incident) == 1


@pytest.mark.parametrize("confirm", [None, "", "no", "YES "])
def test_delete_without_confirmation_is_refused_and_writes_nothing(
    client, db, css, incident, confirm
):
    login(client, css)
    path = f"/admin/incidents/{incident.id}/delete"
    data = {"del-csrf_token": csrf_token(client, path)}
    if confirm is not None:
        data["del-confirm"] = confirm
    before = audit_actions(db)
    response = client.post(path, data=data)
    assert response.status_code == 422
    assert "Nothing was deleted: confirm with the red button." in response.get_data(as_text=True)
    db.expire_all()
    assert count(db, Incident) == 1 and audit_actions(db) == before


def test_confirmed_delete_deletes_and_is_audited(client, db, css, incident):
    login(client, css)
    path = f"/admin/incidents/{incident.id}/delete"
    response = post_form(client, path, {"del-confirm": "yes"}, prefix="del-")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    db.expire_all()
    assert count(db, Incident) == 0
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "incident.delete"))
    assert entry.actor_id == css.id and entry.before["title"] == "Voicemail <b>delays</b>"
    assert "deleted" in client.get("/admin/").get_data(as_text=True)


def test_confirmation_does_not_bypass_the_roles(client, db, engineer, css):
    master = incidents.create_incident(
        db, css, title="Global", priority="P1G", case_number="CS-1", now=NOW
    )
    db.commit()
    login(client, engineer)
    path = f"/admin/incidents/{master.id}/delete"
    response = post_form(client, path, {"del-confirm": "yes"}, prefix="del-")
    assert response.status_code == 403
    db.expire_all()
    assert count(db, Incident) == 1


def test_a_confirmation_without_csrf_is_refused(client, db, css, incident):
    login(client, css)
    response = client.post(f"/admin/incidents/{incident.id}/delete", data={"del-confirm": "yes"})
    assert response.status_code == 400
    db.expire_all()
    assert count(db, Incident) == 1


# --- tokens ----------------------------------------------------------------------------


def test_revoke_is_a_red_link_to_a_confirmation_page(client, db, admin, token):
    login(client, admin)
    html = client.get("/admin/tokens").get_data(as_text=True)
    assert f'class="button danger small" href="/admin/tokens/{token.id}/revoke">' in html
    page = client.get(f"/admin/tokens/{token.id}/revoke").get_data(as_text=True)
    assert f"Revoke the token {token.prefix}… (ci) of admin@example.com?" in page
    assert '<button type="submit" class="danger">Revoke token</button>' in page


def test_revoke_without_confirmation_writes_nothing_and_with_it_revokes(client, db, admin, token):
    login(client, admin)
    path = f"/admin/tokens/{token.id}/revoke"
    t = csrf_token(client, path)
    refused = client.post(path, data={"rv-csrf_token": t})
    assert refused.status_code == 422
    assert "Nothing was revoked" in refused.get_data(as_text=True)
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is None
    assert "token.revoke" not in audit_actions(db)
    done = client.post(path, data={"rv-csrf_token": t, "rv-confirm": "yes"})
    assert done.status_code == 302
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at == NOW
    assert audit_actions(db).count("token.revoke") == 1


# --- maintenance windows ------------------------------------------------------------------


def test_cancel_window_asks_and_refuses_without_confirmation(client, db, css, window):
    login(client, css)
    page = client.get(f"/admin/maintenance/{window.id}").get_data(as_text=True)
    assert f'class="button danger" href="/admin/maintenance/{window.id}/cancel">' in page
    # The status select no longer offers "cancelled": that is the red button's job.
    assert 'value="cancelled"' not in page
    path = f"/admin/maintenance/{window.id}/cancel"
    ask = client.get(path).get_data(as_text=True)
    assert f"Cancel “{window.title}”?" in ask and "one cancellation notice" in ask
    notices_before = count(db, Notice)
    refused = client.post(path, data={"cx-csrf_token": csrf_token(client, path)})
    assert refused.status_code == 422
    assert "Nothing was cancelled" in refused.get_data(as_text=True)
    db.expire_all()
    assert db.get(MaintenanceWindow, window.id).status == "scheduled"
    assert count(db, Notice) == notices_before


def test_confirmed_cancel_cancels_and_is_audited(client, db, css, window):
    login(client, css)
    cancelled_before = audit_actions(db).count("window.cancelled")
    path = f"/admin/maintenance/{window.id}/cancel"
    response = post_form(client, path, {"cx-confirm": "yes"}, prefix="cx-")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(MaintenanceWindow, window.id).status == "cancelled"
    entry = db.scalar(
        select(AuditEntry).where(
            AuditEntry.action == "window.cancelled", AuditEntry.object_id == str(window.id)
        )
    )
    assert entry.actor_id == css.id
    # A cancelled window offers no cancel button, its cancel page sends back to it with the
    # reason, and a second confirmation is refused.
    back = f"/admin/maintenance/{window.id}"
    page = client.get(back).get_data(as_text=True)
    assert f"/admin/maintenance/{window.id}/cancel" not in page
    asked = client.get(path)
    assert asked.status_code == 303 and asked.headers["Location"].endswith(back)
    again = client.post(path, data={"cx-csrf_token": csrf_token(client, back), "cx-confirm": "yes"})
    assert again.status_code == 303
    assert audit_actions(db).count("window.cancelled") == cancelled_before + 1
