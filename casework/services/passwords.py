"""Passwords: hashed with Argon2, checked, chosen well, confirmed before a change, changed.

Wrong current passwords count as failed sign-ins (`services.limits`); a change ends every
session and API token of the user (`sessions.end_access`).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from casework.errors import InvalidFields
from casework.models import User, utcnow
from casework.services import limits
from casework.services.sessions import end_access

log = logging.getLogger(__name__)

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


def check_secret(hashed: str, secret: str) -> bool:
    """Whether `secret` is the one `hashed` (argon2) was made from."""
    try:
        return bool(_hasher().verify(hashed, secret))
    except (VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    """Whether `password` is the user's; a hash in an outdated format is renewed."""
    if not user.password_hash or not isinstance(password, str):
        return False
    if not check_secret(user.password_hash, password):
        return False
    if _hasher().check_needs_rehash(user.password_hash):
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


def confirm_password(user: User, password: Any, address: str) -> None:
    """Check the password of a user who is signed in, before a change that needs it.

    Raises `InvalidFields` naming `current_password` when it is wrong (counted as a failed
    sign-in from `address`, which the caller keeps) and `limits.TooMany` past the limit.
    """
    now = utcnow()
    wait = limits.sign_in_refusal(user.username, address, now)
    if wait is None and isinstance(password, str) and check_password(user, password):
        return
    if wait is None:
        wait = limits.count_sign_in_failure(user.username, address, now)
        if wait is None:
            raise InvalidFields({"current_password": ["This is not your current password."]})
    hash_password("-")
    raise limits.TooMany(
        f"Too many wrong passwords for this name from here. Try again {limits.when(wait)}.",
        retry_after=wait,
        fields={"current_password": ["Too many wrong passwords; try again later."]},
    )


def change_password(
    user: User, current: Any, new: Any, confirm: Any, *, address: str = "local"
) -> None:
    """Set a new password the user chose; every other session and every API token of theirs
    ends (the caller signs the current session in again).

    Raises `InvalidFields` naming `current_password`, `new_password` or `confirm_password`, and
    `limits.TooMany` once wrong current passwords reach the sign-in limit: they count as failed
    sign-ins for the name from `address` (the caller keeps that count), so a borrowed session
    is no way to guess the password.
    """
    now = utcnow()
    wait = limits.sign_in_refusal(user.username, address, now)
    if wait is not None:
        hash_password("-")
        log.warning(
            "password change refused for %s from %s: too many failed attempts",
            user.username,
            address,
        )
        raise limits.TooMany(
            f"Too many wrong passwords for this name from here. Try again {limits.when(wait)}.",
            retry_after=wait,
            fields={"current_password": ["Too many wrong passwords; try again later."]},
        )
    errors: dict[str, list[str]] = {}
    if not isinstance(current, str) or not check_password(user, current):
        errors["current_password"] = ["This is not your current password."]
        limits.count_sign_in_failure(user.username, address, now)
    try:
        check_new_password(new)
    except InvalidFields as exc:
        errors["new_password"] = exc.fields["password"]
    if "new_password" not in errors:
        if new != confirm:
            errors["confirm_password"] = ["The two new passwords are not the same."]
        elif new == current:
            errors["new_password"] = ["Choose a password different from the current one."]
    if errors:
        raise InvalidFields(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    limits.forget_name(user.username)
    end_access(user)
