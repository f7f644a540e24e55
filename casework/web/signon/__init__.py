"""Single sign-on with OpenID Connect: the button's start and the provider's answer."""

from casework.web.signon import views  # noqa: F401  (registers the routes on bp)
from casework.web.signon.blueprint import bp

__all__ = ["bp"]
