"""Records management: legal holds, retention and disposal."""

from casework.web.records import views  # noqa: F401  (registers the routes on bp)
from casework.web.records.blueprint import bp

__all__ = ["bp"]
