"""`make bench` end to end on a tiny data set: every row of both tables (SQLite, and
PostgreSQL where its server binaries are present) is printed and its figures parse. No
timing is asserted; `make bench` itself reports against the targets."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests import pg
from tests.helpers import PROJECT_ROOT

ROOT = str(PROJECT_ROOT)

READ_PATHS = [
    "/",
    "/incidents/<id>",
    "/api/v2/summary.json",
    "/maintenance.ics",
    "/history.rss",
]


def table_rows(lines: list[str]) -> dict[str, list[str]]:
    rows = {}
    for line in lines:
        cells = [c.strip() for c in line.split(" | ")]
        if len(cells) == 8 and cells[0] != "what":
            rows[re.sub(r"/incidents/\d+", "/incidents/<id>", cells[0])] = cells
    return rows


def tables(output: str) -> dict[str, dict[str, list[str]]]:
    """Each printed table's rows, by the database its heading names."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        heading = re.match(r"statuspage benchmark: (SQLite|PostgreSQL)", line)
        if heading:
            current = found.setdefault(heading.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: table_rows(lines) for name, lines in found.items()}


def number(text: str) -> float:
    return float(re.match(r"[\d,.]+", text).group(0).replace(",", ""))


def check_read_rows(rows: dict[str, list[str]]) -> None:
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


def check_fan_out_rows(rows: dict[str, list[str]], most_requests: int) -> list[list[str]]:
    wall = rows.pop("fan-out to 300 subscribers (wall)")
    assert wall[1].endswith(" s"), wall  # not "timed out"
    requests = rows.pop("fan-out requests to SendGrid")
    assert 1 <= number(requests[1]) <= most_requests, requests
    return [wall, requests]


@pytest.mark.slow
def test_bench_smoke_prints_every_row_of_both_tables_with_figures():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--seconds", "0.3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = tables(done.stdout)

    rows = printed.pop("SQLite")
    check_read_rows(rows)
    calendar = rows.pop("first render of /maintenance.ics (400 days)")
    assert calendar[1].endswith(")") and number(calendar[1]) > 0
    cold = rows.pop("first render in a fresh worker (nothing reused)")
    assert cold[1].endswith(")") and number(cold[1]) > 0
    limited = [calendar, cold, *check_fan_out_rows(rows, 4)]
    rss = rows.pop("peak RSS of the serving worker")
    assert rss[1].endswith("MB") and number(rss[1]) > 0
    for row in (*limited, rss):
        assert row[7] in ("met", "missed"), row
    assert rows == {}, f"rows the test does not know: {list(rows)}"

    if not pg.available():
        assert pg.SKIP_REASON in done.stdout
        assert printed == {}
        return
    rows = printed.pop("PostgreSQL")
    check_read_rows(rows)
    # 300 subscribers in three languages: one request each.
    limited = check_fan_out_rows(rows, 3)
    for what in ("peak RSS of a web worker (largest)", "peak RSS of jobs run"):
        rss = rows.pop(what)
        assert rss[1].endswith("MB") and number(rss[1]) > 0
        limited.append(rss)
    for row in limited:
        assert row[7] in ("met", "missed"), row
    assert rows == {}, f"rows the test does not know: {list(rows)}"
    assert printed == {}, f"tables the test does not know: {list(printed)}"
