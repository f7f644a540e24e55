"""User accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from casework.errors import InvalidFields
from casework.extensions import db
from casework.models import ApiToken, Person, User, utcnow
from casework.services.access import remember_person_id
from casework.services.cases import check_roles

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SYSTEM_USERNAME = "system"
TOKEN_PREFIX = "cw_"
MIN_PASSWORD = 10


def _hasher() -> PasswordHasher:
    """Argon2 with the library's settings (argon2's recommended defaults unless configured)."""
    config = current_app.config
    time_cost = int(config.get("ARGON2_TIME_COST") or DEFAULT_HASHER.time_cost)
    memory = int(config.get("ARGON2_MEMORY_KIB") or DEFAULT_HASHER.memory_cost)
    if (time_cost, memory) == (DEFAULT_HASHER.time_cost, DEFAULT_HASHER.memory_cost):
        return DEFAULT_HASHER
    return PasswordHasher(time_cost=time_cost, memory_cost=memory)


DEFAULT_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the user's; a hash in an outdated format is renewed."""
    if not user.password_hash or not isinstance(password, str):
        return False
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return True


def check_new_password(password: Any) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidFields({"password": [f"Use at least {MIN_PASSWORD} characters."]})
    if len(password) > 1000:
        raise InvalidFields({"password": ["Use at most 1000 characters."]})
    return password


def generate_password() -> str:
    """A one-time password to hand to someone, who changes it at first sign-in."""
    return secrets.token_urlsafe(12)


def find_user(username: str) -> User | None:
    name = username.strip().lower()
    if not USERNAME.match(name):
        return None  # no such user, and no odd bytes (NUL) sent to the database
    return db.session.execute(sa.select(User).where(User.username == name)).scalar_one_or_none()


def create_user(
    username: Any,
    roles: list[str],
    *,
    password: str | None = None,
    display_name: str = "",
    email: str | None = None,
    must_change_password: bool = False,
) -> User:
    """Add a user with roles; raises `InvalidFields` for a bad or taken name or unknown roles."""
    if not isinstance(username, str) or not USERNAME.match(username.strip().lower()):
        raise InvalidFields(
            {
                "username": [
                    "Use lower-case letters, digits, dots, dashes or underscores (at most 64)."
                ]
            }
        )
    username = username.strip().lower()
    if username == SYSTEM_USERNAME or find_user(username) is not None:
        raise InvalidFields({"username": ["That user name is taken."]})
    roles = check_roles(roles)
    user = User(
        username=username,
        display_name=display_name.strip()[:200],
        email=email,
        password_hash=hash_password(check_new_password(password)) if password else None,
        must_change_password=must_change_password,
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    return user


def system_user() -> User:
    """The user the deadline sweep acts as; created the first time it is needed."""
    user = find_user(SYSTEM_USERNAME)
    if user is None:
        user = User(username=SYSTEM_USERNAME, display_name="Casework (automatic)")
        user.set_roles(["system"])
        db.session.add(user)
        db.session.flush()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(user: User) -> str:
    """A new API token for the user; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=utcnow()))
    db.session.flush()
    return token


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, if the token is valid."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return _requesting_user(_TOKEN_USER, {"token_hash": _token_hash(token)})


def session_user(user_id: int) -> User | None:
    """The user a session names, with their roles and person record (see `_requesting_user`)."""
    return _requesting_user(_SESSION_USER, {"user_id": user_id})


def _with_roles_and_person(statement: sa.Select[Any]) -> sa.Select[Any]:
    return (
        statement.add_columns(Person.id)
        .outerjoin(Person, Person.user_id == User.id)
        .options(joinedload(User.role_rows))
    )


#: The active user of an unrevoked token (built once: every API request runs it).
_TOKEN_USER = _with_roles_and_person(
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked.is_(False),
        User.active.is_(True),
    )
)
#: The user of a signed-in session, by id (built once: every page runs it).
_SESSION_USER = _with_roles_and_person(sa.select(User).where(User.id == sa.bindparam("user_id")))


def _requesting_user(statement: sa.Select[Any], params: dict[str, Any]) -> User | None:
    """The user making a request, with their roles and their person record, in one query.

    Every request needs all three (what the user may do, and which cases they are the subject
    of), so they are read together rather than in three round trips.
    """
    row = db.session.execute(statement, params).unique().first()
    if row is None:
        return None
    user, person_id = row
    remember_person_id(user, person_id)
    return user
