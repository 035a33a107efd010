"""Public pages: status, incidents, history, health."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("public", __name__)
