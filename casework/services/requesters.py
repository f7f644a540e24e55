"""Who makes a request: the user a signed-in session or a bearer token names, read with their
roles and their person record in one query (every page and every API request runs one of them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from casework.errors import NotSignedIn
from casework.extensions import db
from casework.models import ApiToken, Person, User, utcnow
from casework.services.access import remember_person_id
from casework.services.db import begin_write
from casework.services.tokens import TOKEN_PREFIX, token_hash

#: A token's last use is written at most this often: a busy script costs one write a minute.
LAST_USED_EVERY = timedelta(minutes=1)


class TokenExpired(NotSignedIn):
    """A bearer token that was valid and has reached its expiry."""


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, if the token is valid.

    Raises `TokenExpired` for a token past its expiry. The token's last use is written at most
    once a minute.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(_TOKEN_USER, {"token_hash": token_hash(token)}).unique().first()
    if row is None:
        return None
    user, person_id, token_id, expires_at, last_used_at = row
    now = now or utcnow()
    if expires_at <= now:
        raise TokenExpired(
            f"The API token expired on {expires_at:%Y-%m-%d %H:%M} UTC. Ask for a new one "
            "(`casework users token NAME`)."
        )
    if last_used_at is None or now - last_used_at >= LAST_USED_EVERY:
        begin_write()
        db.session.execute(
            sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )
    remember_person_id(user, person_id)
    return user


def session_user(user_id: int) -> User | None:
    """The user a session names, with their roles and person record (see `_requesting_user`)."""
    return _requesting_user(_SESSION_USER, {"user_id": user_id})


def _with_roles_and_person(statement: sa.Select[Any]) -> sa.Select[Any]:
    return (
        statement.add_columns(Person.id)
        .outerjoin(Person, Person.user_id == User.id)
        .options(joinedload(User.role_rows), joinedload(User.acting_terms))
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
).add_columns(ApiToken.id, ApiToken.expires_at, ApiToken.last_used_at)
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
