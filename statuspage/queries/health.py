"""What the load balancer's health check reads."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    """A round trip to the database; raises if it cannot answer."""
    session.execute(text("SELECT 1"))
