"""Staff pages: dashboard, incidents, P1G, users and tokens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
