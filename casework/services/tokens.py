"""API tokens: issued (only their hash kept), named, listed, found and revoked.

Each issue and revocation is an event in the administration trail (`services.administration`).
Which user a bearer token names, on each request, is `requesters.user_for_token`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from casework.errors import InvalidFields, NotFound
from casework.extensions import db
from casework.models import ApiToken, User, utcnow
from casework.services import administration
from casework.services.administration import SYSTEM_USERNAME
from casework.workflow.fields import clean_text

#: What every token starts with (so a leaked one is recognised).
TOKEN_PREFIX = "cw_"
MAX_TOKEN_DAYS = 3660


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_days(days: Any = None) -> int:
    """A token's lifetime in days: `days`, or `CASEWORK_TOKEN_DAYS` (90); `InvalidFields`
    naming `days` unless it is a whole number from 1 to 3660."""
    if days is None or days == "":
        days = current_app.config["TOKEN_DAYS"]
    try:
        number = int(days)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_TOKEN_DAYS:
        raise InvalidFields({"days": [f"Give a whole number of days from 1 to {MAX_TOKEN_DAYS}."]})
    return number


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens that are not revoked (expired ones too), newest first."""
    return list(
        db.session.execute(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
    )


def _token_name(user: User, name: Any) -> str:
    """The name a new token gets: `name`, checked, or "token N" for the user's next N."""
    taken = {t.name for t in tokens_of(user)}
    if name is None or name == "":
        count: int = db.session.execute(
            sa.select(sa.func.count()).where(ApiToken.user_id == user.id)
        ).scalar_one()
        number = count + 1
        while f"token {number}" in taken:
            number += 1
        return f"token {number}"
    try:
        cleaned = clean_text(name, multiline=False, max_length=100)
    except ValueError as exc:
        raise InvalidFields({"name": [str(exc)]}) from None
    if not cleaned:
        raise InvalidFields({"name": ["Give the token a name, such as “reports script”."]})
    if cleaned in taken:
        raise InvalidFields({"name": [f"{user.username} already has a token named {cleaned!r}."]})
    return cleaned


def issue_token(
    user: User, *, by: User | str = SYSTEM_USERNAME, name: Any = None, days: Any = None
) -> str:
    """A new API token for the user; only its hash is stored, so it is shown once.

    It is called `name` ("token N" when not given) and expires after `days` (the
    `CASEWORK_TOKEN_DAYS` setting when not given). Recorded in the administration trail as
    issued `by` someone (the command line, usually). Raises `InvalidFields` naming `name` or
    `days`.
    """
    lifetime = token_days(days)
    label = _token_name(user, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + timedelta(days=lifetime)
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_hash(token),
            name=label,
            created_at=now,
            expires_at=expires,
        )
    )
    db.session.flush()
    administration.record(
        by, "token_issued", user, {"name": label, "expires_at": expires.isoformat()}, at=now
    )
    return token


def revoke_token(by: User | str, user: User, token: ApiToken) -> None:
    """Revoke one of the user's tokens, recorded in the administration trail."""
    if token.user_id != user.id or token.revoked:
        return
    token.revoked = True
    administration.record(by, "token_revoked", user, {"name": token.name})


def own_token(user: User, token_id: int) -> ApiToken:
    """The user's unrevoked token with this number; `NotFound` for anyone else's."""
    found = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None
    if found is None or found.user_id != user.id or found.revoked:
        raise NotFound("There is no such API token of this user.")
    return found


def find_token(user: User, name_or_id: str) -> ApiToken | None:
    """The user's unrevoked token called `name_or_id`, or with that number."""
    for token in tokens_of(user):
        if token.name == name_or_id or str(token.id) == name_or_id:
            return token
    return None


def revoke_tokens(user: User) -> int:
    """Revoke every API token of the user; how many were still valid."""
    db.session.flush()
    done = db.session.connection().execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )
    return int(done.rowcount or 0)
