"""While a master case (P1G) is open, every public page carries a banner linking to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statuspage.services import incidents
from tests.helpers import NOW, master_case

PAGES = ["/", "/incidents/{other}", "/maintenance", "/history", "/subscribe"]


@pytest.fixture
def cases(db, css):
    opened, cisco_down = NOW - timedelta(minutes=20), {"cisco": "major_outage"}
    title = "Calls failing across customers"
    master = master_case(
        db, css, case_number="CS-9001", title=title, platforms=cisco_down, now=opened
    )
    other = incidents.create_incident(db, css, title="Portal slow", priority="P3", now=NOW)
    db.commit()
    return master, other


def banner(page: str) -> str:
    start = page.find('<aside class="master-banner"')
    return page[start : page.index("</aside>", start)] if start >= 0 else ""


@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_links_to_the_open_master_case(client, cases, path):
    master, other = cases
    page = client.get(path.format(other=other.id)).get_data(as_text=True)
    shown = banner(page)
    assert f'href="/incidents/{master.id}"' in shown, path
    assert "Calls failing across customers" in shown and "CS-9001" in shown
    # 14:40 UTC + 1 h = 15:40 UTC = 08:40 MST
    assert "Next update due" in shown and "Fri, Nov 20, 08:40 MST" in shown


def test_the_banner_gives_the_etr_when_the_last_update_gave_one(client, db, css, cases):
    master, _ = cases
    etr = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)
    incidents.post_update(db, css, master, body="Carrier card swap", etr=etr, now=NOW)
    db.commit()
    shown = banner(client.get("/history").get_data(as_text=True))
    assert "Estimated time of resolution" in shown and "Fri, Nov 20, 13:00 MST" in shown


def test_no_banner_without_an_open_master_case_and_cached_pages_drop_it(client, db, css, cases):
    master, _ = cases
    for path in ("/history", "/maintenance", "/"):
        assert banner(client.get(path).get_data(as_text=True)), path
    incidents.resolve(db, css, master, body="Fixed", now=NOW + timedelta(minutes=1))
    db.commit()
    for path in ("/history", "/maintenance", "/", "/subscribe"):
        assert not banner(client.get(path).get_data(as_text=True)), path


def test_an_ordinary_incident_has_no_banner(client, db, engineer):
    incidents.create_incident(db, engineer, title="Portal slow", priority="P1", now=NOW)
    db.commit()
    assert not banner(client.get("/").get_data(as_text=True))


def test_the_banner_is_one_query(app, db, cases):
    from sqlalchemy import event

    from statuspage.extensions import db as _db
    from statuspage.queries import incidents as incident_queries

    statements: list[str] = []
    db.expunge_all()
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listen)
    try:
        [found] = incident_queries.master_case_banner(db)
        assert found.next_update_due == NOW + timedelta(minutes=40)
    finally:
        event.remove(_db.engine, "before_cursor_execute", listen)
    assert len(statements) == 1
