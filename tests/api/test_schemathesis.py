"""Schemathesis against the served document: both APIs keep /api/openapi.json.

A live server on 127.0.0.1 over a fresh database holding the demo page (incidents, windows,
subscribers), a css token for the Manage API, and Schemathesis's command line with every
check on every operation (`--checks all`), derandomised and bounded, asserting no failure.
tests/schemathesis.toml and tests/schemathesis_checks.py say how a rule beyond the schemas
is held. Channel URLs are resolved by a fake resolver to 127.0.0.1, and any connection
elsewhere fails, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from statuspage import create_app
from statuspage.extensions import db as _db
from statuspage.models import User
from statuspage.seed import demo
from statuspage.services import staff
from tests.helpers import NOW, PROJECT_ROOT, app_config
from tests.live import serve

ROOT = PROJECT_ROOT
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Examples per operation in the fuzzing phase (the examples, coverage and stateful phases
# come on top): enough to reach every operation's refusals and successes, few enough that a
# run takes about 40 s of CPU on two cores.
MAX_EXAMPLES = 10


def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every name resolves to 127.0.0.1, and a connection anywhere else fails."""

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))]

    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            raise AssertionError(f"a connection to {address} was attempted")
        real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def served(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """(base URL, css token) of a server over a fresh database seeded with the demo page."""
    config = app_config(db_url, NOW)
    del config["TESTING"]  # the server as it runs in production, not in test mode
    # Channel URLs resolve to 127.0.0.1 here (the fake resolver), as in tests.
    app = create_app({**config, "WEBHOOK_ALLOW_LOOPBACK": True})
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        _db.create_all()
        demo.seed(
            _db.session,
            now=NOW,
            tz_name=app.config["STATUSPAGE_TIMEZONE"],
            connect_anchor=date(2026, 1, 5),
        )
        css = _db.session.scalar(select(User).where(User.role == "css"))
        assert css is not None
        token, _ = staff.create_token(_db.session, None, css, name="schemathesis", now=NOW)
        _db.session.commit()
        _db.session.remove()
    _loopback_only(monkeypatch)
    try:
        with serve(app) as base:
            yield base, token
    finally:
        with app.app_context():
            _db.drop_all()
            _db.engine.dispose()


@pytest.mark.slow
def test_both_apis_keep_their_document(served: tuple[str, str], tmp_path: Path) -> None:
    """Every operation of the Manage API v1 (with the css token) and the public API v2,
    every check, the examples, coverage, fuzzing and stateful phases, derandomised: no
    failure. A failure prints Schemathesis's report, with a curl line to reproduce it."""
    base, token = served
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_checks",
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(ROOT / "tests" / "schemathesis.toml"),
            "run",
            f"{base}/api/openapi.json",
            "--checks",
            "all",
            "--header",
            f"Authorization: OAuth {token}",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",
            "--workers",
            "1",
            "--request-timeout",
            "10",
            "--report",
            "json",
            "--report-json-path",
            str(report),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    summary = json.loads(report.read_text())
    operations = summary["operations"]
    # Every operation of the document was tested (none skipped or errored), in every phase.
    assert operations["tested"] == operations["total"] == operations["selected"] >= 27
    assert not operations["errored"] and not operations["skipped"]
    assert summary["failures"] == [] and summary["errors"] == []
    assert {
        name for name, phase in summary["phases"].items() if phase["status"] != "success"
    } == set()
