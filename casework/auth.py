"""Who is making a request: a bearer token (API) or a signed-in session (web and API)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from casework.errors import BadRequest, CaseworkError, Forbidden, InvalidFields, NotSignedIn
from casework.extensions import login_manager
from casework.models import User, utcnow
from casework.services.users import (  # noqa: F401  (the account operations, as before)
    change_password,
    check_password,
    end_sessions,
    find_user,
    hash_password,
    session_user,
    user_for_token,
)

log = logging.getLogger(__name__)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session generation, so ended sessions fail."""
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = session_user(int(user_id))
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    return user


def init_auth(app: Flask) -> None:
    login_manager.user_loader(load_session_user)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_user() -> User:
    """The user behind an API request; `NotSignedIn` when there is none.

    A session cookie works too, but then a state-changing request must carry the page's CSRF
    token in the `X-CSRFToken` header, as a browser form would.
    """
    token = bearer_token()
    if token is not None:
        found = user_for_token(token)
        if found is None:
            raise NotSignedIn(
                "The API token is not valid: it never was, or it ended with a password change, "
                "a reset, ended sessions or a disabled account."
            )
        return _with_own_password(found)
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (ValidationError, CSRFError):
                raise BadRequest(
                    "A request signed in with a session cookie needs the X-CSRFToken header."
                ) from None
        signed_in: User = current_user._get_current_object()
        return _with_own_password(signed_in)
    raise NotSignedIn("Sign in, or send an API token as 'Authorization: Bearer TOKEN'.")


#: The answer to a user who still has a password somebody else set.
CHANGE_PASSWORD_FIRST = (
    "Change your password first: your password was set by an administrator, and the API "
    "answers only once you have chosen your own (sign in to Casework and change it)."
)


def _with_own_password(user: User) -> User:
    """The user, unless they must still replace a one-time password: `Forbidden` then."""
    if user.must_change_password:
        raise Forbidden(CHANGE_PASSWORD_FIRST)
    return user


# --- signing in, and ending sessions ----------------------------------------------------------

#: Failed sign-ins in a row after which a user's sign-in is refused for a while.
MAX_FAILED_SIGN_INS = 5
LOCKOUT = timedelta(minutes=15)
WRONG_CREDENTIALS = "The user name or password is not right."


class Throttled(CaseworkError):
    """Too many failed sign-ins in a row: refused until `until`."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


def authenticate(username: Any, password: Any, *, now: datetime | None = None) -> User:
    """The active user these credentials belong to.

    Raises `InvalidFields` when they are wrong (the failure is counted on the user) and
    `Throttled` once `MAX_FAILED_SIGN_INS` failures in a row lock the user out for `LOCKOUT`.
    The caller keeps the counted failure even though it refuses the request.
    """
    now = now or utcnow()
    name = username.strip().lower() if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    user = find_user(name) if name and len(name) <= 64 else None
    if user is None or not user.active or not user.password_hash:
        hash_password(password or "-")  # as slow as a real check: no hint that the name is unknown
        raise InvalidFields({"password": [WRONG_CREDENTIALS]})
    if user.locked_until is not None:
        if user.locked_until > now:
            log.warning("sign-in refused for %s: locked after failed attempts", user.username)
            raise Throttled(_locked_message(user.locked_until), user.locked_until)
        user.failed_logins = 0
        user.locked_until = None
    if not check_password(user, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCKOUT
            log.warning(
                "sign-in throttled for %s after %d failed attempts in a row",
                user.username,
                user.failed_logins,
            )
            raise Throttled(_locked_message(user.locked_until), user.locked_until)
        raise InvalidFields({"password": [WRONG_CREDENTIALS]})
    user.failed_logins = 0
    user.locked_until = None
    return user


def _locked_message(until: datetime) -> str:
    from casework.services.context import library

    local = until.astimezone(library().tz).strftime("%-I:%M %p")
    return (
        f"Too many failed sign-ins in a row. Try again after {local}, or ask an administrator "
        "to reset your password."
    )
