"""The one place the web layer reads the clock. Tests pin it with the `FIXED_NOW` setting.

A cached public read pins the request's clock to the start of its minute (see
`views.caching`), so every worker renders the same bytes for the same data version and
minute, and an ETag can be computed without rendering.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, g, has_app_context, has_request_context


def now() -> datetime:
    if has_request_context():
        pinned: datetime | None = g.get("pinned_now")
        if pinned is not None:
            return pinned
    return unpinned()


def unpinned() -> datetime:
    """The time regardless of a request's pin: the configured `FIXED_NOW`, else the clock."""
    if has_app_context():
        fixed = current_app.config.get("FIXED_NOW")
        if fixed is not None:
            return fixed if isinstance(fixed, datetime) else datetime.fromisoformat(str(fixed))
    return datetime.now(UTC)
