"""Load runs: `wrk` (Debian's package) when installed, else a small Python client.

Each run reports requests/s, the 50th and 99th latency percentiles (from `wrk --latency`) and
the mix of status codes (counted by a Lua script, so a conditional run visibly answers 304).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

WRK_THREADS = 2
CONNECTIONS = 64
PYTHON_CLIENTS = 8

# Counts every response's status per thread, then sums them in `done` as one line.
STATUS_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do total[code] = (total[code] or 0) + n end
  end
  io.write("statuses:")
  for code, n in pairs(total) do io.write(string.format(" %d=%d", code, n)) end
  io.write("\\n")
end
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # connect, read, write and timeout errors

    def mix(self) -> str:
        return " ".join(f"{code}:{n}" for code, n in sorted(self.statuses.items())) or "none"


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    statuses: Counter[int] = Counter()
    line = re.search(r"^statuses:(.*)$", output, re.M)
    for pair in line.group(1).split() if line else []:
        code, n = pair.split("=")
        statuses[int(code)] += int(n)
    errors = 0
    socket_errors = re.search(r"Socket errors: (.*)$", output, re.M)
    if socket_errors:
        errors = sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Result(rps=rps, p50_ms=p50, p99_ms=p99, statuses=statuses, errors=errors)


def wrk(url: str, headers: dict[str, str], seconds: float) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(STATUS_SCRIPT)
    try:
        args = [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{max(int(seconds), 1)}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            script.name,
        ]
        for name, value in headers.items():
            args += ["-H", f"{name}: {value}"]
        done = subprocess.run(
            [*args, url], capture_output=True, text=True, timeout=seconds + 60, check=True
        )
        return parse_wrk(done.stdout)
    finally:
        Path(script.name).unlink(missing_ok=True)


def python_client(url: str, headers: dict[str, str], seconds: float) -> Result:
    """A stand-in when wrk is missing (smoke runs only): PYTHON_CLIENTS threads in a loop."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        nonlocal errors
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, headers=headers), timeout=10
                ) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:  # 304 and errors land here
                status = exc.code
            except OSError:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[status] += 1

    threads = [threading.Thread(target=loop) for _ in range(PYTHON_CLIENTS)]
    begun = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begun
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(
        rps=len(latencies) / elapsed,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
        statuses=statuses,
        errors=errors,
    )
