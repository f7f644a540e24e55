"""Workflow pages: each case type's diagram, states, transitions and who may fire them."""

from casework.web.workflows import views  # noqa: F401  (registers the routes on bp)
from casework.web.workflows.blueprint import bp

__all__ = ["bp"]
