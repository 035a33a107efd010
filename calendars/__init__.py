"""Maintenance calendar: recurrence, iCal and feed generation. Pure functions: no Flask, no DB."""
