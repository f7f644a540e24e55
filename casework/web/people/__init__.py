"""People: the employees who may be the subject of a violation case."""

from flask import Blueprint

bp = Blueprint("people", __name__)

from casework.web.people import views  # noqa: E402,F401  (registers the routes on bp)
