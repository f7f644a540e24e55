"""Finishing a sign-in once something has vouched for the user (their password, or a provider).

`finish_sign_in` is the one way into a session: it asks for the second factor when the user has
one (unless the caller already proved it), starts the session recorded in the database, and
sends a user who must first change their password or set up two-factor sign-in to do that.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, redirect, request, session, url_for
from flask_login import login_user

from casework.http import identity
from casework.models import User, utcnow
from casework.services import requesters, second_factor, sessions
from casework.web import Page

#: The key in the signed cookie of a sign-in waiting for its second factor.
PENDING = "pending_sign_in"
#: How long the code page waits after the password before the sign-in starts over.
PENDING_FOR = timedelta(minutes=5)


def start_session(user: User) -> None:
    """Sign `user` in on this browser: a new session, nothing from before carries over."""
    session.clear()
    key = sessions.start(
        user,
        user_agent=request.headers.get("User-Agent", ""),
        address=identity.client_address(),
    )
    session[identity.SESSION_KEY] = key
    login_user(user)


def finish_sign_in(
    user: User, target: str, *, second_factor_done: bool = False, via: str = "password"
) -> Page:
    """Go on from a sign-in vouched for: to the code page when the user has a second factor
    (and `second_factor_done` is False), else into a new session and on to `target`, or to the
    page that must come first (a new password, setting up two-factor sign-in).

    `via` says what vouched: "password", or "sign-on" (a provider, whose trusted `amr` claim
    the caller passes as `second_factor_done`)."""
    if user.second_factor is not None and not second_factor_done:
        session.clear()
        session[PENDING] = {
            "user": user.id,
            "generation": user.session_generation,
            "at": utcnow().timestamp(),
            "next": target,
            "via": via,
        }
        return redirect(url_for("auth.second_factor"))
    start_session(user)
    session["signed_in_via"] = via
    session["mfa"] = second_factor_done
    if user.must_change_password and via == "password":
        flash("Choose your own password before you go on.", "info")
        return redirect(url_for("auth.change_password"))
    if second_factor.must_enrol(user):
        flash("Your roles need two-factor sign-in: set it up before you go on.", "info")
        return redirect(url_for("auth.two_factor"))
    return redirect(target)


def pending_sign_in() -> tuple[User, str] | None:
    """The user waiting to give their second factor on this browser, and where they go next."""
    data: Any = session.get(PENDING)
    if not isinstance(data, dict):
        return None
    user_id, at = data.get("user"), data.get("at")
    if not isinstance(user_id, int) or not isinstance(at, (int, float)):
        return None
    if utcnow().timestamp() - at > PENDING_FOR.total_seconds():
        return None
    user = requesters.session_user(user_id)
    if user is None or not user.active or user.second_factor is None:
        return None
    if user.session_generation != data.get("generation"):
        return None
    target = data.get("next")
    return user, target if isinstance(target, str) else url_for("home.home")
