"""Administration: user accounts and their roles (an administrator sees no case content)."""

from casework.web.admin import views  # noqa: F401  (registers the routes on bp)
from casework.web.admin.blueprint import bp

__all__ = ["bp"]
