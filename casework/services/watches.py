"""Watches: the named checks a workflow runs over every case in a state, such as an account
whose administrators can no longer reach it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from casework.extensions import db
from casework.models import Case, Event, Person, User
from casework.services.audit import append_event
from casework.workflow import Workflow
from casework.workflow.definition import WatchDef
from casework.workflow.hooks import WATCHES


@dataclass(frozen=True)
class UserStanding:
    active: bool
    roles: frozenset[str]
    separated: bool


@dataclass(frozen=True)
class Flag:
    """A watch that flags a case now, and why."""

    watch: WatchDef
    reason: str


class _Watched:
    def __init__(self, case: Case, today: date) -> None:
        self.fields: Mapping[str, Any] = case.fields
        self._today = today

    def standing(self, usernames: Iterable[str]) -> dict[str, UserStanding]:
        return standing_of(usernames, self._today)


def standing_of(usernames: Iterable[str], today: date) -> dict[str, UserStanding]:
    """How the named users stand today: active, their roles, and whether they have left."""
    names = sorted(set(usernames))
    if not names:
        return {}
    rows = db.session.execute(
        sa.select(User, Person.separated_on)
        .outerjoin(Person, Person.user_id == User.id)
        .where(User.username.in_(names))
    ).all()
    return {
        user.username: UserStanding(
            user.active, user.roles, separated_on is not None and separated_on <= today
        )
        for user, separated_on in rows
    }


def flags(case: Case, workflow: Workflow, today: date) -> list[Flag]:
    """The watches of the case's state that flag it now."""
    found = []
    for watch in workflow.watches:
        if watch.state != case.state:
            continue
        reason = WATCHES[watch.check](_Watched(case, today))
        if reason:
            found.append(Flag(watch, reason))
    return found


def _last_flag_event(case: Case, key: str) -> dict[str, Any] | None:
    row = db.session.execute(
        sa.select(Event.action, Event.data_json)
        .where(Event.case_id == case.id, Event.action.in_(("flagged", "flag_cleared")))
        .order_by(Event.seq.desc())
    ).all()
    for action, data_json in row:
        event = Event(action=action, data_json=data_json)
        if event.data.get("watch") == key:
            return {"action": action, **event.data}
    return None


def record_flags(
    case: Case, workflow: Workflow, actor: str, now: datetime, today: date
) -> list[tuple[WatchDef, str | None]]:
    """Record on the case each watch whose verdict changed since it was last recorded: raised
    (with its reason) or cleared. Returns the changes; raised ones are to be told."""
    changes: list[tuple[WatchDef, str | None]] = []
    current = {flag.watch.key: flag.reason for flag in flags(case, workflow, today)}
    for watch in workflow.watches:
        if watch.state != case.state:
            continue
        last = _last_flag_event(case, watch.key)
        reason = current.get(watch.key)
        if reason is not None:
            if last and last["action"] == "flagged" and last.get("reason") == reason:
                continue
            append_event(
                case,
                actor,
                "flagged",
                {"watch": watch.key, "label": watch.label, "reason": reason},
                at=now,
            )
            changes.append((watch, reason))
        elif last and last["action"] == "flagged":
            append_event(
                case, actor, "flag_cleared", {"watch": watch.key, "label": watch.label}, at=now
            )
            changes.append((watch, None))
    return changes
