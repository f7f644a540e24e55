"""Who is using a page: the signed-in user, and the roles some pages ask for."""

from __future__ import annotations

from collections.abc import Iterable

from flask_login import current_user

from casework.errors import Forbidden, NotSignedIn
from casework.models import User


def actor() -> User:
    """The signed-in user of this request; `NotSignedIn` (a redirect to sign in) otherwise."""
    if not current_user.is_authenticated:
        raise NotSignedIn("Sign in to see that page.")
    user: User = current_user._get_current_object()
    return user


def require_role(user: User, roles: Iterable[str], message: str) -> None:
    """`Forbidden` unless the user holds one of `roles`."""
    if not user.roles & set(roles):
        raise Forbidden(message)
