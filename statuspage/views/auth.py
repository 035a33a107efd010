"""Staff login and logout."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)
