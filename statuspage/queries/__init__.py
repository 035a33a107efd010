"""The read side, one module per domain: every select a page, the API, a feed, a calendar
or a job makes. Views, serializers and renderers hold none; services write, these read.

Functions take the session (and `now` where time matters) and never write or commit.
"""
