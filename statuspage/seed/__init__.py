"""Seed data: the defaults an install starts with and the demo story. Data, not rules; the
demo writes through the services like staff do."""
