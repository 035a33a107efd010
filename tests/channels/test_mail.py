"""The mail layer against the local SendGrid-speaking server, the file backend, rendering."""

from __future__ import annotations

import email
import email.policy
import os
import time

import pytest

from statuspage.mail import (
    MailBatch,
    MailRecipient,
    PermanentMailError,
    RejectedRecipients,
    TransientMailError,
    mailer_from_config,
)
from statuspage.mail.files import FileMailer
from statuspage.mail.sendgrid import SendGridMailer
from statuspage.renderers.mail import KINDS, STAFF_KINDS, render_notice
from tests.channels.messages import payload
from tests.sendgrid_server import API_KEY, sendgrid_server


def batch(n: int = 3) -> MailBatch:
    return MailBatch(
        from_email="status@example.com",
        from_name="Status",
        subject="Hello -name-",
        text="Manage: -manage_url-",
        html="<p><a href='-manage_url-'>manage</a></p>",
        recipients=[
            MailRecipient(
                email=f"r{i}@example.com",
                substitutions={"-name-": f"R{i}", "-manage_url-": f"https://x/m/{i}"},
                headers={
                    "List-Unsubscribe": f"<https://x/u/{i}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                custom_args={"delivery_id": str(i)},
            )
            for i in range(n)
        ],
    )


@pytest.fixture
def server():
    with sendgrid_server() as s:
        yield s


def test_each_recipient_is_a_personalisation_with_its_own_links(server):
    SendGridMailer(API_KEY, server.url).send(batch())
    got = list(server.messages())
    assert [m.email for m in got] == ["r0@example.com", "r1@example.com", "r2@example.com"]
    assert got[1].subject == "Hello R1" and got[1].text == "Manage: https://x/m/1"
    assert got[1].headers["List-Unsubscribe"] == "<https://x/u/1>"
    assert got[1].custom_args == {"delivery_id": "1"}
    body = server.requests[0]
    assert body["tracking_settings"]["click_tracking"]["enable"] is False


def test_1000_recipients_allowed_1001_refused(server):
    SendGridMailer(API_KEY, server.url).send(batch(1000))
    assert len(server.requests[0]["personalizations"]) == 1000
    with pytest.raises(ValueError):
        SendGridMailer(API_KEY, server.url).send(batch(1001))


def test_error_statuses_map_to_transient_and_permanent(server):
    mailer = SendGridMailer(API_KEY, server.url, clock=lambda: 1_000_000.0)
    server.fail_next(500)
    with pytest.raises(TransientMailError) as e500:
        mailer.send(batch())
    assert e500.value.status == 500
    server.fail_next(429, headers={"X-RateLimit-Reset": "1000090"})
    with pytest.raises(TransientMailError) as e429:
        mailer.send(batch())
    assert e429.value.retry_after == 90
    server.fail_next(400, body={"errors": [{"message": "The from address is invalid"}]})
    with pytest.raises(PermanentMailError, match="from address is invalid"):
        mailer.send(batch())
    with pytest.raises(PermanentMailError):
        SendGridMailer("SG.wrong", server.url).send(batch())
    assert server.requests == []


def test_a_request_that_hangs_times_out_as_transient(server):
    server.delay_next(3)
    started = time.monotonic()
    with pytest.raises(TransientMailError) as exc:
        SendGridMailer(API_KEY, server.url, timeout=0.5).send(batch())
    assert exc.value.status is None
    assert time.monotonic() - started < 2.5


def test_nothing_listening_is_transient():
    with pytest.raises(TransientMailError):
        SendGridMailer(API_KEY, "http://127.0.0.1:9", timeout=1).send(batch())


def test_file_backend_writes_one_eml_per_recipient(tmp_path):
    mailer = mailer_from_config({"SENDGRID_API_KEY": None}, str(tmp_path))
    assert isinstance(mailer, FileMailer)
    mailer.send(batch(2))
    files = sorted(os.listdir(tmp_path / "mail"))
    assert len(files) == 2 and all(f.endswith(".eml") for f in files)
    with open(tmp_path / "mail" / files[1], "rb") as fh:
        msg = email.message_from_binary_file(fh, policy=email.policy.default)
    assert msg["To"] == "r1@example.com" and msg["Subject"] == "Hello R1"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_body(("plain",)).get_content().strip() == "Manage: https://x/m/1"
    assert "https://x/m/1" in msg.get_body(("html",)).get_content()


def with_addresses(*addresses: str) -> MailBatch:
    return MailBatch(
        from_email="status@example.com",
        from_name="Status",
        subject="Hello",
        text="Hi",
        html="<p>Hi</p>",
        recipients=[MailRecipient(email=a, name="Zoë Ñandú") for a in addresses],
    )


INTERNATIONAL = ["x.ù@example.com", "jörg@bücher.example", "ann@bücher.example"]


def test_internationalised_addresses_file_backend(tmp_path):
    """A domain goes as its ASCII (IDNA) form; a part before the @ that is not ASCII is
    refused with the reason, never written as an RFC 2047 encoded-word."""
    mailer = FileMailer(str(tmp_path / "mail"))
    with pytest.raises(RejectedRecipients) as caught:
        mailer.send(with_addresses(*INTERNATIONAL))
    assert sorted(caught.value.reasons) == [0, 1]
    assert all("not ASCII" in why for why in caught.value.reasons.values())
    mailer.send(with_addresses(INTERNATIONAL[2]))
    (name,) = os.listdir(tmp_path / "mail")
    raw = (tmp_path / "mail" / name).read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["To"].addresses[0].addr_spec == "ann@xn--bcher-kva.example"
    assert msg["To"].addresses[0].display_name == "Zoë Ñandú"
    to_line = next(line for line in raw.split(b"\n") if line.startswith(b"To:"))
    assert b"<ann@xn--bcher-kva.example>" in to_line and b"=?utf-8?" not in to_line.split(b"<")[1]


def test_internationalised_addresses_sendgrid(server):
    mailer = SendGridMailer(API_KEY, server.url)
    with pytest.raises(RejectedRecipients) as caught:
        mailer.send(with_addresses(*INTERNATIONAL))
    assert sorted(caught.value.reasons) == [0, 1] and server.requests == []
    mailer.send(with_addresses(INTERNATIONAL[2]))
    assert server.recipients() == ["ann@xn--bcher-kva.example"]


@pytest.mark.parametrize("language", ["en", "es", "de"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_language_with_links_and_safe_html(kind, language):
    mail = render_notice(payload(kind), language, "Asia/Tokyo")
    assert mail.subject and "\n" not in mail.subject
    for part in (mail.text, mail.html):
        # staff alerts have no subscription to manage: no footer
        linked = kind not in STAFF_KINDS
        assert ("-manage_url-" in part and "-unsubscribe_url-" in part) is linked
    assert "<script>" not in mail.html


def test_maintenance_mail_has_the_four_details_in_three_zones():
    mail = render_notice(payload("maintenance_week_before"), "en", "Europe/London")
    text = mail.text
    # The reader's zone first, then MT (in July) and UTC: a line each, two times a line.
    assert (
        "Date and time: Sat, Jul 17, 2027, 05:00–11:00 BST\n"
        "  Fri, Jul 16, 22:00 – Sat, Jul 17, 04:00 MDT\n"
        "  Sat, Jul 17, 04:00–10:00 UTC\n"
    ) in text
    for needle in (
        "Platforms affected: Cisco, Contact Centre",
        "Description of the work",
        "Justification: Security fixes",
    ):
        assert needle in text


def test_master_case_is_marked_in_the_subject_in_german():
    mail = render_notice(payload("incident_updated"), "de", "Europe/Berlin")
    assert mail.subject == "[Hauptfall P1G] Aktualisierung zum Vorfall: Calls failing"
    assert "identifiziert" in mail.text and "<strong>fault</strong>" in mail.html


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        render_notice({"kind": "spam"}, "en", "UTC")
