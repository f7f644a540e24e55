"""For the Board: its monthly report, and naming an acting Library Director."""

from casework.web.board import views  # noqa: F401  (registers the routes on bp)
from casework.web.board.blueprint import bp

__all__ = ["bp"]
