"""Server-side staff sessions: each sign-in a row with its device, address and time, listed
for its owner and for admins, each ended on its own; sign-out ends only its own."""

from __future__ import annotations

from sqlalchemy import select

from statuspage.models import AuditEntry, StaffSession
from tests.helpers import PASSWORD, csrf_of, forget_request_state, login, sign_in

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148"


def console(client) -> int:
    forget_request_state()
    return int(client.get("/admin/").status_code)


def signed_in_from(app, email: str, agent: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    response = sign_in(client, email, PASSWORD)
    assert response.status_code == 302 and "/login" not in response.headers["Location"]
    return client


def test_a_staff_members_sessions_are_listed_with_device_address_and_time(app, db, engineer):
    laptop = signed_in_from(app, "engineer@example.com", FIREFOX)
    signed_in_from(app, "engineer@example.com", PHONE + "\x1b[31m")
    forget_request_state()
    page = laptop.get("/admin/account/").get_data(as_text=True)
    assert FIREFOX in page and PHONE in page and "\x1b" not in page
    assert page.count("127.0.0.1") == 2 and "this one" in page
    assert page.count("Fri, Nov 20, 08:00 MST") == 2  # NOW, in the provider's zone


def test_ending_one_session_from_the_account_page_leaves_the_others(app, db, engineer):
    laptop = signed_in_from(app, "engineer@example.com", FIREFOX)
    phone = signed_in_from(app, "engineer@example.com", PHONE)
    lost = db.scalar(select(StaffSession).where(StaffSession.user_agent == PHONE))
    forget_request_state()
    page = laptop.get("/admin/account/").get_data(as_text=True)
    forget_request_state()
    ended = laptop.post(
        f"/admin/account/sessions/{lost.id}/end", data={"end-csrf_token": csrf_of(page)}
    )
    assert ended.status_code == 302
    assert console(phone) == 302 and console(laptop) == 200
    db.expire_all()
    assert db.get(StaffSession, lost.id).ended_reason == "revoked by its user"


def test_an_account_page_cannot_end_someone_elses_session(app, client, db, admin, engineer):
    theirs = login(app.test_client(), admin)
    login(client, engineer)
    page = client.get("/admin/account/").get_data(as_text=True)
    forget_request_state()
    refused = client.post(
        f"/admin/account/sessions/{theirs.id}/end", data={"end-csrf_token": csrf_of(page)}
    )
    assert refused.status_code == 404
    db.expire_all()
    assert db.get(StaffSession, theirs.id).ended_at is None


def test_an_admin_sees_and_ends_one_session_of_another(app, client, db, admin, engineer):
    phone = signed_in_from(app, "engineer@example.com", PHONE)
    laptop = signed_in_from(app, "engineer@example.com", FIREFOX)
    login(client, admin)
    page = client.get(f"/admin/users/{engineer.id}").get_data(as_text=True)
    assert PHONE in page and FIREFOX in page
    lost = db.scalar(select(StaffSession).where(StaffSession.user_agent == PHONE))
    forget_request_state()
    client.post(
        f"/admin/users/{engineer.id}/sessions/{lost.id}/end",
        data={"end-csrf_token": csrf_of(page)},
    )
    assert console(phone) == 302 and console(laptop) == 200
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "session.revoke"))
    assert entry.actor_id == admin.id and entry.after["device"] == PHONE


def test_sign_out_ends_this_devices_session_only(app, db, engineer):
    laptop = signed_in_from(app, "engineer@example.com", FIREFOX)
    phone = signed_in_from(app, "engineer@example.com", PHONE)
    forget_request_state()
    token = csrf_of(laptop.get("/admin/").get_data(as_text=True))
    forget_request_state()
    laptop.post("/logout", data={"csrf_token": token})
    assert console(laptop) == 302 and console(phone) == 200
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["user.create", "sign_in", "sign_in", "sign_out"]


def test_failed_sign_ins_are_audited_with_what_was_typed(client, db, engineer):
    forget_request_state()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    for email in ("engineer@example.com", "nobody@example.com"):
        forget_request_state()
        client.post(
            "/login", data={"csrf_token": token, "email": email, "password": "not the one!"}
        )
    entries = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "sign_in.failure").order_by(AuditEntry.id)
    ).all()
    assert [(e.object_id, e.after["email"], e.after["reason"]) for e in entries] == [
        (str(engineer.id), "engineer@example.com", "password"),
        (None, "nobody@example.com", "password"),
    ]
    assert {e.actor_label for e in entries} == {"anonymous"}
