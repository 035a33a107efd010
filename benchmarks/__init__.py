"""Benchmarks: `make bench` prints a table. Speed and memory targets live here, not in tests.

Everything runs on this machine against loopback ports: a throwaway SQLite database in a
temporary folder, the app served by gunicorn, `wrk` as the load generator, and a local
server that speaks SendGrid's v3 API (tests/sendgrid_server.py).

Measured, each against its target:
- readers during an outage: requests/s, p50 and p99 for `/`, an incident, the summary API,
  the calendar and the history feed, plain and conditional (If-None-Match), beside a static
  file from the same server as the ceiling (2 gunicorn workers, the production set-up);
- the first render of the 400-day maintenance calendar after a write;
- one notice fanned out to 100,000 subscribers by the embedded default (`flask serve`):
  wall time, requests to SendGrid, peak memory of the serving worker.
"""
