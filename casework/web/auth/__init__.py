"""Signing in and out, changing one's password, and one's own account page."""

from casework.web.auth import views  # noqa: F401  (registers the routes on bp)
from casework.web.auth.blueprint import bp

__all__ = ["bp"]
