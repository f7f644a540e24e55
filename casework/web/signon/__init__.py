"""Single sign-on with OpenID Connect: the button's start and the provider's answer."""

from flask import Blueprint

bp = Blueprint("signon", __name__)

from casework.web.signon import views  # noqa: E402,F401  (registers the routes on bp)
