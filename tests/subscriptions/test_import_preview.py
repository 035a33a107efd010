"""The MPOC import page: a sample CSV with real platform slugs, the slugs listed, a preview
that writes nothing, then the import once confirmed; bad files get a clear message."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import uploads
from statuspage.models import AuditEntry, Subscriber
from statuspage.services.subscriptions import mpoc
from tests.helpers import NOW, count, csrf_token, login

IMPORT = "/admin/subscribers/import"
CONFIRM = "/admin/subscribers/import/confirm"
GOOD = (
    "email,name,organisation,platforms,topics,language\n"
    "noc@acme.example,NOC,Acme,cisco;calltower-connect,incidents;maintenance,en\n"
    "it@acme.example,IT,,contact-centre,maintenance,es\n"
    "broken-address,X,Acme,cisco,incidents,en\n"
    "old@acme.example,Old,Acme,nowhere,incidents,en\n"
)


def upload(client, text: str | bytes, **fields):
    raw = text.encode() if isinstance(text, str) else text
    return client.post(
        IMPORT,
        data={
            "csrf_token": csrf_token(client, IMPORT),
            "file": (io.BytesIO(raw), "mpoc.csv"),
            **fields,
        },
        content_type="multipart/form-data",
    )


def key_of(response) -> str:
    found = re.search(
        r'name="upload" type="hidden" value="([^"]+)"', response.get_data(as_text=True)
    )
    assert found, response.get_data(as_text=True)[-3000:]
    return found.group(1)


def upload_in_memory(client, text: str):
    """A big upload with its multipart body built by hand, in memory: the test client would
    spool it to a temporary file it never closes."""
    body = (
        b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + csrf_token(client, IMPORT).encode()
        + b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="mpoc.csv"\r\n'
        + b"Content-Type: text/csv\r\n\r\n"
        + text.encode()
        + b"\r\n--B--\r\n"
    )
    return client.post(IMPORT, data=body, content_type="multipart/form-data; boundary=B")


def confirm(client, key: str):
    return client.post(CONFIRM, data={"csrf_token": csrf_token(client, IMPORT), "upload": key})


def imports_audited(db) -> int:
    return len(
        db.scalars(select(AuditEntry).where(AuditEntry.action == "subscribers.import")).all()
    )


def test_the_page_lists_the_slugs_and_links_a_sample_that_imports_cleanly(client, db, css):
    login(client, css)
    html = client.get(IMPORT).get_data(as_text=True)
    for slug in ("calltower-cloud", "cisco", "microsoft-teams", "calltower-connect"):
        assert f"<code>{slug}</code>" in html
    assert 'href="/admin/subscribers/import/sample.csv" download' in html
    sample = client.get("/admin/subscribers/import/sample.csv")
    assert sample.status_code == 200 and sample.mimetype == "text/csv"
    assert "attachment" in sample.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(sample.get_data(as_text=True))))
    assert rows[0] == ["email", "name", "organisation", "platforms", "topics", "language"]
    assert 2 <= len(rows) - 1 <= 3
    # The sample is a valid list: its preview has no error, and every slug is a real one.
    result = mpoc.import_contacts(
        db,
        list(mpoc.read_csv(io.StringIO(sample.get_data(as_text=True)))),
        actor=css,
        now=NOW,
        dry_run=True,
    )
    assert result.errors == [] and result.created == len(rows) - 1


def test_the_sample_is_css_only(client, engineer):
    login(client, engineer)
    assert client.get("/admin/subscribers/import/sample.csv").status_code == 403


def test_upload_shows_a_preview_and_writes_nothing(client, db, css):
    login(client, css)
    response = upload(client, GOOD, organisation="Default Org")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Preview: nothing is saved yet" in html
    assert "4 rows read from mpoc.csv:" in html
    assert "2 new contacts, 0 updated, 2 rows with errors." in html
    # The rows that would be imported, and each bad row's line and reason.
    assert "noc@acme.example" in html and "it@acme.example" in html
    assert "Default Org" in html  # the blank organisation is filled in
    assert re.search(r"<td>4</td><td>email: [^<]+</td>", html)
    assert re.search(r"<td>5</td><td>platforms: unknown platform\(s\): nowhere</td>", html)
    assert '<button type="submit">Import 2 contacts</button>' in html
    assert count(db, Subscriber) == 0 and imports_audited(db) == 0


def test_confirming_imports_the_previewed_rows_once(client, db, css):
    login(client, css)
    key = key_of(upload(client, GOOD, organisation="Default Org"))
    done = confirm(client, key)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "Import finished: 4 rows processed." in html
    assert "2 created, 0 updated, 2 rows with errors." in html
    emails = set(db.scalars(select(Subscriber.address)))
    assert emails == {"noc@acme.example", "it@acme.example"}
    it = db.scalar(select(Subscriber).where(Subscriber.address == "it@acme.example"))
    assert it.organisation == "Default Org" and it.language == "es" and it.confirmed_at == NOW
    assert imports_audited(db) == 1
    # The kept file is gone: confirming again (a reload, a double click) imports nothing.
    again = confirm(client, key)
    assert again.status_code == 422
    assert "expired or was already imported" in again.get_data(as_text=True)
    assert imports_audited(db) == 1


def test_a_second_import_of_the_same_list_previews_updates(client, db, css):
    login(client, css)
    confirm(client, key_of(upload(client, GOOD)))
    html = upload(client, GOOD).get_data(as_text=True)
    assert "0 new contacts, 2 updated, 2 rows with errors." in html
    assert "<td>update</td>" in html


@pytest.mark.parametrize(
    "key",
    ["", "../../etc/passwd", "x" * 43, "a/b", "A" * 200],
)
def test_a_forged_or_unknown_key_imports_nothing(client, db, css, key):
    login(client, css)
    response = client.post(CONFIRM, data={"csrf_token": csrf_token(client, IMPORT), "upload": key})
    assert response.status_code == 422
    assert 'class="error"' in response.get_data(as_text=True)
    assert count(db, Subscriber) == 0 and imports_audited(db) == 0


def test_another_staff_members_preview_cannot_be_confirmed(client, db, css, admin):
    login(client, css)
    key = key_of(upload(client, GOOD))
    login(client, admin)
    assert confirm(client, key).status_code == 422
    assert count(db, Subscriber) == 0


def test_an_expired_preview_cannot_be_confirmed(app, client, db, css):
    login(client, css)
    key = key_of(upload(client, GOOD))
    app.config["FIXED_NOW"] = NOW + uploads.PREVIEW_TTL + timedelta(minutes=1)
    try:
        response = confirm(client, key)
    finally:
        app.config["FIXED_NOW"] = NOW
    assert response.status_code == 422
    assert count(db, Subscriber) == 0


def test_the_kept_file_is_private_to_the_server(app, client, css):
    login(client, css)
    key = key_of(upload(client, GOOD))
    path = os.path.join(app.instance_path, "imports", f"{key}.json")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert not app.static_folder or not path.startswith(app.static_folder)


def test_confirmation_needs_csrf(client, db, css):
    login(client, css)
    key = key_of(upload(client, GOOD))
    response = client.post(CONFIRM, data={"upload": key})
    assert response.status_code == 400
    assert count(db, Subscriber) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "must be UTF-8 text"),
        (b"name,organisation\nA,B\n", "missing column(s): email, platforms"),
        (b"email,platforms\n", "has a header but no rows"),
        (b"email,platforms\n" + b"a" * 140_000 + b",cisco\n", "field larger than field limit"),
    ],
)
def test_bad_files_get_a_clear_message_and_no_preview(client, db, css, content, message):
    login(client, css)
    response = upload(client, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and 'id="file-error"' in html
    assert 'name="upload"' not in html
    assert count(db, Subscriber) == 0


def test_a_list_where_no_row_is_good_offers_no_import(client, db, css):
    login(client, css)
    html = upload(client, "email,platforms\nnope,cisco\n").get_data(as_text=True)
    assert "No row of this list can be imported" in html
    assert 'name="upload"' not in html


def test_a_file_over_the_import_limit_is_refused_with_its_size(client, db, css):
    login(client, css)
    big = "email,platforms\n" + "a@example.com,cisco\n" * 60_000  # 1.2 MB
    response = upload_in_memory(client, big)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "files up to 1 MB are accepted: split it" in html and 'id="file-error"' in html
    assert count(db, Subscriber) == 0


def test_a_request_over_the_service_limit_is_refused_on_the_import_page(client, db, css):
    login(client, css)
    huge = (
        "email,platforms\n" + "a@example.com,cisco\n" * 120_000
    )  # 2.4 MB: over MAX_CONTENT_LENGTH
    response = upload_in_memory(client, huge)
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "Import MPOC contacts" in html and "split it into parts" in html
    assert count(db, Subscriber) == 0


def test_engineers_can_neither_preview_nor_confirm(client, db, css, engineer):
    login(client, css)
    key = key_of(upload(client, GOOD))
    login(client, engineer)
    assert (
        client.post(
            CONFIRM, data={"csrf_token": csrf_token(client, "/admin/incidents/new"), "upload": key}
        ).status_code
        == 403
    )
    assert count(db, Subscriber) == 0


def test_an_upload_without_csrf_is_refused(client, db, css):
    login(client, css)
    response = client.post(
        IMPORT,
        data={"file": (io.BytesIO(GOOD.encode()), "mpoc.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "Form expired" in response.get_data(as_text=True)
    assert not os.path.exists(os.path.join(client.application.instance_path, "imports")) or not (
        os.listdir(os.path.join(client.application.instance_path, "imports"))
    )


@pytest.mark.parametrize(
    ("language", "says"),
    [
        ("en", "email: use an address whose part before the @ is ASCII only"),
        ("de", "email: verwenden Sie eine Adresse, deren Teil vor dem @ nur ASCII enthält"),
    ],
)
def test_the_preview_lists_addresses_mail_cannot_reach_in_the_readers_language(
    client, db, css, language, says
):
    login(client, css)
    client.set_cookie("lang", language)
    text = (
        "email,name,organisation,platforms,topics,language\n"
        "noc@acme.example,NOC,Acme,cisco,incidents,en\n"
        "jörg@acme.example,Jörg,Acme,cisco,incidents,de\n"
    )
    html = upload(client, text).get_data(as_text=True)
    table = re.search(r'<table class="row-errors">.*?</table>', html, re.S).group(0)
    assert "<td>3</td>" in table and says in table
    confirm(client, key_of(upload(client, text)))
    assert list(db.scalars(select(Subscriber.address))) == ["noc@acme.example"]
