"""A change that notifies subscribers asks first (SPEC section 7): starting a window early,
completing, cancelling or moving one, removing P1G and opening an incident with its notice
each show what would be sent (the notice's kind, subject and text) and to how many per
channel, and write nothing until the confirmation page's button comes back. Nothing
dangerous is preselected; forms offer only what the role may do; a refused form keeps what
was typed; a finished window offers no move or status form."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import flask_babel
import pytest
from sqlalchemy import func, select, update

from jobs import delivery
from statuspage.models import (
    AuditEntry,
    Delivery,
    Incident,
    MaintenanceWindow,
    Notice,
    Platform,
    Subscriber,
)
from statuspage.services import maintenance
from tests.helpers import (
    NOW,
    as_form,
    confirmation_fields,
    count,
    csrf_token,
    login,
    master_case,
    post_form,
    subscribe,
)
from tests.maintenance_fixtures import MT, build, one_off, texts

DAY = timedelta(days=1)


def written(db) -> tuple[int, ...]:
    """What a refused or unconfirmed change must leave as it was."""
    db.expire_all()
    return (
        count(db, Incident),
        count(db, Notice),
        count(db, AuditEntry),
        count(db, Delivery),
        *db.scalars(select(MaintenanceWindow.status).order_by(MaintenanceWindow.id)),
        *db.scalars(select(MaintenanceWindow.starts_at).order_by(MaintenanceWindow.id)),
        *db.scalars(select(Incident.priority).order_by(Incident.id)),
        *db.scalars(select(Platform.status).order_by(Platform.id)),
    )


@pytest.fixture
def audience(db):
    """Cisco's subscribers: two emails, a webhook and a Teams channel who take maintenance
    and incidents; others the notices must not count."""
    at = NOW - DAY
    subscribe(db, "noc@example.com", ["cisco"], at=at)
    subscribe(db, "it@example.org", ["cisco", "contact-centre"], at=at)
    subscribe(db, "https://hooks.example.com/status", ["cisco"], at=at, mode="webhook")
    subscribe(db, "https://example.webhook.office.com/x", ["cisco"], at=at, mode="teams")
    subscribe(db, "other@example.com", ["contact-centre"], at=at)
    subscribe(db, "no-maintenance@example.com", ["cisco"], at=at, maintenance=False)
    subscribe(db, "pending@example.com", ["cisco"], at=at, confirmed=False)


@pytest.fixture
def eleven_days(db, css):
    """A one-off window on Cisco due in eleven days (announced when it was created)."""
    start = (NOW + 11 * DAY).astimezone(MT).replace(hour=1, minute=0)
    upgrade = texts("Cisco SBC upgrade", "Upgrade the SBCs", "Vendor fix")
    window = one_off(db, css, start=start, hours=2, **upgrade)
    db.commit()
    return window


def confirm(client, db, to: str, page: str) -> None:
    """Press the confirmation page's red button, posting to `to`: the change is saved."""
    assert client.post(to, data=as_form(confirmation_fields(page))).status_code == 302
    db.expire_all()


def told(db) -> None:
    """The window's announcement reached its subscribers (queued and sent)."""
    fan_out(db)
    db.execute(update(Delivery).values(status="sent"))
    db.execute(update(Notice).where(Notice.status == "queued").values(status="sent"))
    db.commit()


def fan_out(db) -> dict[str, int]:
    """Queue the due notices' deliveries as the delivery job does; {channel: deliveries}."""
    delivery.fan_out(db, NOW)
    db.commit()
    rows = db.execute(
        select(Subscriber.mode, func.count())
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .group_by(Subscriber.mode)
    )
    return {mode: n for mode, n in rows}


CHANNELS = {
    "Email": "email",
    "Webhook": "webhook",
    "Microsoft Teams": "teams",
    "Slack": "slack",
    "SMS": "sms",
}


def everything_listed(page: str) -> dict[str, int]:
    """{channel: recipients} over every notice a confirmation page lists, as the delivery
    log names channels (channels with nobody left out)."""
    total: dict[str, int] = {}
    for table in re.findall(r'class="planned-recipients">(.*?)</table>', page, re.S):
        for label, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table):
            if label in CHANNELS and int(n):
                total[CHANNELS[label]] = total.get(CHANNELS[label], 0) + int(n)
    return total


def recipients(page: str) -> dict[str, int]:
    """{channel: count} of the first notice listed on a confirmation page."""
    table = page[page.index('class="planned-recipients"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table)
    return {label: int(n) for label, n in rows}


# --- starting a window early -------------------------------------------------------------


def test_starting_a_window_early_shows_what_is_sent_to_how_many_and_waits_for_confirmation(
    client, db, css, audience, eleven_days
):
    path = f"/admin/maintenance/{eleven_days.id}"
    fan_out(db)  # the announcement went out; its deliveries are not this change's
    db.query(Delivery).delete()
    db.commit()
    login(client, css)
    before = written(db)
    asked = post_form(client, f"{path}/status", page=path, prefix="s-", status="in_progress")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Start “Cisco SBC upgrade” now? It is planned for" in page
    assert "Maintenance started: 4 recipients" in page
    assert "Maintenance has started: Cisco SBC upgrade" in page  # the mail's subject
    assert recipients(page) == {
        "Email": 2,
        "Webhook": 1,
        "Microsoft Teams": 1,
        "Slack": 0,
        "SMS": 0,
        "Total": 4,
    }
    # Cisco goes under maintenance: Statuspage's component event to its webhook.
    assert "Platform status change (webhooks): 1 recipient" in page
    assert "Cisco: Operational → Under maintenance" in page
    assert '<button type="submit" class="danger">Start now</button>' in page
    assert written(db) == before  # nothing started, queued or audited

    confirm(client, db, f"{path}/status", page)
    assert db.get(MaintenanceWindow, eleven_days.id).status == "in_progress"
    # What the page listed is what the fan-out really queues, channel by channel.
    assert fan_out(db) == everything_listed(page) == {"email": 2, "webhook": 2, "teams": 1}


def test_the_status_select_preselects_nothing_and_requires_a_choice(client, db, css, eleven_days):
    path = f"/admin/maintenance/{eleven_days.id}"
    login(client, css)
    page = client.get(path).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="s-status".*?</select>', page, re.S).group(0)
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select_html)
    assert options[0] == (' value=""', "— choose —")
    assert all("selected" not in attrs for attrs, _ in options)
    assert [label for _, label in options[1:]] == ["In progress: start it now"]
    before = written(db)
    refused = post_form(client, f"{path}/status", page=path, prefix="s-")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Choose the window's new status." in html.unescape(body)
    assert 'name="s-status"' in body
    assert written(db) == before


def test_completing_a_running_window_asks_first(client, db, css, audience, eleven_days):
    maintenance.set_window_status(db, css, eleven_days, "in_progress", NOW)
    db.commit()
    path = f"/admin/maintenance/{eleven_days.id}"
    login(client, css)
    before = written(db)
    asked = post_form(client, f"{path}/status", page=path, prefix="s-", status="completed")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Complete “Cisco SBC upgrade” now?" in page
    assert "Maintenance completed: 4 recipients" in page
    assert written(db) == before
    # A confirmation other than "yes" is refused and writes nothing.
    fields = [(n, "no" if n == "s-confirm" else v) for n, v in confirmation_fields(page)]
    refused = client.post(f"{path}/status", data=as_form(fields))
    assert refused.status_code == 422
    assert "Nothing was changed: confirm with the red button." in refused.get_data(as_text=True)
    assert written(db) == before
    confirm(client, db, f"{path}/status", page)
    assert db.get(MaintenanceWindow, eleven_days.id).status == "completed"


# --- moving and cancelling a window subscribers were told of --------------------------


def test_moving_a_window_shows_who_hears_of_it_and_back_keeps_what_was_typed(
    client, db, css, audience, eleven_days
):
    told(db)  # the four were told of it by its announcement
    path = f"/admin/maintenance/{eleven_days.id}"
    login(client, css)
    before = written(db)
    typed = {
        "w-csrf_token": csrf_token(client, path),
        "w-starts_at": "2026-12-02T02:00",
        "w-ends_at": "2026-12-02T05:00",
        "w-platforms": ["cisco"],
        "w-note": "Moved: the vendor's fix is late",
    }
    asked = client.post(path, data=typed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Save these changes to “Cisco SBC upgrade”?" in page
    assert "Maintenance rescheduled: 4 recipients" in page
    assert written(db) == before
    fields = confirmation_fields(page)
    back = client.post(path, data={**as_form(fields), "w-back": "1"})
    form = back.get_data(as_text=True)
    assert back.status_code == 200
    assert 'value="2026-12-02T02:00"' in form and "the vendor's fix is late" in html.unescape(form)
    assert 'name="w-confirm"' not in form  # shown again, it asks again
    assert written(db) == before
    assert client.post(path, data=as_form(fields)).status_code == 302
    db.expire_all()
    assert db.get(MaintenanceWindow, eleven_days.id).starts_at.astimezone(MT).hour == 2


def test_a_note_alone_saves_without_asking(client, db, css, eleven_days):
    path = f"/admin/maintenance/{eleven_days.id}"
    login(client, css)
    start, end = (
        eleven_days.starts_at.astimezone(MT).strftime("%Y-%m-%dT%H:%M"),
        eleven_days.ends_at.astimezone(MT).strftime("%Y-%m-%dT%H:%M"),
    )
    saved = post_form(
        client,
        path,
        prefix="w-",
        starts_at=start,
        ends_at=end,
        platforms=["cisco"],
        note="Bring the spare",
    )
    assert saved.status_code == 302
    db.expire_all()
    assert db.get(MaintenanceWindow, eleven_days.id).note == "Bring the spare"


def test_the_cancel_page_counts_those_who_were_told(client, db, css, audience, eleven_days):
    told(db)
    login(client, css)
    page = client.get(f"/admin/maintenance/{eleven_days.id}/cancel").get_data(as_text=True)
    assert "Maintenance cancelled: 4 recipients" in page
    assert recipients(page)["Total"] == 4


def test_a_finished_window_offers_no_move_or_status_form(client, db, css):
    cal = build(db, css)
    db.commit()
    login(client, css)
    path = f"/admin/maintenance/{cal.cancelled.id}"
    page = client.get(path).get_data(as_text=True)
    assert 'name="w-starts_at"' not in page and 'name="s-status"' not in page
    assert 'name="w-note"' in page  # a note is all it takes
    before = written(db)
    refused = post_form(client, f"{path}/status", page=path, prefix="s-", status="in_progress")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "<!doctype html>" in body.lower()
    assert "This window is cancelled: its status no longer changes." in body
    assert written(db) == before
    times = {"starts_at": "2027-03-01T22:00", "ends_at": "2027-03-02T02:00"}
    moved = post_form(client, path, prefix="w-", note="Called off by the vendor", **times)
    assert moved.status_code == 302
    db.expire_all()
    found = db.get(MaintenanceWindow, cal.cancelled.id)
    assert found.note == "Called off by the vendor" and found.starts_at == cal.cancelled.starts_at


# --- incidents -----------------------------------------------------------------------------


def test_opening_an_incident_with_its_notice_asks_first_and_counts_the_recipients(
    client, db, css, audience
):
    login(client, css)
    typed = {
        "csrf_token": csrf_token(client, "/admin/incidents/new"),
        "title": "Calls failing in Phoenix",
        "impact": "major",
        "priority": "P2",
        "status": "investigating",
        "body": "We are looking into it.",
        "platform-cisco": "partial_outage",
        "deliver_notifications": "y",
    }
    before = written(db)
    asked = client.post("/admin/incidents/new", data=typed)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Open “Calls failing in Phoenix” and notify its subscribers?" in page
    assert "Incident opened: 5 recipients" in page  # Cisco's incident subscribers
    assert "New incident: Calls failing in Phoenix" in page
    assert recipients(page) == {
        "Email": 3,
        "Webhook": 1,
        "Microsoft Teams": 1,
        "Slack": 0,
        "SMS": 0,
        "Total": 5,
    }
    assert written(db) == before
    back = client.post(
        "/admin/incidents/new", data={**as_form(confirmation_fields(page)), "back": "1"}
    )
    form = back.get_data(as_text=True)
    assert back.status_code == 200
    assert 'value="Calls failing in Phoenix"' in form and "We are looking into it." in form
    assert '<option value="partial_outage" selected>' in form
    assert written(db) == before
    opened = client.post("/admin/incidents/new", data=as_form(confirmation_fields(page)))
    assert opened.status_code == 302
    assert fan_out(db) == everything_listed(page) == {"email": 3, "webhook": 2, "teams": 1}


def test_opening_an_incident_without_notifying_does_not_ask(client, db, css):
    login(client, css)
    quiet = {"title": "Quiet", "impact": "minor", "priority": "P3", "status": "investigating"}
    response = post_form(client, "/admin/incidents/new", **quiet)
    assert response.status_code == 302 and count(db, Incident) == 1


@pytest.fixture
def master(db, css):
    return master_case(db, css, title="Global outage", platforms={"cisco": "partial_outage"})


def test_removing_p1g_preselects_nothing_and_asks_first(client, db, css, master):
    path = f"/admin/incidents/{master.id}"
    login(client, css)
    page = client.get(path).get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="rm-priority".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option([^>]*)>", select_html)[0] == ' value=""'
    assert "selected" not in select_html
    before = written(db)
    token = csrf_token(client, path)
    unchosen = client.post(f"{path}/p1g/remove", data={"rm-csrf_token": token})
    assert unchosen.status_code == 422
    assert "Choose the priority the incident keeps." in unchosen.get_data(as_text=True)
    asked = client.post(f"{path}/p1g/remove", data={"rm-csrf_token": token, "rm-priority": "P2"})
    ask = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Make “Global outage” an ordinary incident of Priority 2?" in ask
    assert "The master-case banner leaves every public page and the embed." in ask
    assert "No subscriber is notified by this change." in ask
    assert written(db) == before
    confirm(client, db, f"{path}/p1g/remove", ask)
    assert db.get(Incident, master.id).priority == "P2"


def test_an_engineer_is_offered_no_p1g_and_a_refused_form_keeps_what_was_typed(
    client, db, engineer, master
):
    login(client, engineer)
    page = client.get("/admin/incidents/new").get_data(as_text=True)
    assert 'value="P1G"' not in page
    assert "Master cases (P1G) are opened by CSS staff." in page
    before = written(db)
    typed = {
        "csrf_token": csrf_token(client, "/admin/incidents/new"),
        "title": "Phoenix calls dropping",
        "impact": "major",
        "status": "investigating",
        "body": "Three sites report drops.",
        "case_number": "CS-77",
        "deliver_notifications": "y",
    }
    forged = client.post("/admin/incidents/new", data={**typed, "priority": "P1G"})
    body = forged.get_data(as_text=True)
    assert forged.status_code == 422
    assert 'value="Phoenix calls dropping"' in body and "Three sites report drops." in body
    assert 'id="priority-error"' in body
    # Refused by the service (a platform the master case holds, made worse): the form again
    # with the reason, never a bare error page; asked first or not.
    for notify in ("y", ""):
        refused = client.post(
            "/admin/incidents/new",
            data={
                **typed,
                "priority": "P2",
                "platform-cisco": "major_outage",
                "deliver_notifications": notify,
            },
        )
        body = refused.get_data(as_text=True)
        assert refused.status_code == 403
        assert f"Cisco is held by master case #{master.id}" in body
        assert 'value="Phoenix calls dropping"' in body and "Three sites report drops." in body
        assert '<option value="major_outage" selected>' in body
        assert written(db) == before


def test_an_engineer_sees_a_master_case_without_forms_to_change_it(client, db, engineer, master):
    login(client, engineer)
    page = client.get(f"/admin/incidents/{master.id}").get_data(as_text=True)
    assert "only CSS staff update, edit or resolve it" in page
    assert ">Post update</button>" not in page and 'name="body"' not in page
    assert f"/admin/incidents/{master.id}/edit" not in page
    assert f"/admin/incidents/{master.id}/resolve" not in page
    edit = client.get(f"/admin/incidents/{master.id}/edit")
    body = edit.get_data(as_text=True)
    assert edit.status_code == 403
    assert "only CSS staff change its title, impact, priority or case numbers" in body
    assert 'name="title"' not in body


@pytest.mark.parametrize(
    "lang, words",
    [
        (
            "de",
            ["Wartung jetzt beginnen", "Was gesendet wird", "Empfänger je Kanal", "Jetzt beginnen"],
        ),
        (
            "es",
            [
                "Iniciar el mantenimiento ahora",
                "Lo que se enviará",
                "Destinatarios",
                "Iniciar ahora",
            ],
        ),
    ],
)
def test_the_confirmation_page_speaks_the_staff_language(
    client, db, css, audience, eleven_days, lang, words
):
    path = f"/admin/maintenance/{eleven_days.id}"
    login(client, css)
    token = csrf_token(client, path)
    flask_babel.refresh()  # the test's app context outlives requests: choose again
    page = client.post(
        f"{path}/status?lang={lang}",
        data={"s-csrf_token": token, "s-status": "in_progress"},
    ).get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert "What will be sent" not in page and "Start now" not in page
