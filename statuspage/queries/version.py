"""The published data's version: the one read a cached public request makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from statuspage.models import DataVersion
from statuspage.models.versions import ROW_ID


@dataclass(frozen=True)
class Version:
    version: int
    changed_at: datetime


def current(session: Session) -> Version | None:
    """The version row by its primary key; None where the schema has none yet."""
    row = session.execute(
        select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == ROW_ID)
    ).first()
    return Version(row.version, row.changed_at) if row is not None else None
