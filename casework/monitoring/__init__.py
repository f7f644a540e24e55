"""Health checks and metrics for the people who run Casework: no sign-in, no case data."""

from __future__ import annotations

from casework.monitoring import views  # noqa: F401  (routes on the blueprint)
from casework.monitoring.blueprint import bp

__all__ = ["bp"]
