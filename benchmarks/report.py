"""The table `make bench` prints: one row per measurement, its target and whether it was met.

The targets are the product's; the rows say honestly where it stands against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.load import Result

CACHED_SHARE = 0.80  # a cached page: at least this share of the static file's requests/s
NOT_MODIFIED_SHARE = 0.90  # a 304
P99_MS = 50.0
CALENDAR_MS = 100.0
FAN_OUT_S = 10.0
RSS_MB = 200.0
PG_FAN_OUT_S = 60.0  # a million subscribers on PostgreSQL
PG_RSS_MB = 300.0

COLUMNS = ("what", "result", "p50 ms", "p99 ms", "vs static", "statuses", "target", "verdict")


@dataclass
class Row:
    what: str
    result: str
    p50: str = "-"
    p99: str = "-"
    vs_static: str = "-"
    statuses: str = "-"
    target: str = "-"
    verdict: str = "-"

    def cells(self) -> tuple[str, ...]:
        return (
            self.what,
            self.result,
            self.p50,
            self.p99,
            self.vs_static,
            self.statuses,
            self.target,
            self.verdict,
        )


def verdict(misses: Sequence[str]) -> str:
    return f"missed ({', '.join(misses)})" if misses else "met"


def http_row(what: str, result: Result, static_rps: float | None, share: float | None) -> Row:
    ratio = result.rps / static_rps if static_rps else None
    statuses = result.mix() + (f" errors:{result.errors}" if result.errors else "")
    row = Row(
        what=what,
        result=f"{result.rps:,.0f} req/s",
        p50=f"{result.p50_ms:.1f}",
        p99=f"{result.p99_ms:.1f}",
        vs_static=f"{ratio:.0%}" if ratio is not None else "100%",
        statuses=statuses,
    )
    if share is None:  # the static file: the ceiling the others are compared with
        row.target = "ceiling"
        return row
    row.target = f">= {share:.0%} static, p99 < {P99_MS:.0f} ms"
    misses = []
    if ratio is None or ratio < share:
        misses.append("req/s")
    if result.p99_ms >= P99_MS:
        misses.append("p99")
    row.verdict = verdict(misses)
    return row


def limit_row(what: str, value: float | None, shown: str, limit: float, target: str) -> Row:
    """A measurement with an upper bound; `value` None means it could not be measured."""
    met = value is not None and value <= limit
    return Row(what=what, result=shown, target=target, verdict="met" if met else "missed")


def render(rows: Sequence[Row]) -> str:
    table = [COLUMNS, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(COLUMNS))]
    right = {1, 2, 3, 4}

    def fmt(line: Sequence[str]) -> str:
        return " | ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([fmt(COLUMNS), rule, *(fmt(row.cells()) for row in rows)])
