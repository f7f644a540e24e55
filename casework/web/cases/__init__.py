"""Cases: intake forms, the case page and its actions, search, and CSV export."""

from flask import Blueprint

bp = Blueprint("cases", __name__)

from casework.web.cases import packets, views  # noqa: E402,F401  (registers the routes on bp)
