"""Records management: legal holds, retention and disposal."""

from flask import Blueprint

bp = Blueprint("records", __name__)

from casework.web.records import views  # noqa: E402,F401  (registers the routes on bp)
