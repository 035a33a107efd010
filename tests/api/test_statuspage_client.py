"""Published Statuspage API clients drive this service unchanged, the host changed only.

The statuspage.io npm package reads the public API v2 (its subscriber calls aim at a v2 path
Statuspage no longer serves, so it cannot drive the Manage API). For the Manage API v1 the
tests run atlassian-statuspage from PyPI, generated from Statuspage's own OpenAPI document,
in its own environment (tests/pyclients/.venv, built by `make`: its exact pins clash with
the app's).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import timedelta

import pytest

from statuspage.services import staff
from tests.api.support import master_case_with_history
from tests.helpers import NOW, TESTS_DIR, make_user
from tests.live import serve

JS = os.path.join(str(TESTS_DIR), "js")
PYCLIENTS = os.path.join(str(TESTS_DIR), "pyclients")
PYCLIENT = os.path.join(PYCLIENTS, ".venv", "bin", "python")


def test_statuspage_client_reads_status_incidents_and_maintenance(app, db, css):
    if shutil.which("node") is None or not os.path.isdir(
        os.path.join(JS, "node_modules", "statuspage.io")
    ):
        pytest.skip("the client is not installed: run `npm ci --prefix tests/js` (make test does)")
    opened, old_opened = NOW - timedelta(minutes=10), NOW - timedelta(days=2)
    master = master_case_with_history(db, css, opened=opened, old_opened=old_opened)
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


def test_the_published_manage_api_client_drives_subscribers_and_maintenance(app, db):
    if not os.path.exists(PYCLIENT):
        pytest.skip("the client is not installed: `make test` builds tests/pyclients/.venv")
    css = make_user(db, "css", "automation@example.com")
    token, _ = staff.create_token(db, None, css, now=NOW)
    db.commit()
    from sqlalchemy import select

    from statuspage.models import MaintenanceWindow, Platform

    cisco = str(db.scalar(select(Platform.id).where(Platform.slug == "cisco")))
    with serve(app) as base:
        result = subprocess.run(
            [PYCLIENT, os.path.join(PYCLIENTS, "manage_api.py"), base, "calltower", token, cisco],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["listed_before"] == []
    confirmed, pending = got["created"]
    assert confirmed["email"] == "noc@customer.example" and confirmed["mode"] == "email"
    assert confirmed["skip_confirmation_notification"] is True
    assert pending["skip_confirmation_notification"] is False
    assert got["shown"]["id"] == confirmed["id"]
    # state=all, sorted by address, one a page, the second page (pages count from 0)
    assert [s["email"] for s in got["listed_all"]] == ["ops@customer.example"]
    # Its opt-in mail went out at creation, moments ago: the address's allowance holds (the
    # present state refuses it: a conflict).
    assert got["resent"]["status"] == 409 and "subscriber" in got["resent"]["body"]["errors"]
    assert got["deleted"]["id"] == confirmed["id"]
    assert got["listed_after"] == [] and got["unknown"] == 404
    window = got["window"]
    assert window["id"].startswith("w") and window["status"] == "scheduled"
    assert window["name"] == "SBC firmware"
    db.expire_all()
    stored = db.scalar(select(MaintenanceWindow))
    assert stored.justification == "Upgrading the SBCs to the vendor's fixed release."
