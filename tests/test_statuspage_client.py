"""A published Statuspage API client (the statuspage.io npm package) reads this service."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, timedelta

import pytest

from statuspage.seed.defaults import seed_series
from statuspage.services import incidents, maintenance
from tests.conftest import NOW
from tests.live import serve

JS = os.path.join(os.path.dirname(__file__), "js")


def test_statuspage_client_reads_status_incidents_and_maintenance(app, db, css):
    if shutil.which("node") is None or not os.path.isdir(
        os.path.join(JS, "node_modules", "statuspage.io")
    ):
        pytest.skip("the client is not installed: run `npm ci --prefix tests/js` (make test does)")
    master = incidents.create_incident(
        db,
        css,
        title="Calls failing",
        body="Investigating",
        impact="critical",
        priority="P1G",
        case_number="CS-1",
        platform_statuses={"cisco": "major_outage"},
        now=NOW - timedelta(minutes=10),
    )
    old = incidents.create_incident(
        db, css, title="Old", priority="P3", now=NOW - timedelta(days=2)
    )
    incidents.resolve(db, css, old, body="Fixed", now=NOW - timedelta(days=1))
    seed_series(db, NOW, tz_name="America/Denver", connect_anchor=date(2026, 1, 6))
    maintenance.expand_series(db, NOW)
    db.commit()
    with serve(app) as base:
        result = subprocess.run(
            ["node", os.path.join(JS, "read_status.js"), base],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["status"]["status"] == {
        "indicator": "critical",
        "description": "Major Service Outage",
    }
    statuses = {c["name"]: c["status"] for c in got["components"]["components"]}
    assert statuses["Cisco"] == "major_outage" and len(statuses) == 7
    [open_incident] = got["unresolved"]["incidents"]
    assert open_incident["id"] == str(master.id) and open_incident["impact"] == "critical"
    assert open_incident["incident_updates"][0]["body"] == "Investigating"
    assert [i["name"] for i in got["incidents"]["incidents"]] == ["Calls failing", "Old"]
    assert got["summary"]["page"]["name"] == "CallTower Network Status"
    names = {m["name"] for m in got["upcoming"]["scheduled_maintenances"]}
    assert "Monthly scheduled maintenance" in names
    assert all(
        m["scheduled_for"] and m["scheduled_until"]
        for m in got["maintenances"]["scheduled_maintenances"]
    )
