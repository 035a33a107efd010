"""`make bench` end to end on a tiny data set: every row of the table is printed and its
figures parse. No timing is asserted; `make bench` itself reports against the targets."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

READ_PATHS = [
    "/",
    "/incidents/<id>",
    "/api/v2/summary.json",
    "/maintenance.ics",
    "/history.rss",
]


def table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if len(cells) == 8 and cells[0] != "what":
            rows[re.sub(r"/incidents/\d+", "/incidents/<id>", cells[0])] = cells
    return rows


def number(text: str) -> float:
    return float(re.match(r"[\d,.]+", text).group(0).replace(",", ""))


@pytest.mark.slow
def test_bench_smoke_prints_every_row_with_figures():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = table_rows(done.stdout)

    static = rows.pop("GET /static/style.css")
    assert number(static[1]) > 0 and static[6] == "ceiling"
    for path in READ_PATHS:
        plain = rows.pop(f"GET {path}")
        conditional = rows.pop(f"GET {path} If-None-Match")
        for row in (plain, conditional):
            assert row[1].endswith("req/s") and number(row[1]) > 0, row
            assert number(row[2]) >= 0 and number(row[3]) >= number(row[2]), row
            assert row[4].endswith("%"), row
            assert row[7] == "met" or row[7].startswith("missed"), row
        assert re.fullmatch(r"200:\d+( .*)?", plain[5]), plain
        assert re.fullmatch(r"304:\d+( .*)?", conditional[5]), conditional

    calendar = rows.pop("first render of /maintenance.ics (400 days)")
    assert calendar[1].endswith(")") and number(calendar[1]) > 0
    cold = rows.pop("first render in a fresh worker (nothing reused)")
    assert cold[1].endswith(")") and number(cold[1]) > 0
    wall = rows.pop("fan-out to 300 subscribers (wall)")
    assert wall[1].endswith(" s"), wall  # not "timed out"
    requests = rows.pop("fan-out requests to SendGrid")
    assert 1 <= number(requests[1]) <= 4, requests
    rss = rows.pop("peak RSS of the serving worker")
    assert rss[1].endswith("MB") and number(rss[1]) > 0
    for row in (calendar, cold, wall, requests, rss):
        assert row[7] in ("met", "missed"), row
    assert rows == {}, f"rows the test does not know: {list(rows)}"
