"""The dashboard: counts, overdue cases, time to engage, and cases opened per week."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from casework.web.dashboard import views  # noqa: E402,F401  (registers the routes on bp)
