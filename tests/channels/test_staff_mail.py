"""Staff alerts are not subscriber mail: no manage or unsubscribe links, no List-Unsubscribe."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import NOW, open_incident
from tests.outbox import add_subscribers, tick

FOOTER_WORDS = ("Manage your subscription", "Unsubscribe", "-manage_url-", "-unsubscribe_url-")


def test_p1g_overdue_alert_carries_no_subscriber_footer(app, db, css, sendgrid):  # noqa: F811
    add_subscribers(db, 1)
    open_incident(db, css, priority="P1G")
    tick(app, NOW + timedelta(minutes=61))
    on_duty = app.config["CSS_ON_DUTY_EMAIL"]
    alerts = [m for m in sendgrid.messages() if m.email == on_duty]
    assert len(alerts) == 1
    alert = alerts[0]
    for word in FOOTER_WORDS:
        assert word not in alert.text and word not in alert.html, word
    assert "/admin/incidents/" in alert.text  # its one link: the case, for staff
    assert not any(h.lower().startswith("list-unsubscribe") for h in alert.headers)
    # subscriber mail of the same tick keeps its footer and one-click unsubscribe
    subscriber = next(m for m in sendgrid.messages() if m.email != on_duty)
    assert "Unsubscribe" in subscriber.text and "/subscriptions/" in subscriber.text
    assert "List-Unsubscribe" in subscriber.headers
