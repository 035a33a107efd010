"""Backup under writes, restore, serve: the restored page, feeds, API and outbox (notices and
deliveries, with their states) are the source's at one moment of the backup, though the
service wrote throughout. SQLite: `flask backup` / `flask restore`; PostgreSQL: `pg_dump` /
`pg_restore` from the server binaries, as docs/operations.md says.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import stamp
from sqlalchemy import select
from sqlalchemy.engine import make_url

from jobs import delivery
from jobs import lock as job_locks
from jobs import scheduler as job_scheduler
from statuspage import channels, create_app
from statuspage.extensions import db as _db
from statuspage.mail.memory import MemoryMailer
from statuspage.models import Delivery, Notice
from statuspage.services import incidents
from tests import pg
from tests.helpers import NOW, app_config
from tests.outbox import add_subscribers

PAGES = [
    "/",
    "/history",
    "/history.rss",
    "/history.atom",
    "/maintenance.ics",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
]


@dataclass
class Moment:
    """The service as one writer transaction left it."""

    pages: dict[str, bytes]
    outbox: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def outbox(session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    notices = session.execute(select(Notice.__table__).order_by(Notice.id)).all()
    deliveries = session.execute(select(Delivery.__table__).order_by(Delivery.id)).all()
    return [tuple(r) for r in notices], [tuple(r) for r in deliveries]


def pages(app: Flask) -> dict[str, bytes]:
    client = app.test_client()
    found = {}
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        found[path] = response.get_data()
    return found


@dataclass
class Writer:
    """Writes as staff and the jobs would, one transaction at a time, and keeps what the
    service served after each: incidents that notify 30 subscribers, fanned out and
    delivered a batch of ten at a time (so deliveries are queued, sent and in between)."""

    app: Flask
    moments: list[Moment] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.app.app_context():
                session = _db.session
                ctx = job_scheduler.delivery_context(self.app)
                ctx.transports["email"], ctx.concurrency = MemoryMailer(), 1
                from statuspage.services import staff

                css = staff.find_user(session, "css@example.com")
                n = 0
                while not self.stop.is_set() or n < 4:
                    n += 1
                    if n % 3:
                        incidents.create_incident(
                            session,
                            css,
                            title=f"Calls failing in region {n}",
                            body="Investigating",
                            impact="minor",
                            platform_statuses={"cisco": "partial_outage"},
                            now=NOW,
                        )
                        session.commit()
                    else:
                        delivery.fan_out(session, NOW)
                        delivery.deliver(session, NOW, ctx, max_batches=1)
                    self.moments.append(Moment(pages(self.app), outbox(session)))
                session.remove()
        except BaseException as exc:  # reported by the test
            self.error = exc


@pytest.fixture(autouse=True)
def migrated(app) -> None:
    """The test database is built from the models; `flask init` would have recorded the
    schema's revision, which a restore checks."""
    stamp()


@pytest.fixture
def writing(app, db, css, monkeypatch) -> Iterator[Writer]:
    add_subscribers(db, 30)
    # Email batches of ten, so a backup finds deliveries queued, sent and in between.
    monkeypatch.setattr(channels.get("email"), "batch_size", 10)
    writer = Writer(app)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        yield writer
    finally:
        writer.stop.set()
        thread.join(60)
        assert writer.error is None, writer.error


def wait_for_moments(writer: Writer, count: int) -> None:
    import time

    deadline = time.monotonic() + 60
    while len(writer.moments) < count and writer.error is None:
        assert time.monotonic() < deadline, "the writer is stuck"
        time.sleep(0.05)


def pg_args(url: str) -> list[str]:
    parsed = make_url(url)
    return ["-h", str(parsed.host), "-p", str(parsed.port), "-U", str(parsed.username)]


def restored_app(url: str, tmp_path: Path) -> Flask:
    app = create_app(app_config(url, NOW))
    app.instance_path = str(tmp_path / "restored-instance")
    os.makedirs(app.instance_path, exist_ok=True)
    return app


def test_a_backup_taken_under_writes_restores_the_pages_feeds_and_outbox_of_its_moment(
    request, app, db_url, writing, tmp_path
):
    file = tmp_path / "backup.db"
    wait_for_moments(writing, 3)
    before = len(writing.moments)
    if db_url.startswith("sqlite"):
        made = app.test_cli_runner().invoke(args=["backup", str(file)])
        assert made.exit_code == 0, made.output
        assert "backed up" in made.output
    else:
        database = make_url(db_url).database
        subprocess.run(
            [
                str(pg.PG_BIN / "pg_dump"),
                *pg_args(db_url),
                "--format=custom",
                "--file",
                str(file),
                str(database),
            ],
            check=True,
            capture_output=True,
        )
    after_backup = len(writing.moments)
    wait_for_moments(writing, after_backup + 3)
    writing.stop.set()
    wait_for_moments(writing, after_backup + 4)

    if db_url.startswith("sqlite"):
        target = restored_app(f"sqlite:///{tmp_path / 'restored.db'}", tmp_path)
        with target.app_context():  # the command runs in the app of the context it finds
            done = target.test_cli_runner().invoke(args=["restore", str(file)])
        assert done.exit_code == 0, done.output
    else:
        cluster: pg.Cluster = request.getfixturevalue("pg_cluster")
        name = cluster.create_database(template=None)
        subprocess.run(
            [
                str(pg.PG_BIN / "pg_restore"),
                *pg_args(db_url),
                "--no-owner",
                "--dbname",
                name,
                str(file),
            ],
            check=True,
            capture_output=True,
        )
        target = restored_app(cluster.url(name), tmp_path)
    with target.app_context():
        restored = Moment(pages(target), outbox(_db.session))
        _db.session.remove()
        _db.engine.dispose()

    # The restored service is the source as one of its transactions left it, not a mix of
    # two: its outbox is the one after exactly one write, and so are its pages.
    matches = [i for i, m in enumerate(writing.moments) if m.outbox == restored.outbox]
    assert len(matches) == 1, "the restored outbox is no moment of the source"
    moment = writing.moments[matches[0]]
    for path in PAGES:
        assert restored.pages[path] == moment.pages[path], path
    # Taken while the writer wrote: after some writes, before others.
    assert before - 1 <= matches[0] <= after_backup
    assert 0 < matches[0] < len(writing.moments) - 1
    # Deliveries in more than one state came back as they were.
    notices, deliveries = restored.outbox
    status = list(Delivery.__table__.c.keys()).index("status")
    assert notices and {"queued", "sent"} <= {row[status] for row in deliveries}


def sqlite_only(db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("flask backup and restore are the embedded SQLite database's")


def test_a_backup_is_readable_by_its_owner_only(app, db_url, tmp_path):
    sqlite_only(db_url)
    file = tmp_path / "backup.db"
    assert app.test_cli_runner().invoke(args=["backup", str(file)]).exit_code == 0
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not Path(f"{file}.partial").exists()


def test_restore_refuses_while_a_scheduler_runs_unless_told_and_then_every_page_follows(
    app, client, db, css, db_url, tmp_path
):
    sqlite_only(db_url)
    incidents.create_incident(db, css, title="Before the backup", now=NOW)
    db.commit()
    file = tmp_path / "backup.db"
    assert app.test_cli_runner().invoke(args=["backup", str(file)]).exit_code == 0
    incidents.create_incident(db, css, title="After the backup", now=NOW)
    db.commit()
    assert "After the backup" in client.get("/").get_data(as_text=True)  # rendered, cached

    scheduler = job_locks.scheduler_lock(app)
    assert scheduler.acquire(threading.Event())  # as `serve` or `jobs run` holds it
    try:
        refused = app.test_cli_runner().invoke(args=["restore", str(file)])
        assert refused.exit_code != 0
        assert "stop the service, restore, start it again" in refused.output
        assert "--while-running" in refused.output
        assert "After the backup" in client.get("/").get_data(as_text=True)
        done = app.test_cli_runner().invoke(args=["restore", "--while-running", str(file)])
        assert done.exit_code == 0, done.output
    finally:
        scheduler.release()
    # The running app's render cache holds the page with the later incident; the restored
    # data's version is new to it, so it renders the restored data.
    page = client.get("/").get_data(as_text=True)
    assert "Before the backup" in page and "After the backup" not in page


def test_restore_refuses_a_file_that_is_not_a_backup_of_this_service(app, db_url, tmp_path):
    sqlite_only(db_url)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    other = tmp_path / "other.db"
    import sqlite3

    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    for path, words in ((junk, "not a SQLite database"), (other, "not a database of this")):
        refused = app.test_cli_runner().invoke(args=["restore", str(path)])
        assert refused.exit_code != 0 and words in refused.output, refused.output


def test_on_postgresql_the_commands_name_pg_dump_and_pg_restore(app, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's own tools")
    file = tmp_path / "backup.dump"
    backup = app.test_cli_runner().invoke(args=["backup", str(file)])
    assert backup.exit_code != 0 and "pg_dump --format=custom" in backup.output
    file.write_bytes(b"x")
    restore = app.test_cli_runner().invoke(args=["restore", str(file)])
    assert restore.exit_code != 0 and "pg_restore" in restore.output
