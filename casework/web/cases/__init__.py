"""Cases: intake forms, the case page and its actions, search, and CSV export."""

from casework.web.cases import packets, views  # noqa: F401  (registers the routes on bp)
from casework.web.cases.blueprint import bp

__all__ = ["bp"]
