"""The audit log: every staff change, with who, what, when, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from statuspage.models import AuditEntry, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    obj: Any,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
    label: str = "system",
    object_type: str | None = None,
) -> AuditEntry:
    """Add an audit entry for `action` on `obj`. Called inside the change's own transaction.

    Without an actor the change was made by the service itself or by a trusted operator;
    `label` says which ("system" for jobs and seeding, "cli" for an operator's command,
    "directory" for the single sign-on directory, "anonymous" for a failed sign-in). `obj`
    None (a failed sign-in naming no account) is recorded as `object_type` without an id.
    """
    session.flush()  # obj.id must be known for a created object
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        actor_label=actor.email if actor else label,
        action=action,
        object_type=object_type or type(obj).__name__,
        object_id=str(getattr(obj, "id", "") or "") or None,
        before=before,
        after=after,
        at=now,
    )
    session.add(entry)
    return entry
