"""The published data's version: the one read a cached public request makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from statuspage.models import DataVersion
from statuspage.models.versions import ROW_ID

CURRENT = select(DataVersion.version, DataVersion.changed_at).where(DataVersion.id == ROW_ID)


@dataclass(frozen=True)
class Version:
    version: int
    changed_at: datetime


def current(bind: Session | Engine) -> Version | None:
    """The version row by its primary key; None where the schema has none yet.

    Given the engine, it reads on a pooled connection of its own, without an ORM session:
    that is most of the cost of a request answered from the render cache.
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            row = connection.execute(CURRENT).first()
    else:
        row = bind.execute(CURRENT).first()
    return Version(row.version, row.changed_at) if row is not None else None
