"""Home: each user's own queue, composed from the roles they hold."""

from casework.web.home import views  # noqa: F401  (registers the routes on bp)
from casework.web.home.blueprint import bp

__all__ = ["bp"]
