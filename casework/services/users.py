"""User accounts and their roles: every change to an account goes through here.

Each change an administrator (or the command line) makes to an account is an event in the
administration trail (`services.administration`); a password reset, "end sessions" and
disabling a user end every session and every API token of that user (`sessions.end_access`).
Passwords are `services.passwords`, API tokens `services.tokens`, and who makes a request
`services.requesters`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from casework.errors import Forbidden, InvalidFields, Refused
from casework.extensions import db
from casework.models import Person, User, UserRole
from casework.services import administration, limits
from casework.services.administration import SYSTEM_USERNAME
from casework.services.passwords import check_new_password, generate_password, hash_password
from casework.services.sessions import end_access
from casework.workflow import ROLES
from casework.workflow.fields import clean_text

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def check_roles(roles: Iterable[str]) -> list[str]:
    """Roles a person can be given (not the system's own), or `InvalidFields`."""
    roles = list(dict.fromkeys(roles))
    bad = [r for r in roles if r not in ROLES or r == "system"]
    if bad or not roles:
        assignable = ", ".join(r for r in ROLES if r != "system")
        raise InvalidFields({"roles": [f"Give one or more of: {assignable}."]})
    return roles


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


# --- changing accounts ------------------------------------------------------------------------


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
