"""For the Board: its monthly report, and naming an acting Library Director."""

from flask import Blueprint

bp = Blueprint("board", __name__)

from casework.web.board import views  # noqa: E402,F401  (registers the routes on bp)
