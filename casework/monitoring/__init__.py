"""Health checks and metrics for the people who run Casework: no sign-in, no case data."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("monitoring", __name__)

from casework.monitoring import views  # noqa: E402,F401  (routes on the blueprint)
