"""The registry of the library's official social media accounts."""

from flask import Blueprint

bp = Blueprint("registry", __name__)

from casework.web.registry import views  # noqa: E402,F401  (registers the routes on bp)
