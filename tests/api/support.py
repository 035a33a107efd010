"""What the API tests (and other tests that call the API) share: the Manage API's base path,
tokens, Cisco's id, a validator against the OpenAPI document, and the page the public API and
its clients read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.models import Incident, Platform, User
from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.helpers import NOW, api_headers, master_case, open_incident

# The Manage API (v1) of the one page.
BASE = "/api/v1/pages/calltower"


def token_for(session: Session, role: str) -> dict[str, str]:
    """The Authorization header of a new API token of a new staff member of `role`."""
    return api_headers(session, role)


def cisco_id(session: Session) -> str:
    """Cisco's component id, as the Manage API writes it."""
    return str(session.scalar(select(Platform.id).where(Platform.slug == "cisco")))


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for a schema whose $refs point into the document's components."""
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(spec))
    return jsonschema.Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("urn:spec" + v if k == "$ref" else _rebase(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def master_case_with_history(
    session: Session, css: User, *, opened: datetime, old_opened: datetime, **fields: Any
) -> Incident:
    """The page an API reader sees: a master case (Cisco in major outage) opened at `opened`,
    an old P3 incident "Old" (no platforms, no impact) opened at `old_opened` and resolved a
    day later, and the seeded maintenance series expanded. `fields` go to the master case.
    Committed; returns the master case."""
    master = master_case(
        session, css, platforms={"cisco": "major_outage"}, now=opened, commit=False, **fields
    )
    old = open_incident(
        session, css, old_opened, "P3", title="Old", body="", impact="none", platforms={}
    )
    incidents.resolve(session, css, old, body="Fixed", now=old_opened + timedelta(days=1))
    seed_series(session, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(session, NOW)
    session.commit()
    return master
