"""gunicorn settings read from the checkout (gunicorn loads ./gunicorn.conf.py by itself):
the production web workers, started as in the README, settle their memory once the app is
loaded, and believe no forwarded header (the app's TRUSTED_PROXIES decides whom to believe,
not gunicorn's default of trusting 127.0.0.1). They never start the scheduler; `jobs run`
does, beside them."""

from statuspage.server import BELIEVE_NO_FORWARDED_HEADERS, settle_worker

post_worker_init = settle_worker
forwarded_allow_ips = BELIEVE_NO_FORWARDED_HEADERS["forwarded_allow_ips"]
secure_scheme_headers = BELIEVE_NO_FORWARDED_HEADERS["secure_scheme_headers"]
forwarder_headers = BELIEVE_NO_FORWARDED_HEADERS["forwarder_headers"]
