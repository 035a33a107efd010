"""gunicorn settings read from the checkout (gunicorn loads ./gunicorn.conf.py by itself):
the production web workers, started as in the README, settle their memory once the app is
loaded, log as the app does, and believe no forwarded header (the app's TRUSTED_PROXIES
decides whom to believe, not gunicorn's default of trusting 127.0.0.1). They never start
the scheduler; `jobs run` does, beside them."""

from statuspage.server import (
    BELIEVE_NO_FORWARDED_HEADERS,
    GunicornLogger,
    forget_worker,
    settle_worker,
)

post_worker_init = settle_worker
# gunicorn's own log lines in the app's format (JSON unless at a terminal).
logger_class = GunicornLogger
# A dead worker's gauges leave the metrics (PROMETHEUS_MULTIPROC_DIR, docs/operations.md).
child_exit = forget_worker
forwarded_allow_ips = BELIEVE_NO_FORWARDED_HEADERS["forwarded_allow_ips"]
secure_scheme_headers = BELIEVE_NO_FORWARDED_HEADERS["secure_scheme_headers"]
forwarder_headers = BELIEVE_NO_FORWARDED_HEADERS["forwarder_headers"]
