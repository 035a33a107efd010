"""Statuspage-compatible public API v2 (GET, CORS open)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_v2", __name__, url_prefix="/api/v2")
