"""Scheduled work: windows, notices, delivery, P1G overdue alerts. Each job is a function of now."""
