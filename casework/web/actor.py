"""Who is using a page: the signed-in user, and the roles some pages ask for."""

from __future__ import annotations

from collections.abc import Iterable

from flask import g, request
from flask_login import current_user

from casework.errors import Forbidden, NotFound, NotSignedIn
from casework.models import User
from casework.services import limits

#: Forms that are not changes to cases and have limits of their own (sign-in failures).
UNCOUNTED = frozenset({"auth.sign_out", "auth.change_password"})


def actor() -> User:
    """The signed-in user of this request; `NotSignedIn` (a redirect to sign in) otherwise.

    A form sent (POST) counts against the user's changes a minute (`TooMany` past it).
    """
    if not current_user.is_authenticated:
        raise NotSignedIn("Sign in to see that page.")
    user: User = current_user._get_current_object()
    if request.method == "POST" and request.endpoint not in UNCOUNTED and not g.get("counted"):
        g.counted = True
        limits.count_write(user)
    return user


def require_role(user: User, roles: Iterable[str], message: str) -> None:
    """`Forbidden` unless the user holds one of `roles`."""
    if not user.roles & set(roles):
        raise Forbidden(message)


#: Roles that never read a case: a user who holds only these has no use for case pages.
NO_CASE_ROLES = frozenset({"admin"})


def case_reader() -> User:
    """`actor()` for the pages made of cases (lists, search, a case, new case, dashboard).

    The administrator, holding no other role, can never be shown anything there: the pages are
    not found for them, as a case they may not see is not.
    """
    user = actor()
    if user.roles and user.roles <= NO_CASE_ROLES:
        raise NotFound("There is no such page.")
    return user
