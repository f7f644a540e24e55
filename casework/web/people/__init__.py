"""People: the employees who may be the subject of a violation case."""

from casework.web.people import views  # noqa: F401  (registers the routes on bp)
from casework.web.people.blueprint import bp

__all__ = ["bp"]
