"""User accounts, passwords and API tokens: every change to an account goes through here.

Each change an administrator (or the command line) makes to an account is an event in the
administration trail (`services.administration`); a password change, a reset, "end sessions"
and disabling a user end every session and every API token of that user.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy.orm import joinedload

from casework.errors import Forbidden, InvalidFields, NotFound, NotSignedIn, Refused
from casework.extensions import db
from casework.models import ApiToken, Person, User, UserRole, UserSession, utcnow
from casework.services import administration, limits
from casework.services.access import remember_person_id
from casework.services.db import begin_write
from casework.workflow import ROLES
from casework.workflow.fields import clean_text

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
SYSTEM_USERNAME = "system"
TOKEN_PREFIX = "cw_"
MIN_PASSWORD = 10


def check_roles(roles: Iterable[str]) -> list[str]:
    """Roles a person can be given (not the system's own), or `InvalidFields`."""
    roles = list(dict.fromkeys(roles))
    bad = [r for r in roles if r not in ROLES or r == "system"]
    if bad or not roles:
        assignable = ", ".join(r for r in ROLES if r != "system")
        raise InvalidFields({"roles": [f"Give one or more of: {assignable}."]})
    return roles


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
    by: User | str = SYSTEM_USERNAME,
) -> User:
    """Add a user with roles, recorded in the administration trail as done `by` someone.

    Raises `InvalidFields` for a bad or taken name or unknown roles.
    """
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
    administration.record(
        by,
        "user_added",
        user,
        {
            "roles": user.assigned_roles,
            "email": user.email,
            "name": user.display_name,
            "one_time_password": bool(password) and must_change_password,
        },
    )
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


#: A token's last use is written at most this often: a busy script costs one write a minute.
LAST_USED_EVERY = timedelta(minutes=1)
MAX_TOKEN_DAYS = 3660


class TokenExpired(NotSignedIn):
    """A bearer token that was valid and has reached its expiry."""


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
            token_hash=_token_hash(token),
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


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, if the token is valid.

    Raises `TokenExpired` for a token past its expiry. The token's last use is written at most
    once a minute.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.execute(_TOKEN_USER, {"token_hash": _token_hash(token)}).unique().first()
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


# --- changing accounts ------------------------------------------------------------------------


def end_sessions(user: User) -> None:
    """End every web session of the user at once (their own sign-out everywhere)."""
    user.session_generation += 1
    begin_write()
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def revoke_tokens(user: User) -> int:
    """Revoke every API token of the user; how many were still valid."""
    db.session.flush()
    done = db.session.connection().execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked.is_(False))
        .values(revoked=True)
    )
    return int(done.rowcount or 0)


def end_access(user: User) -> int:
    """End every session and every API token of the user; how many tokens ended."""
    end_sessions(user)
    return revoke_tokens(user)


def clean_profile(display_name: Any, email: Any) -> tuple[str, str | None]:
    """A display name and an e-mail address, or `InvalidFields` naming the bad one."""
    errors: dict[str, list[str]] = {}
    name = ""
    try:
        name = clean_text(display_name or "", multiline=False, max_length=200)
    except ValueError as exc:
        errors["display_name"] = [str(exc)]
    address: str | None = None
    try:
        address = clean_text(email or "", multiline=False, max_length=320) or None
    except ValueError as exc:
        errors["email"] = [str(exc)]
    if address and ("@" not in address or " " in address or address.startswith("@")):
        errors["email"] = ["Must be an e-mail address such as name@library.example."]
    if errors:
        raise InvalidFields(errors)
    return name, address


def other_admins(user: User) -> int:
    """How many active administrators there are besides `user`."""
    count: int = db.session.execute(
        sa.select(sa.func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    ).scalar_one()
    return count


OWN_ROLES = (
    "Nobody changes their own roles: another administrator must change yours. Nothing was saved."
)


def update_user(by: User, user: User, display_name: Any, email: Any, roles: Any) -> None:
    """Change a user's name, e-mail address and roles, each change recorded in the trail.

    Raises `Forbidden` when `by` changes their own roles, and `InvalidFields` for a bad name,
    address or role, or for taking the admin role from the last administrator.
    """
    errors: dict[str, list[str]] = {}
    name, address = user.display_name, user.email
    try:
        name, address = clean_profile(display_name, email)
    except InvalidFields as exc:
        errors.update(exc.fields)
    wanted: list[str] = []
    try:
        wanted = check_roles([r for r in roles or [] if isinstance(r, str)])
    except InvalidFields as exc:
        errors.update(exc.fields)
    else:
        if by.id == user.id and set(wanted) != set(user.assigned_roles):
            raise Forbidden(OWN_ROLES)
        if "admin" in user.roles and "admin" not in wanted and other_admins(user) == 0:
            errors["roles"] = ["This is the last administrator: keep the admin role."]
    if errors:
        raise InvalidFields(errors)
    before = set(user.assigned_roles)
    old_name, old_address = user.display_name, user.email
    user.display_name = name
    user.email = address
    user.set_roles(wanted)
    granted = sorted(set(wanted) - before)
    removed = sorted(before - set(wanted))
    if granted or removed:
        administration.record(
            by,
            "roles_changed",
            user,
            {"granted": granted, "removed": removed, "roles": sorted(wanted)},
        )
    if (old_address or None) != (address or None):
        administration.record(
            by,
            "email_changed",
            user,
            {"from": old_address, "to": address},
            also_tell=(old_address,) if old_address else (),
        )
    if old_name != name:
        administration.record(by, "name_changed", user, {"from": old_name, "to": name})


def refuse_self_lockout(by: User, user: User) -> None:
    if by.id == user.id:
        raise Refused("You cannot disable your own account.")


def set_active(by: User | str, user: User, active: bool) -> None:
    """Enable or disable a user; disabling ends every session and API token at once.

    Raises `Refused` when an administrator would disable their own account.
    """
    if isinstance(by, User) and not active:
        refuse_self_lockout(by, user)
    if user.active == active:
        return
    ended = 0
    if not active:
        ended = end_access(user)
    user.active = active
    if active:
        administration.record(by, "user_enabled", user)
    else:
        administration.record(by, "user_disabled", user, {"tokens_ended": ended})


def reset_password(by: User | str, user: User) -> str:
    """Give the user a one-time password (to change at next sign-in); every session and API
    token of theirs ends. Recorded in the trail; the password itself is not."""
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    limits.forget_name(user.username)
    ended = end_access(user)
    administration.record(by, "password_reset", user, {"tokens_ended": ended})
    return password


def end_user_sessions(by: User | str, user: User) -> None:
    """An administrator ends every session and API token of a user, recorded in the trail."""
    ended = end_access(user)
    administration.record(by, "sessions_ended", user, {"tokens_ended": ended})


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


# --- one person, one approval -----------------------------------------------------------------


def _mail_key(address: str) -> str:
    """An address as it names a mailbox: lower case, without a `+tag` in its local part."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _name_key(name: str) -> str:
    return " ".join(name.casefold().replace(".", " ").replace(",", " ").split())


def identity_marks(usernames: list[str]) -> dict[str, set[str]]:
    """What identifies the person behind each account: its e-mail address (without a +tag),
    its full name, and the name of the person record linked to it."""
    if not usernames:
        return {}
    rows = db.session.execute(
        sa.select(User.username, User.email, User.display_name, Person.name)
        .outerjoin(Person, Person.user_id == User.id)
        .where(User.username.in_(usernames))
    )
    marks: dict[str, set[str]] = {name: set() for name in usernames}
    for username, email, display_name, person_name in rows:
        found = marks.setdefault(username, set())
        if email and "@" in email:
            found.add("mail:" + _mail_key(email))
        for name in (display_name, person_name):
            if name and _name_key(name):
                found.add("name:" + _name_key(name))
    return marks


def same_person(first: str, second: str) -> bool:
    """Whether two accounts belong to one person: the same user, or the same e-mail address
    or full name (on the account or its person record)."""
    if first == second:
        return True
    marks = identity_marks([first, second])
    return bool(marks.get(first, set()) & marks.get(second, set()))
