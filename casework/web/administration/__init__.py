"""The administration trail's page: who changed which user account, for those who oversee it."""

from casework.web.administration import views  # noqa: F401  (registers the routes on bp)
from casework.web.administration.blueprint import bp

__all__ = ["bp"]
