"""One scheduler, always, under a PostgreSQL restart: two `jobs run` on a cluster of the
test's own, the server restarted under them, a third started after; then the holder killed.
At no moment do two processes run jobs, judged from the database alone: the server's lock
table (`pg_locks`, read every 20 ms) and the job table (`scheduler_run`: who ran which job when).
The take-over times are printed (docs/operations.md quotes them).
"""

from __future__ import annotations

import os
import signal
import time

import psycopg
import pytest

from jobs.lock import TAKEOVER_GRACE
from tests import pg
from tests.processes import LockWatcher, flask, fresh_database, pid_of, stop, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not pg.available(), reason=pg.SKIP_REASON),
]


def job_runs(conninfo: str) -> list[tuple[str, str, float, float | None]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT owner, job, started_at, finished_at FROM scheduler_run ORDER BY started_at"
        ).fetchall()
    return [
        (owner, job, start.timestamp(), end.timestamp() if end else None)
        for owner, job, start, end in rows
    ]


def test_postgresql_restarted_under_two_schedulers_then_a_third_never_two_run_jobs(
    tmp_path, capsys
):
    with pg.cluster() as cluster:
        env = fresh_database(cluster, "failover", tmp_path / "instance")
        # Delivery every 0.3 s: many short runs, so an overlap would have many chances.
        env["DELIVERY_INTERVAL"] = "0.3"
        conninfo = f"host=127.0.0.1 port={cluster.port} user={pg.PG_USER} dbname=failover"
        logs = [tmp_path / f"run{i}.log" for i in (1, 2, 3)]
        procs = []
        try:
            with LockWatcher(conninfo) as watcher:
                procs = [flask(env, log, "jobs", "run") for log in logs[:2]]
                first = wait_for(watcher.holder, 60, "a scheduler to hold the lock")
                time.sleep(3)

                cluster.stop()
                stopped = time.time()
                time.sleep(1.0)
                cluster.start()
                ready = time.time()
                after_restart = wait_for(
                    lambda: watcher.first_after(ready), 30, "the lock to be held again"
                )
                time.sleep(max(0.0, ready + 2 - time.time()))
                procs.append(flask(env, logs[2], "jobs", "run"))  # a third, 2 s later
                time.sleep(4)

                holder = wait_for(watcher.holder, 10, "a holder")
                killed_at = time.time()
                os.kill(pid_of(holder), signal.SIGKILL)
                after_kill = wait_for(
                    lambda: watcher.first_after(killed_at, unlike=holder),
                    30,
                    "a standby to take the lock",
                )
                time.sleep(3)
            for proc in procs:
                stop(proc)
            runs = job_runs(conninfo)
        finally:
            for proc in procs:
                stop(proc)
        outputs = [log.read_text() for log in logs]

    restart_takeover = after_restart.at - ready
    kill_takeover = after_kill.at - killed_at
    with capsys.disabled():
        print(
            f"\nscheduler take-over: {restart_takeover:.2f} s after PostgreSQL accepted "
            f"connections again ({after_restart.holders[0]}; it held the lock before: "
            f"{after_restart.holders[0] == first}); {kill_takeover:.2f} s after the holder "
            f"was killed ({after_kill.holders[0]}); {len(runs)} job runs, "
            f"{len(watcher.samples)} lock samples"
        )

    # Ends of runs: a killed process's unfinished run ended when it was killed. (The runs'
    # times are this machine's clock, as the samples' are.)
    spans = [
        (owner, job, start, end if end is not None else (killed_at if owner == holder else None))
        for owner, job, start, end in runs
    ]
    assert all(end is not None for *_, end in spans), spans
    owners = {owner for owner, *_ in spans}
    assert len(owners) >= 2, "the take-over ran no job"
    assert any(start > ready for _, _, start, _ in spans), "no job ran after the restart"

    # 1. The job table: no two runs of different processes overlap in time.
    ordered = sorted(spans, key=lambda span: span[2])
    for i, (owner, job, start, end) in enumerate(ordered):
        for other, other_job, other_start, other_end in ordered[i + 1 :]:
            if other_start >= end:
                break
            assert other == owner, (
                f"{owner} ran {job} from {start} to {end} while {other} ran {other_job} "
                f"from {other_start} to {other_end}"
            )

    # 2. The lock table: one holder at most, and no process runs a job while another
    # holds the lock.
    margin = 0.05  # a sample's moment is known to within its query's length
    for sample in watcher.samples:
        if not sample.holders:
            continue
        assert len(sample.holders) == 1, sample
        for owner, job, start, end in spans:
            if owner != sample.holders[0] and start + margin < sample.at < end - margin:
                raise AssertionError(
                    f"{owner} ran {job} ({start}-{end}) while {sample.holders[0]} held the "
                    f"lock at {sample.at}"
                )

    # The server went down under the holder: no answer while it was down.
    assert any(s.holders is None for s in watcher.samples if stopped < s.at < ready)
    assert restart_takeover < TAKEOVER_GRACE + 5
    assert kill_takeover < 5
    assert "waiting for the scheduler lock" in outputs[2]
    assert sum("scheduler lock lost" in out for out in outputs) >= 1
