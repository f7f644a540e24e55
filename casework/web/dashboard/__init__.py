"""The dashboard: counts, overdue cases, time to engage, and cases opened per week."""

from casework.web.dashboard import views  # noqa: F401  (registers the routes on bp)
from casework.web.dashboard.blueprint import bp

__all__ = ["bp"]
