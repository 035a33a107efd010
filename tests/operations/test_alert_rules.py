"""The Prometheus alert rules (deploy/prometheus/alerts.yml): valid for `promtool check rules`,
each alert raised by its `promtool test rules` cases (alerts.test.yml), and every series they
read served by the app under that name. promtool is Debian's `prometheus` package, which
.ci/run installs; without it the promtool tests are skipped with a message."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import PROJECT_ROOT

ROOT = str(PROJECT_ROOT)
RULES = os.path.join(ROOT, "deploy", "prometheus", "alerts.yml")
CASES = os.path.join(ROOT, "deploy", "prometheus", "alerts.test.yml")
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found: install Debian's `prometheus` package (.ci/run does) to check "
    "and unit-test deploy/prometheus/alerts.yml",
)
TOKEN = "alert-rules-test-token-" + "x" * 32


def alerts() -> dict[str, dict[str, object]]:
    with open(RULES) as fh:
        groups = yaml.safe_load(fh)["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


@needs_promtool
@pytest.mark.one_backend
def test_the_rules_pass_promtool_check_rules():
    result = promtool("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


@needs_promtool
@pytest.mark.one_backend
def test_every_alert_behaves_as_its_promtool_test_cases_say():
    result = promtool("test", "rules", CASES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.one_backend
def test_every_alert_has_a_case_where_it_fires():
    with open(CASES) as fh:
        cases = yaml.safe_load(fh)["tests"]
    fired = {
        check["alertname"]
        for case in cases
        for check in case["alert_rule_test"]
        if check.get("exp_alerts")
    }
    assert fired == set(alerts())


@pytest.mark.one_backend
def test_every_series_the_alerts_read_is_served(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    served = set(re.findall(r"^# TYPE (\S+) ", response.get_data(as_text=True), re.M))
    read = {
        name
        for rule in alerts().values()
        for name in re.findall(r"\bstatuspage_[a-z_]+", str(rule["expr"]))
    }
    assert read and read <= served, read - served
