"""Who has an account: the user accounts pages list, name and offer as choices (the built-in
`system` account is never offered)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Person, User

#: Ids above this are not in the table (nor can a database integer hold them).
MAX_ID = 2**31


def user_by_id(user_id: int) -> User | None:
    """The user with this id, or None."""
    return db.session.get(User, user_id) if user_id < MAX_ID else None


def accounts() -> list[User]:
    """Every user account but `system`, by user name."""
    return list(
        db.session.execute(
            sa.select(User).where(User.username != "system").order_by(User.username)
        ).scalars()
    )


def active_users() -> list[User]:
    """The active user accounts but `system`, by name."""
    return list(
        db.session.execute(
            sa.select(User)
            .where(User.active.is_(True), User.username != "system")
            .order_by(User.display_name, User.username)
        ).scalars()
    )


def active_users_but(user: User) -> list[User]:
    """The active user accounts but `system` and `user`, by name."""
    return list(
        db.session.execute(
            sa.select(User)
            .where(User.active.is_(True), User.username != "system", User.id != user.id)
            .order_by(User.display_name, User.username)
        ).scalars()
    )


def users_without_person() -> list[User]:
    """The user accounts (but `system`) no person is linked to yet, by name."""
    linked = sa.select(Person.user_id).where(Person.user_id.is_not(None))
    return list(
        db.session.execute(
            sa.select(User)
            .where(User.username != "system", User.id.not_in(linked))
            .order_by(User.display_name, User.username)
        ).scalars()
    )


def users_by_id(ids: Iterable[int]) -> dict[int, User]:
    """The users these ids name, by id."""
    return {
        u.id: u for u in db.session.execute(sa.select(User).where(User.id.in_(set(ids)))).scalars()
    }


def display_names(usernames: Iterable[str]) -> dict[str, str]:
    """The display names of these user names (the user name where a user has none)."""
    wanted = {u for u in usernames if isinstance(u, str)}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(User.username, User.display_name).where(User.username.in_(wanted))
    )
    return {name: display or name for name, display in rows}
