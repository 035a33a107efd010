"""Commands for subscribers and jobs: import with per-row errors, tick at a moment, one
scheduler at a time."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sqlalchemy import func, select

from statuspage.models import Subscriber
from tests.helpers import PROJECT_ROOT

ROOT = str(PROJECT_ROOT)


def test_subscribers_import_reports_rows_and_keeps_good_ones(runner, db, tmp_path):
    path = tmp_path / "mpoc.csv"
    path.write_text(
        "email,name,organisation,platforms,topics,language\n"
        "a@example.com,A,Org,cisco;contact-centre,incidents,en\n"
        "broken,B,Org,cisco,incidents,en\n"
        "c@example.com,C,Org,atlantis,maintenance,de\n"
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 created, 0 updated, 2 rows with errors" in result.output
    assert "line 3: email" in result.output and "line 4: platforms" in result.output
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 1


def test_subscribers_import_refuses_a_file_without_the_columns(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name\nA\n")
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code != 0 and "missing column" in result.output


def test_jobs_tick_at_a_moment(runner, db):
    result = runner.invoke(args=["jobs", "tick", "--at", "2026-12-18T22:00-07:00"])
    assert result.exit_code == 0, result.output
    assert "tick at 2026-12-18T22:00:00-07:00" in result.output
    bad = runner.invoke(args=["jobs", "tick", "--at", "next friday"])
    assert bad.exit_code != 0 and "ISO-8601" in bad.output


def test_a_second_scheduler_waits_for_the_first(app, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
    }
    logs = [open(tmp_path / f"run{i}.log", "wb") for i in (1, 2)]  # noqa: SIM115
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "statuspage", "jobs", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            held = [b"lock held" in (tmp_path / f"run{i}.log").read_bytes() for i in (1, 2)]
            if any(held):
                break
            time.sleep(0.2)
        time.sleep(2)
        held = [b"lock held" in (tmp_path / f"run{i}.log").read_bytes() for i in (1, 2)]
        assert held.count(True) == 1, held  # one runs, the other waits
        first = held.index(True)
        procs[first].terminate()
        procs[first].wait(timeout=20)
        deadline = time.monotonic() + 30
        other = 1 - first
        while (
            time.monotonic() < deadline
            and b"lock held" not in (tmp_path / f"run{other + 1}.log").read_bytes()
        ):
            time.sleep(0.2)
        assert b"lock held" in (tmp_path / f"run{other + 1}.log").read_bytes()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
        for log in logs:
            log.close()


def test_subscribers_import_lists_addresses_mail_cannot_reach(runner, db, tmp_path):
    path = tmp_path / "mpoc.csv"
    path.write_text(
        "email,name,organisation,platforms,topics,language\n"
        "a@example.com,A,Org,cisco,incidents,en\n"
        "x.ù@example.com,X,Org,cisco,incidents,en\n"
        "ann@bücher.example,Ann,Org,cisco,incidents,en\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["subscribers", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated, 1 rows with errors" in result.output
    assert "line 3: email: use an address whose part before the @ is ASCII only" in result.output
    assert set(db.scalars(select(Subscriber.address))) == {"a@example.com", "ann@bücher.example"}
