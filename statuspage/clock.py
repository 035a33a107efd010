"""The one place the web layer reads the clock. Tests pin it with the `FIXED_NOW` setting."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, has_app_context


def now() -> datetime:
    if has_app_context():
        fixed = current_app.config.get("FIXED_NOW")
        if fixed is not None:
            return fixed if isinstance(fixed, datetime) else datetime.fromisoformat(str(fixed))
    return datetime.now(UTC)
