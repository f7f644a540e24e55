"""Cases: intake forms, the case page and its actions, search, and CSV export."""

from casework.web.cases import (  # noqa: F401  (each registers its routes on bp)
    actions,
    intake,
    packets,
    page,
    search,
    transitions,
)
from casework.web.cases.blueprint import bp

__all__ = ["bp"]
