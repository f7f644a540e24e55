"""Workflow pages: each case type's diagram, states, transitions and who may fire them."""

from flask import Blueprint

bp = Blueprint("workflows", __name__)

from casework.web.workflows import views  # noqa: E402,F401  (registers the routes on bp)
