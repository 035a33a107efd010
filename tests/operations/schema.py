"""The schema's migration mark, as the readiness and doctor tests set it."""

from __future__ import annotations

from sqlalchemy import text

from statuspage import readiness


def stamp(db, revision: str | None = None) -> None:
    """Mark the schema as migrated to `revision` (the head by default), as `flask init` does."""
    (head,) = readiness.migration_heads()
    db.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
    db.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision or head})
    db.commit()
