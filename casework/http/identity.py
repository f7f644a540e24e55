"""Who is making a request: a bearer token (API) or a signed-in session (web and API)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from casework.config import names
from casework.errors import BadRequest, Forbidden, InvalidFields, NotSignedIn
from casework.extensions import login_manager
from casework.models import User, utcnow
from casework.services import limits, passwords, second_factor, sessions
from casework.services.passwords import check_password, hash_password
from casework.services.requesters import session_user, user_for_token
from casework.services.users import find_user

log = logging.getLogger(__name__)


#: The key in the signed cookie naming the browser's row in `user_sessions`.
SESSION_KEY = "sid"


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session generation, so ended sessions fail,
    and the cookie's session key must name a session that has not ended nor timed out."""
    user_id, _, generation = session_id.partition(":")
    if not user_id.isdigit() or not generation.isdigit():
        return None
    # A request another site set off writes nothing: it does not keep the session alive.
    live = sessions.live(int(user_id), session.get(SESSION_KEY), seen=not from_another_site())
    if live is None:
        return None
    g.session_id = live.id
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
        if second_factor.must_enrol(signed_in):
            raise Forbidden(ENROL_FIRST)
        return _with_own_password(signed_in)
    raise NotSignedIn("Sign in, or send an API token as 'Authorization: Bearer TOKEN'.")


#: The answer to a user who still has a password somebody else set.
CHANGE_PASSWORD_FIRST = (
    "Change your password first: your password was set by an administrator, and the API "
    "answers only once you have chosen your own (sign in to Casework and change it)."
)


#: The answer to a signed-in user whose roles need a second factor they have not set up.
ENROL_FIRST = (
    "Set up two-factor sign-in first: your roles need it, and the API answers your session "
    "once you have (sign in to Casework and follow the steps)."
)


def _with_own_password(user: User) -> User:
    """The user, unless they must still replace a one-time password: `Forbidden` then."""
    if user.must_change_password:
        raise Forbidden(CHANGE_PASSWORD_FIRST)
    return user


# --- signing in, and ending sessions ----------------------------------------------------------

WRONG_CREDENTIALS = "The user name or password is not right."
#: A refused sign-in: the same for every name, known or not.
Throttled = limits.TooMany


def client_address() -> str:
    """The address a request comes from (the proxy's, unless CASEWORK_PROXY_COUNT trusts it)."""
    try:
        return (request.remote_addr or "unknown")[:100]
    except RuntimeError:  # outside a request (the command line)
        return "local"


def authenticate(
    username: Any, password: Any, *, address: str | None = None, now: datetime | None = None
) -> User:
    """The active user these credentials belong to.

    Raises `InvalidFields` when they are wrong and `Throttled` (429) when failures for this name
    from this address, or from this address for any names, reached their limit. Every path costs
    one password hash, and an unknown name is counted and refused exactly as a known one, so
    neither the answer nor its time tells whether a user name exists. The caller keeps the
    counted failure although it refuses the request.
    """
    now = now or utcnow()
    address = address or client_address()
    name = username.strip().lower() if isinstance(username, str) else ""
    name = name if 0 < len(name) <= 64 else ""
    password = password if isinstance(password, str) else ""
    wait = limits.sign_in_refusal(name, address, now)
    if wait is not None:
        hash_password(password or "-")  # as slow as a check: a refusal is no faster
        _refuse(name, address, wait, "still refused")
    user = find_user(name) if name else None
    if user is not None and not password_allowed(user):
        user = None  # refused as an unknown name is: nobody learns who may still use a password
    if user is None or not user.active or not user.password_hash:
        hash_password(password or "-")  # as slow as a real check: no hint that the name is unknown
        right = False
    else:
        right = check_password(user, password)
    if user is None or not right:
        wait = limits.count_sign_in_failure(name, address, now)
        if wait is not None:
            _refuse(name, address, wait, "limit reached")
        raise InvalidFields({"password": [WRONG_CREDENTIALS]})
    limits.forget_sign_in_failures(name, address)
    return user


def password_allowed(user: User) -> bool:
    """Whether the user may sign in with a password: always, unless local passwords are off
    (`CASEWORK_LOCAL_PASSWORDS`); then only the administrators `CASEWORK_BREAK_GLASS` names."""
    config = current_app.config
    if config.get("LOCAL_PASSWORDS", True):
        return True
    return user.username in names(config.get("BREAK_GLASS")) and "admin" in user.roles


def _refuse(name: str, address: str, wait: int, why: str) -> None:
    log.warning("sign-in refused for %r from %s: too many failed attempts (%s)", name, address, why)
    raise Throttled(
        "Too many failed sign-ins for this name from here, or from this address. Try again "
        f"{limits.when(wait)}, or ask an administrator to reset your password.",
        retry_after=wait,
        fields={"password": ["Too many failed sign-ins; try again later."]},
    )


WRONG_CODE = (
    "That code is not right, or was used already: type the code your app shows now, or a "
    "recovery code you have not used."
)


def confirm_second_factor(
    user: User, code: Any, *, address: str | None = None, now: datetime | None = None
) -> str:
    """How `code` proves the user's second factor: "app" or "recovery".

    Raises `InvalidFields` naming `code` when it does not, and `Throttled` (429) once wrong
    codes for this user, or failures from this address, reached their limit. The caller keeps
    the counted failure although it refuses the request.
    """
    now = now or utcnow()
    address = address or client_address()
    wait = limits.second_factor_refusal(user.id, address, now)
    if wait is None:
        used = second_factor.check_code(user, code, now=now)
        if used is not None:
            limits.forget_second_factor_failures(user.id)
            return used
        wait = limits.count_second_factor_failure(user.id, address, now)
        if wait is None:
            raise InvalidFields({"code": [WRONG_CODE]})
    log.warning(
        "second factor refused for %r from %s: too many wrong codes", user.username, address
    )
    raise Throttled(
        f"Too many wrong codes. Try again {limits.when(wait)}, or ask an administrator to reset "
        "your two-factor sign-in.",
        retry_after=wait,
        fields={"code": ["Too many wrong codes; try again later."]},
    )


def change_password(user: User, current: Any, new: Any, confirm: Any) -> None:
    """`passwords.change_password` for the user signed in to this request, from its address."""
    passwords.change_password(user, current, new, confirm, address=client_address())


#: `Sec-Fetch-Site` of requests Casework's own pages set off, or the user (address bar, bookmark,
#: another program such as a desktop mail client).
OWN_SITES = frozenset({"same-origin", "none"})


def from_another_site() -> bool:
    """Whether a page of another site set this request off (a link, a form, a script).

    Browsers say where a request comes from in `Sec-Fetch-Site` (Fetch Metadata; every current
    browser sends it). `same-site` counts as another site: a sibling host under the library's
    domain is not Casework. Without that header (an older browser, a program) a request is
    judged by its `Origin` or `Referer` when it carries one, and taken as the user's own when
    it carries neither.
    """
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if site:
        return site not in OWN_SITES
    source = (request.headers.get("Origin") or request.headers.get("Referer") or "").strip()
    if not source:
        return False
    if source == "null":  # an opaque origin: a sandboxed frame, a data: page
        return True
    theirs = urlsplit(source)
    ours = urlsplit(request.host_url)
    return (theirs.scheme.lower(), theirs.netloc.lower()) != (ours.scheme, ours.netloc.lower())
