"""The read side, one module per domain: every select a page, the API, a feed or a calendar
makes, and a job's reads of the data it acts on (the delivery job's claims, leases and
settlements are statements of its own, in `jobs/delivery.py`). Views, serializers and
renderers hold none; services write, these read.

Functions take the session (and `now` where time matters) and never write or commit.
"""
