"""The published data's version: one row, bumped in the same transaction as every write
that changes what the public pages, the API, the feeds or the calendars show.

Readers key their render caches and ETags on it, so a cache check costs one primary-key
read and a write is seen by every worker and machine on the very next request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, event, insert
from sqlalchemy.orm import Mapped, mapped_column

from statuspage.extensions import Model
from statuspage.types import UTCDateTime

ROW_ID = 1


class DataVersion(Model):
    """The single row (id 1) counting changes to published data."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


@event.listens_for(DataVersion.__table__, "after_create")
def _first_row(target: Any, connection: Any, **_: Any) -> None:
    """A schema built from the models (tests, `create_all`) gets its row like a migrated one."""
    connection.execute(insert(target).values(id=ROW_ID, version=0, changed_at=datetime.now(UTC)))
