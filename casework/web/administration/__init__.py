"""The administration trail's page: who changed which user account, for those who oversee it."""

from flask import Blueprint

bp = Blueprint("administration", __name__)

from casework.web.administration import views  # noqa: E402,F401  (registers the routes on bp)
