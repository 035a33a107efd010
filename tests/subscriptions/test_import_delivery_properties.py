"""Property test: whatever an MPOC contact list holds, and whatever rows were stored before
the input rules, a notice still reaches every other contact exactly once.

Arbitrary names and address local parts go through the CSV import (rows are refused or
imported); a few more contacts with hostile names and addresses a provider refuses are
written straight into the database, as rows from before the rules were. Then an incident
notice is delivered by the embedded default's file backend. SQLite only, like the other
property tests (`tests/security/test_text_properties.py`); `HYPOTHESIS_PROFILE=nightly` runs 1,000.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from statuspage.models import Delivery, Notice, Platform, Subscriber, Subscription
from statuspage.services import ValidationError
from statuspage.services.subscriptions import mpoc
from tests.delivery.bad_input import BAD_ADDRESSES, HOSTILE_NAMES, eml_files
from tests.helpers import NOW, open_incident
from tests.outbox import tick
from tests.security.hostile import FORM_TEXT, SHARED

EXAMPLE = itertools.count()
LOCAL = st.one_of(
    st.from_regex(r"[a-z0-9._+-]{1,20}", fullmatch=True),
    FORM_TEXT.map(lambda text: text[:40]),
)
CONTACTS = st.lists(st.tuples(FORM_TEXT.map(lambda text: text[:200]), LOCAL), max_size=8)
SPOILED = st.lists(
    st.tuples(st.sampled_from(HOSTILE_NAMES), st.sampled_from(BAD_ADDRESSES)),
    max_size=3,
    unique_by=lambda pair: pair[1],
)


# Properties of rendering and import, not of a database: SQLite only.
pytestmark = pytest.mark.one_backend


def contact_list(prefix: str, contacts: list[tuple[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "name", "platforms", "topics", "language"])
    for i, (name, local) in enumerate(contacts):
        writer.writerow([f"{prefix}{i}.{local}@example.com", name, "cisco", "incidents", "en"])
    return out.getvalue()


def store_behind_the_services_back(db, prefix: str, spoiled) -> set[str]:
    cisco = db.scalar(select(Platform.id).where(Platform.slug == "cisco"))
    then = NOW - timedelta(days=1)
    addresses = set()
    for name, bad in spoiled:
        address = prefix + bad
        stamps = {"confirmed_at": then, "created_at": then}
        subscriber = Subscriber(
            address=address, name=name, source="import", updated_at=then, **stamps
        )
        subscriber.subscriptions.append(
            Subscription(platform_id=cisco, incidents=True, maintenance=False, **stamps)
        )
        db.add(subscriber)
        addresses.add(address)
    db.commit()
    return addresses


@SHARED
@given(contacts=CONTACTS, spoiled=SPOILED)
# A part before the @ that is not ASCII: imported once, then written as an encoded-word.
@example(contacts=[("Zoë", "ù")], spoiled=[])
def test_any_contact_list_then_delivery_reaches_every_other_contact_once(
    app, db, css, contacts, spoiled
):
    app.config.update(SENDGRID_API_KEY=None)  # the embedded default: .eml files
    outbox = Path(app.instance_path) / "mail"
    prefix = f"x{next(EXAMPLE)}-"
    before = db.scalar(select(func.count(Subscriber.id)))
    try:
        rows = list(mpoc.read_csv(io.StringIO(contact_list(prefix, contacts))))
        result = mpoc.import_contacts(db, rows, actor=css, now=NOW - timedelta(days=1))
    except ValidationError:
        db.rollback()
        assert db.scalar(select(func.count(Subscriber.id))) == before
    else:
        db.commit()
        assert result.created + result.updated + len(result.errors) == len(contacts)
    imported = set(
        db.scalars(select(Subscriber.address).where(Subscriber.address.startswith(f"{prefix}")))
    )
    poisoned = store_behind_the_services_back(db, prefix, spoiled)
    open_incident(db, css)
    notice_id = db.scalar(select(func.max(Notice.id)))
    tick(app, NOW)

    db.expire_all()
    outcome = dict(
        db.execute(
            select(Delivery.address, Delivery.status).where(
                Delivery.notice_id == notice_id, Delivery.address.startswith(prefix)
            )
        ).all()
    )
    # Every contact the import took gets the notice; each poisoned row fails alone, with
    # a reason; nothing is left in flight.
    assert {a for a, s in outcome.items() if s == "sent"} == imported
    assert {a for a, s in outcome.items() if s == "failed"} == poisoned
    reasons = db.scalars(
        select(Delivery.last_error).where(
            Delivery.notice_id == notice_id, Delivery.status == "failed"
        )
    ).all()
    assert all(reasons)
    received = Counter(
        m["To"].addresses[0].addr_spec
        for m in eml_files(outbox)
        if m["To"].addresses[0].addr_spec.startswith(prefix)
    )
    assert set(received) == imported and set(received.values()) <= {1}
