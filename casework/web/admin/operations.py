"""Changing user accounts from the administration pages."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casework.errors import InvalidFields, Refused
from casework.extensions import db
from casework.models import User, UserRole
from casework.services.cases import check_roles
from casework.workflow.fields import clean_text


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
    count: int = db.session.execute(
        sa.select(sa.func.count())
        .select_from(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != user.id)
    ).scalar_one()
    return count


def update_user(admin: User, user: User, display_name: Any, email: Any, roles: Any) -> None:
    """Change a user's name, e-mail and roles; the last administrator keeps the admin role."""
    errors: dict[str, list[str]] = {}
    try:
        name, address = clean_profile(display_name, email)
    except InvalidFields as exc:
        errors.update(exc.fields)
    try:
        wanted = check_roles([r for r in roles or [] if isinstance(r, str)])
    except InvalidFields as exc:
        errors.update(exc.fields)
    else:
        if "admin" in user.roles and "admin" not in wanted and other_admins(user) == 0:
            errors["roles"] = ["This is the last administrator: keep the admin role."]
    if errors:
        raise InvalidFields(errors)
    user.display_name = name
    user.email = address
    user.set_roles(wanted)


def refuse_self_lockout(admin: User, user: User) -> None:
    if admin.id == user.id:
        raise Refused("You cannot disable your own account.")
