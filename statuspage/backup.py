"""Backups of the embedded SQLite database, taken and restored while the service runs.

- `backup(database, target)` copies the database with SQLite's online backup API in one
  step, under one read transaction: a consistent copy of one moment, taken while the service
  goes on writing (in WAL mode writers never wait for a reader). It is written beside
  `target` first, readable by its owner only (it holds subscribers' addresses and staff
  password hashes), checked with `PRAGMA integrity_check`, made a self-contained file (no
  WAL), and then renamed into place.
- `restore(source, database)` checks the file (sound, and a database of this service: it
  has the schema's version tables), then copies it into the database through the same API,
  under the database's write lock: a connection of a running service sees the database as
  it was or as restored, never a mix. The data version (the key of every worker's render
  cache, `statuspage.changes`) is set well above the replaced database's, so no worker serves
  a page rendered before the restore.

PostgreSQL has its own tools, `pg_dump` and `pg_restore` (docs/operations.md).
No Flask here: the command line (`statuspage.cli_backup`) decides when a restore may run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

# A restored data version is this far above the replaced one: a write committed while the
# restore was prepared (it is then lost) can never have rendered a page under the number the
# restored data gets.
VERSION_STEP = 1000


class BackupError(Exception):
    """The file is not a backup this service can restore, or the copy failed."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds, as the command line reports it."""

    revision: str | None  # the schema's Alembic revision
    data_version: int
    notices: int
    deliveries: int
    size: int  # bytes


def _connect(path: str, *, uri: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, uri=uri, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def _summary(conn: sqlite3.Connection, path: str) -> Summary:
    def one(sql: str) -> object:
        try:
            row = conn.execute(sql).fetchone()
        except sqlite3.OperationalError:  # no such table: a schema made without migrations
            return None
        return row[0] if row else None

    return Summary(
        revision=str(one("SELECT version_num FROM alembic_version") or "") or None,
        data_version=int(one("SELECT version FROM data_version WHERE id = 1") or 0),  # type: ignore[call-overload]
        notices=int(one("SELECT count(*) FROM notice") or 0),  # type: ignore[call-overload]
        deliveries=int(one("SELECT count(*) FROM delivery") or 0),  # type: ignore[call-overload]
        size=os.path.getsize(path),
    )


def inspect(path: str) -> Summary:
    """What the backup at `path` holds; BackupError when it is not a sound database of
    this service."""
    try:
        conn = _connect(f"file:{os.path.abspath(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened as a SQLite database: {exc}") from None
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise BackupError(f"{path} is damaged: {check[0] if check else 'no answer'}")
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        missing = {"data_version", "notice", "delivery"} - tables
        if missing:
            raise BackupError(
                f"{path} is not a database of this service (no {', '.join(sorted(missing))})"
            )
        return _summary(conn, path)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    finally:
        conn.close()


def backup(database: str, target: str) -> Summary:
    """Copy the live SQLite `database` to `target` (replaced if it exists)."""
    partial = f"{target}.partial"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(partial)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    source = _connect(database)
    try:
        copy = _connect(partial)
        try:
            source.backup(copy)  # one step: one read transaction, one moment
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
        summary = inspect(partial)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    finally:
        source.close()
    return Summary(**{**summary.__dict__, "size": os.path.getsize(target)})


def restore(source: str, database: str, *, now: datetime | None = None) -> Summary:
    """Replace the SQLite `database` (live or not, created if missing) with the backup at
    `source`; its data version is set above the replaced one's. Returns what was restored."""
    if os.path.exists(database) and os.path.samefile(source, database):
        raise BackupError("the backup is the database itself")
    restored = inspect(source)
    staged = f"{database}.restoring"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(staged)
    os.close(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        live = _connect(database)
        try:
            tables = {row[0] for row in live.execute("SELECT name FROM sqlite_master")}
            replaced = 0
            if "data_version" in tables:
                row = live.execute("SELECT version FROM data_version WHERE id = 1").fetchone()
                replaced = int(row[0]) if row else 0
            version = max(replaced, restored.data_version) + VERSION_STEP
            copy = _connect(staged)
            try:
                reader = _connect(source)
                try:
                    reader.backup(copy)
                finally:
                    reader.close()
                copy.execute(
                    "UPDATE data_version SET version = ?, changed_at = ? WHERE id = 1",
                    (version, (now or datetime.now(UTC)).replace(tzinfo=None).isoformat(" ")),
                )
                copy.backup(live)  # under the live database's write lock
            finally:
                copy.close()
        finally:
            live.close()
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)
    return Summary(**{**restored.__dict__, "data_version": version})
