"""Statuspage Manage API v1 shape for staff automation."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1/pages/<page_id>")
