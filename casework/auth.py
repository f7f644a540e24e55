"""Who is making a request: a bearer token (API) or a signed-in session (web and API)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from casework.errors import BadRequest, NotSignedIn
from casework.extensions import db, login_manager
from casework.models import User
from casework.services.users import user_for_token


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session generation, so ended sessions fail."""
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    user = db.session.execute(sa.select(User).where(User.id == int(user_id))).scalar_one_or_none()
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
            raise NotSignedIn("The API token is not valid.")
        return found
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                validate_csrf(request.headers.get("X-CSRFToken"))
            except (ValidationError, CSRFError):
                raise BadRequest(
                    "A request signed in with a session cookie needs the X-CSRFToken header."
                ) from None
        signed_in: User = current_user._get_current_object()
        return signed_in
    raise NotSignedIn("Sign in, or send an API token as 'Authorization: Bearer TOKEN'.")
