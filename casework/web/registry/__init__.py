"""The registry of the library's official social media accounts."""

from casework.web.registry import views  # noqa: F401  (registers the routes on bp)
from casework.web.registry.blueprint import bp

__all__ = ["bp"]
