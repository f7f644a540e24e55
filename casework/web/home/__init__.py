"""Home: each user's own queue, composed from the roles they hold."""

from flask import Blueprint

bp = Blueprint("home", __name__)

from casework.web.home import views  # noqa: E402,F401  (registers the routes on bp)
