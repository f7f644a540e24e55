"""The JSON API under /api/v1."""

from casework.api import packets, printing, views  # noqa: F401  (registers the routes on bp)
from casework.api.blueprint import bp

__all__ = ["bp"]
