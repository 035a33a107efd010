"""gunicorn settings read from the checkout (gunicorn loads ./gunicorn.conf.py by itself):
the production web workers, started as in the README, settle their memory once the app is
loaded. They never start the scheduler; `jobs run` does, beside them."""

from statuspage.server import settle_worker

post_worker_init = settle_worker
