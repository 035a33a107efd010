"""The incident rules, straight through the service layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage.models import AuditEntry, Incident, Platform
from statuspage.services import PermissionDenied, ValidationError
from statuspage.services import incidents as svc
from statuspage.services import platforms as platform_service
from tests.helpers import open_incident


def platform(db, slug):
    return platform_service.get_by_slug(db, slug)


def test_incident_puts_its_platforms_in_their_status(db, engineer, now):
    partial = {"cisco": "partial_outage"}
    incident = open_incident(
        db, engineer, now, title="Calls dropping", body="Looking", platforms=partial
    )
    assert platform(db, "cisco").status == "partial_outage"
    change = incident.updates[0].platform_changes[0]
    assert (change.old_status, change.new_status) == ("operational", "partial_outage")


def test_resolving_returns_platform_to_operational(db, engineer, now):
    incident = open_incident(db, engineer, now, "P1", title="Down", impact="critical", commit=False)
    svc.resolve(db, engineer, incident, body="Fixed", now=now + timedelta(hours=1))
    db.commit()
    assert platform(db, "cisco").status == "operational"
    assert incident.resolved_at == now + timedelta(hours=1)


def test_resolving_keeps_platform_held_by_another_open_incident(db, engineer, now):
    first = open_incident(db, engineer, now, title="A", commit=False)
    degraded = {"cisco": "degraded_performance"}
    open_incident(db, engineer, now, title="B", platforms=degraded, commit=False)
    svc.resolve(db, engineer, first, body="A fixed", now=now)
    db.commit()
    assert platform(db, "cisco").status == "degraded_performance"


def test_engineer_cannot_designate_p1g(db, engineer, now):
    with pytest.raises(PermissionDenied):
        svc.create_incident(
            db, engineer, title="Global", priority="P1G", case_number="C-1", now=now
        )
    incident = svc.create_incident(db, engineer, title="Local", priority="P1", now=now)
    with pytest.raises(PermissionDenied):
        svc.designate_p1g(db, engineer, incident, case_number="C-2", now=now)


def test_css_designates_and_removes_p1g_with_audit(db, css, now):
    incident = svc.create_incident(db, css, title="Local", priority="P1", now=now)
    svc.designate_p1g(
        db, css, incident, case_number="CS-100", customer_case_numbers="CS-1, CS-2", now=now
    )
    db.commit()
    assert incident.is_master_case
    assert incident.customer_case_numbers == ["CS-1", "CS-2"]
    svc.remove_p1g(db, css, incident, priority="P2", now=now)
    db.commit()
    actions = db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert "incident.designate_p1g" in actions and "incident.remove_p1g" in actions


def test_engineer_cannot_remove_p1g(db, css, engineer, now):
    incident = svc.create_incident(
        db, css, title="Global", priority="P1G", case_number="C-1", now=now
    )
    with pytest.raises(PermissionDenied):
        svc.remove_p1g(db, engineer, incident, now=now)
    with pytest.raises(PermissionDenied):
        svc.delete_incident(db, engineer, incident, now=now)


def test_master_case_needs_case_number(db, css, now):
    with pytest.raises(ValidationError) as exc:
        svc.create_incident(db, css, title="Global", priority="P1G", now=now)
    assert "case_number" in exc.value.errors


def test_p1g_update_due_hourly_and_overdue(db, css, now):
    incident = svc.create_incident(
        db, css, title="Global", priority="P1G", case_number="C-1", now=now
    )
    assert incident.next_update_due == now + timedelta(hours=1)
    assert not incident.is_update_overdue(now + timedelta(minutes=59))
    assert incident.is_update_overdue(now + timedelta(minutes=61))
    svc.post_update(db, css, incident, body="Still working", now=now + timedelta(minutes=50))
    assert incident.next_update_due == now + timedelta(minutes=110)
    svc.resolve(db, css, incident, body="Done", now=now + timedelta(minutes=70))
    assert incident.next_update_due is None


def test_invalid_incident_writes_nothing(db, engineer, now):
    before = db.scalar(select(Platform.status).where(Platform.slug == "cisco"))
    with pytest.raises(ValidationError) as exc:
        wrong = {"cisco": "on_fire", "nope": "major_outage"}
        open_incident(db, engineer, now, "P9", title="", impact="apocalyptic", platforms=wrong)
    db.rollback()
    assert set(exc.value.errors) >= {"title", "impact", "priority", "components"}
    assert db.scalar(select(Incident).limit(1)) is None
    assert db.scalar(select(Platform.status).where(Platform.slug == "cisco")) == before
