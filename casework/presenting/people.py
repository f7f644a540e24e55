"""Members of staff as records name them: full name and role, "Dana Whitfield, Library Director"."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, Person, User
from casework.presenting.words import principal_role, role_label, with_role

#: The user name of Casework's own automatic steps (the sweep, the command line).
SYSTEM = "system"


@dataclass(frozen=True)
class StaffMember:
    """A user as records name them."""

    username: str
    #: The person's full name (their employee record's, else the name on their account).
    name: str
    roles: frozenset[str]

    def titled(self, allowed: Iterable[str] = ()) -> str:
        """Their name and the role they acted in (of `allowed`, the roles a step took), else
        their highest role."""
        if self.username == SYSTEM:
            return role_label(SYSTEM)
        return with_role(self.name, principal_role(self.roles - {SYSTEM}, allowed))


def staff_members(usernames: Iterable[str]) -> dict[str, StaffMember]:
    """The users with these user names, by user name (unknown names are left out)."""
    wanted = {u for u in usernames if isinstance(u, str) and u}
    if not wanted:
        return {}
    users = db.session.execute(sa.select(User).where(User.username.in_(wanted))).scalars().all()
    rows = db.session.execute(
        sa.select(Person.user_id, Person.name).where(Person.user_id.in_([u.id for u in users]))
    )
    full = {user_id: name for user_id, name in rows}
    return {
        u.username: StaffMember(u.username, full.get(u.id) or u.name, frozenset(u.assigned_roles))
        for u in users
    }


def staff_titles(usernames: Iterable[str]) -> dict[str, str]:
    """Each user name's "Full Name, Role"; a name no user has stays as it is."""
    wanted = [u for u in usernames if isinstance(u, str)]
    found = staff_members(wanted)
    return {u: found[u].titled() if u in found else _unknown(u) for u in wanted}


def _unknown(username: str) -> str:
    return role_label(SYSTEM) if username == SYSTEM else username


def titled(user: User) -> str:
    """One signed-in user as records name them: "Dana Whitfield, Library Director"."""
    return staff_members([user.username]).get(user.username, _fallback(user)).titled()


def _fallback(user: User) -> StaffMember:
    return StaffMember(user.username, user.name, frozenset(user.roles))


def staff_of(case: Case, events: Sequence[Event]) -> dict[str, StaffMember]:
    """The members of staff a record names: who opened the case, its assignee, everyone who
    acted in its trail and everyone it was assigned to."""
    names = {e.actor for e in events}
    names.add(case.reporter.username)
    if case.assignee is not None:
        names.add(case.assignee.username)
    for e in events:
        if e.action in ("assign", "created"):
            data = e.data
            given = (data.get("from"), data.get("to"), data.get("assignee"))
            names.update(str(v) for v in given if v)
    return staff_members(names)
