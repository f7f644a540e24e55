"""Administration: user accounts and their roles (an administrator sees no case content)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from casework.web.admin import views  # noqa: E402,F401  (registers the routes on bp)
