"""Each user's choice of which kinds of e-mail notification they receive."""

from __future__ import annotations

from collections.abc import Iterable

from casework.errors import InvalidFields
from casework.library import library
from casework.models import User
from casework.notifications.outbox import optouts
from casework.notifications.rules import OVERDUE, Kind, kinds


def kinds_for(user: User) -> list[Kind]:
    """The kinds of notification the user's roles can bring them, in a fixed order."""
    roles = user.roles
    workflows = library().workflows
    relevant = []
    for kind in kinds().values():
        if kind.key == OVERDUE:
            # Anyone on staff can be given a case, or be expected to act on one.
            if "staff" in roles:
                relevant.append(kind)
            continue
        holders = set(kind.roles)
        for workflow in workflows:
            if kind in workflow.notifications:
                stand_in = workflow.access.stand_in
                holders |= {deputy for role, deputy in stand_in.items() if role in kind.roles}
        if roles & holders:
            relevant.append(kind)
    return relevant


def receives(user: User) -> dict[str, bool]:
    """For each kind relevant to the user: whether they receive it."""
    off = optouts(user)
    return {kind.key: kind.key not in off for kind in kinds_for(user)}


def set_preferences(user: User, wanted: Iterable[str]) -> None:
    """Receive exactly the `wanted` kinds of those relevant to the user; other choices are kept.

    Raises `InvalidFields` for a kind that does not exist.
    """
    wanted = set(wanted)
    unknown = wanted - set(kinds())
    if unknown:
        raise InvalidFields({"kinds": ["Choose among the kinds of e-mail listed."]})
    relevant = {kind.key for kind in kinds_for(user)}
    off = (optouts(user) - relevant) | (relevant - wanted)
    user.mail_optout = ",".join(sorted(off))
