"""Signing in and out, changing one's password, and one's own account page."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from casework.web.auth import views  # noqa: E402,F401  (registers the routes on bp)
